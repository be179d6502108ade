/// The register of commune officials (see DOMAIN.md): units, titles and quotas set by the
/// district; people, seats, who holds which seat, ratings and training kept by communes.
///
/// Columns carry no NOT NULL or CHECK constraints: a row arrives field by field from other
/// replicas, and rules across rows are checked by the conflict rules, not by SQLite.
extension RegisterSchema {
    /// The register as this release describes it, every version's columns included.
    public static let latest = RegisterSchema(version: 2, tables: [
        TableSchema(
            name: "units", summary: "Administrative units: district, commune-level units and hamlets or residential groups, effective-dated with their lineage.",
            owner: .district,
            columns: [
                ColumnSchema("code", .text, "official statistical-office code (province 2, district 3, commune 5 digits); codes are reused, never a key"),
                ColumnSchema("name", .text, "official name, e.g. 'Xã Quảng Tân'"),
                ColumnSchema("kind", .text, "district | commune | ward | township | hamlet | residential_group"),
                ColumnSchema("parent_id", .text, "units.id of the unit above (commune of a hamlet, district of a commune)"),
                ColumnSchema("classification", .text, "commune class I, II or III (sets quotas); NULL for other kinds"),
                ColumnSchema("effective_from", .text, "ISO date the unit came into force"),
                ColumnSchema("effective_to", .text, "ISO date the unit ended (merged, split), NULL while in force"),
                ColumnSchema("successor_id", .text, "units.id of the main successor after a merger or split"),
            ]),
        TableSchema(
            name: "titles", summary: "The catalogue of official titles (chức danh).",
            owner: .district,
            columns: [
                ColumnSchema("code", .text, "stable short code, e.g. 'bi_thu_chi_bo'"),
                ColumnSchema("name_vi", .text, "Vietnamese name, e.g. 'Bí thư chi bộ'"),
                ColumnSchema("name_en", .text, "English name"),
                ColumnSchema("category", .text, "cadre | civil_servant | nonspecialised_commune | nonspecialised_hamlet"),
                ColumnSchema("level", .text, "commune | hamlet"),
                ColumnSchema("max_holders", .integer, "holders allowed per unit (1 for single-holder cadre titles)"),
                ColumnSchema("allowance_coefficient", .real, "leadership allowance coefficient (ND 33/2023), e.g. 0.30"),
            ]),
        TableSchema(
            name: "quotas", summary: "Allowed head-count per unit and category, with its legal basis.",
            owner: .district,
            columns: [
                ColumnSchema("unit_id", .text, "units.id"),
                ColumnSchema("category", .text, "cadre_civil_servant | nonspecialised_commune | nonspecialised_hamlet"),
                ColumnSchema("max_headcount", .integer, "allowed head-count"),
                ColumnSchema("legal_basis", .text, "decree or decision, e.g. 'ND 33/2023'"),
                ColumnSchema("effective_from", .text, "ISO date"),
                ColumnSchema("effective_to", .text, "ISO date, NULL while in force"),
            ]),
        TableSchema(
            name: "persons", summary: "People who hold or held a title.",
            owner: .shared,
            columns: [
                ColumnSchema("commune_id", .text, "units.id of the commune whose office keeps this record (the sync scope)"),
                ColumnSchema("full_name", .text, "full name as on the citizen id"),
                ColumnSchema("birth_date", .text, "ISO date"),
                ColumnSchema("gender", .text, "male | female"),
                ColumnSchema("ethnicity", .text, "ethnic group, e.g. 'Kinh', 'Tày', 'Dao'"),
                ColumnSchema("citizen_id", .text, "12-digit citizen identity number (CCCD); matches the same person across replicas"),
                ColumnSchema("phone", .text, "contact phone"),
                ColumnSchema("email", .text, "contact e-mail"),
                ColumnSchema("party_member", .integer, "1 if a Communist Party member, else 0"),
                ColumnSchema("party_joined_on", .text, "ISO date of party admission"),
                ColumnSchema("general_education", .text, "general education level, e.g. '12/12'"),
                ColumnSchema("degree", .text, "highest degree: none | intermediate | college | university | master | doctor"),
                ColumnSchema("major", .text, "field of the highest degree"),
                ColumnSchema("political_theory", .text, "political-theory level: none | elementary | intermediate | advanced (sơ cấp / trung cấp / cao cấp)"),
                ColumnSchema("state_management", .text, "state-management training level"),
                ColumnSchema("it_level", .text, "IT qualification"),
                ColumnSchema("languages", .text, "foreign or ethnic-minority languages"),
                ColumnSchema("status", .text, "active | retired | transferred | deceased | merged (a duplicate record, see merged_into)"),
                ColumnSchema("note", .text, "free text"),
                ColumnSchema("merged_into", .text, "persons.id of the record this one was merged into by a reviewer; NULL otherwise", since: 2),
            ]),
        TableSchema(
            name: "positions", summary: "Seats: a title in a unit, with its seat number and capacity.",
            owner: .shared,
            columns: [
                ColumnSchema("commune_id", .text, "units.id of the commune (sync scope)"),
                ColumnSchema("unit_id", .text, "units.id of the commune or hamlet where the seat is"),
                ColumnSchema("title_id", .text, "titles.id"),
                ColumnSchema("seat_no", .integer, "seat number within the unit and title, from 1"),
                ColumnSchema("capacity", .integer, "active holders allowed at once (normally 1)"),
                ColumnSchema("allowance_coefficient", .real, "allowance coefficient of this seat"),
                ColumnSchema("note", .text, "free text"),
            ]),
        TableSchema(
            name: "assignments", summary: "Who holds which position: primary or concurrent (kiêm nhiệm), by which decision, from when to when. Ending an assignment is an update, never a delete.",
            owner: .shared,
            columns: [
                ColumnSchema("commune_id", .text, "units.id of the commune (sync scope)"),
                ColumnSchema("person_id", .text, "persons.id"),
                ColumnSchema("position_id", .text, "positions.id"),
                ColumnSchema("kind", .text, "primary | concurrent"),
                ColumnSchema("decision_no", .text, "number of the appointment decision, e.g. '125/QĐ-UBND'"),
                ColumnSchema("decision_date", .text, "ISO date of the decision"),
                ColumnSchema("decided_by", .text, "authority that decided, e.g. 'UBND huyện Đầm Hà'"),
                ColumnSchema("start_date", .text, "ISO date the holding starts"),
                ColumnSchema("end_date", .text, "ISO date the holding ends, NULL while active"),
                ColumnSchema("end_reason", .text, "why it ended (rotation, retirement, conflict rule, ...)"),
                ColumnSchema("concurrent_allowance_paid", .integer, "1 if the concurrent-holding allowance is paid for this assignment"),
            ]),
        TableSchema(
            name: "evaluations", summary: "Yearly ratings.",
            owner: .shared,
            columns: [
                ColumnSchema("commune_id", .text, "units.id of the commune (sync scope)"),
                ColumnSchema("person_id", .text, "persons.id"),
                ColumnSchema("year", .integer, "evaluation year"),
                ColumnSchema("proposed_rating", .text, "rating proposed by the commune: excellent | good | completed | not_completed"),
                ColumnSchema("rating", .text, "rating decided by the competent authority"),
                ColumnSchema("decided_by", .text, "authority that decided the rating"),
                ColumnSchema("decision_no", .text, "decision number"),
                ColumnSchema("disciplined", .integer, "1 if disciplined in the year (then rated not_completed)"),
                ColumnSchema("note", .text, "free text"),
            ]),
        TableSchema(
            name: "trainings", summary: "Courses attended.",
            owner: .shared,
            columns: [
                ColumnSchema("commune_id", .text, "units.id of the commune (sync scope)"),
                ColumnSchema("person_id", .text, "persons.id"),
                ColumnSchema("field", .text, "professional | political_theory | state_management | it | language | other"),
                ColumnSchema("course", .text, "course name"),
                ColumnSchema("institution", .text, "training institution"),
                ColumnSchema("start_date", .text, "ISO date"),
                ColumnSchema("end_date", .text, "ISO date"),
                ColumnSchema("certificate", .text, "certificate or degree obtained"),
                ColumnSchema("certificate_no", .text, "certificate number"),
            ]),
    ])
}
