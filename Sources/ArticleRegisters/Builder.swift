/// Writes a register unit by unit: the title catalogue, units, quotas, seats, people and who
/// holds what, with their trainings and ratings.
struct Builder {
    enum Secretary { case committee, council, neither }

    let prefix: String
    let province: String
    var sql = RegisterSQL()
    private var counters: [String: Int] = [:]
    private var communeOf: [String: String] = [:]
    /// Who is at work, in the order they were added: at the commune (and whether a cadre or
    /// civil servant), in a hamlet, and the heads of each commune's hamlets.
    private var atCommune: [(person: String, cadre: Bool)] = []
    private var inHamlets: [String] = []
    private var heads: [(commune: String, person: String)] = []
    private var communes: [String] = []

    /// The titles: cadres, civil servants, non-specialised at commune level, and the three of a hamlet.
    static let titles: [(code: String, vi: String, en: String, category: String, holders: Int?)] = [
        ("bi_thu_dang_uy", "Bí thư đảng ủy", "Party secretary", "cadre", 1),
        ("pho_bi_thu_dang_uy", "Phó bí thư đảng ủy", "Deputy party secretary", "cadre", 1),
        ("chu_tich_hdnd", "Chủ tịch HĐND", "People's Council chair", "cadre", 1),
        ("pho_chu_tich_hdnd", "Phó chủ tịch HĐND", "People's Council vice-chair", "cadre", 1),
        ("chu_tich_ubnd", "Chủ tịch UBND", "People's Committee chair", "cadre", 1),
        ("pho_chu_tich_ubnd", "Phó chủ tịch UBND", "People's Committee vice-chair", "cadre", 2),
        ("chu_tich_mttq", "Chủ tịch Ủy ban MTTQ", "Fatherland Front chair", "cadre", 1),
        ("bi_thu_doan_tn", "Bí thư Đoàn TNCS HCM", "Youth Union secretary", "cadre", 1),
        ("chu_tich_hoi_phu_nu", "Chủ tịch Hội Liên hiệp Phụ nữ", "Women's Union chair", "cadre", 1),
        ("chu_tich_hoi_nong_dan", "Chủ tịch Hội Nông dân", "Farmers' Union chair", "cadre", 1),
        ("chu_tich_hoi_ccb", "Chủ tịch Hội Cựu chiến binh", "Veterans' Association chair", "cadre", 1),
        ("chi_huy_truong_quan_su", "Chỉ huy trưởng Quân sự", "Military commander", "civil_servant", 1),
        ("van_phong_thong_ke", "Văn phòng - thống kê", "Office and statistics", "civil_servant", nil),
        ("dia_chinh_xay_dung", "Địa chính - xây dựng", "Land administration and construction", "civil_servant", nil),
        ("tai_chinh_ke_toan", "Tài chính - kế toán", "Finance and accounting", "civil_servant", nil),
        ("tu_phap_ho_tich", "Tư pháp - hộ tịch", "Justice and civil status", "civil_servant", nil),
        ("van_hoa_xa_hoi", "Văn hóa - xã hội", "Culture and society", "civil_servant", nil),
        ("pho_chi_huy_truong_quan_su", "Phó Chỉ huy trưởng Quân sự", "Deputy military commander", "nonspecialised_commune", 1),
        ("pho_chu_tich_mttq", "Phó Chủ tịch Ủy ban MTTQ", "Fatherland Front vice-chair", "nonspecialised_commune", 1),
        ("pho_bi_thu_doan_tn", "Phó Bí thư Đoàn TNCS HCM", "Youth Union deputy secretary", "nonspecialised_commune", 1),
        ("pho_chu_tich_hoi_phu_nu", "Phó Chủ tịch Hội Phụ nữ", "Women's Union vice-chair", "nonspecialised_commune", 1),
        ("pho_chu_tich_hoi_nong_dan", "Phó Chủ tịch Hội Nông dân", "Farmers' Union vice-chair", "nonspecialised_commune", 1),
        ("pho_chu_tich_hoi_ccb", "Phó Chủ tịch Hội Cựu chiến binh", "Veterans' Association vice-chair", "nonspecialised_commune", 1),
        ("chu_tich_hoi_nguoi_cao_tuoi", "Chủ tịch Hội Người cao tuổi", "Elderly Association chair", "nonspecialised_commune", 1),
        ("chu_tich_hoi_chu_thap_do", "Chủ tịch Hội Chữ thập đỏ", "Red Cross chair", "nonspecialised_commune", 1),
        ("van_thu_luu_tru", "Văn thư - lưu trữ", "Records clerk", "nonspecialised_commune", 1),
        ("thu_quy", "Thủ quỹ", "Cashier", "nonspecialised_commune", 1),
        ("thu_y", "Thú y", "Veterinary", "nonspecialised_commune", 1),
        ("khuyen_nong", "Khuyến nông", "Agricultural extension", "nonspecialised_commune", 1),
        ("bi_thu_chi_bo", "Bí thư chi bộ", "Party-cell secretary", "nonspecialised_hamlet", 1),
        ("truong_thon", "Trưởng thôn, tổ trưởng tổ dân phố", "Hamlet head", "nonspecialised_hamlet", 1),
        ("truong_ban_cong_tac_mat_tran", "Trưởng ban công tác Mặt trận", "Front work committee head", "nonspecialised_hamlet", 1),
    ]

    init(prefix: String, province: String) {
        self.prefix = prefix
        self.province = province
        for title in Self.titles {
            sql.add("titles", [
                "id": .text("t-" + title.code), "code": .text(title.code), "name_vi": .text(title.vi), "name_en": .text(title.en),
                "category": .text(title.category), "level": title.category == "nonspecialised_hamlet" ? "hamlet" : "commune",
                "max_holders": title.holders.map(RegisterSQL.Cell.integer) ?? .null,
            ])
        }
    }

    private mutating func next(_ kind: String) -> Int {
        counters[kind, default: 0] += 1
        return counters[kind]!
    }

    mutating func unit(_ id: String, code: String, name: String, kind: String, parent: String?, to: String? = nil, successor: String? = nil) {
        sql.add("units", [
            "id": .text(id), "code": .text(code), "name": .text(name), "kind": .text(kind), "parent_id": .init(parent),
            "effective_from": nil, "effective_to": .init(to), "successor_id": .init(successor),
        ])
        if ["commune", "ward", "township"].contains(kind) { communes.append(id) }
    }

    mutating func quota(_ unit: String, _ category: String, _ max: Int, basis: String, from: String) {
        sql.add("quotas", [
            "id": .text("q-\(prefix)-\(next("quota"))"), "unit_id": .text(unit), "category": .text(category), "max_headcount": .integer(max),
            "legal_basis": .text(basis), "effective_from": .text(from),
        ])
    }

    mutating func seat(unit: String, commune: String, title: String, number: Int) -> String {
        let id = "pos-\(prefix)-\(next("seat"))"
        sql.add("positions", [
            "id": .text(id), "commune_id": .text(commune), "unit_id": .text(unit), "title_id": .text("t-" + title),
            "seat_no": .integer(number), "capacity": 1,
        ])
        return id
    }

    mutating func person(commune: String, degree: String, theory: String, management: String) -> String {
        let number = next("person")
        let id = "p-\(prefix)-\(number)"
        let female = number % 3 == 1
        let year = 1962 + (number * 7) % 34
        let citizen = "\(province)\(female ? 1 : 0)\(String(format2: year % 100))\(String(100_000 + number).suffix(6))"
        sql.add("persons", [
            "id": .text(id), "commune_id": .text(commune), "full_name": .text(fullName(number, female: female)),
            "birth_date": .text("\(year)-\(String(format2: 1 + number % 12))-\(String(format2: 1 + number % 28))"),
            "gender": .text(female ? "female" : "male"), "ethnicity": .text(number % 9 == 4 ? "Dao" : number % 11 == 6 ? "Tày" : "Kinh"),
            "citizen_id": .text(citizen), "degree": .text(degree), "political_theory": .text(theory),
            "state_management": .text(management), "status": "active",
        ])
        communeOf[id] = commune
        return id
    }

    mutating func assign(_ person: String, to seat: String, commune: String, concurrent: Bool = false, start: String, end: String? = nil) {
        let number = next("assignment")
        sql.add("assignments", [
            "id": .text("a-\(prefix)-\(number)"), "commune_id": .text(commune), "person_id": .text(person), "position_id": .text(seat),
            "kind": .text(concurrent ? "concurrent" : "primary"), "decision_no": .text("\(number)/QĐ-UBND"), "decision_date": .text(start),
            "start_date": .text(start), "end_date": .init(end),
        ])
    }

    mutating func training(_ person: String, field: String, start: String, end: String) {
        let courses = ["political_theory": "Trung cấp lý luận chính trị", "state_management": "Bồi dưỡng quản lý nhà nước",
                       "professional": "Bồi dưỡng nghiệp vụ", "it": "Tin học ứng dụng", "other": "Bồi dưỡng kỹ năng"]
        sql.add("trainings", [
            "id": .text("tr-\(prefix)-\(next("training"))"), "commune_id": .text(communeOf[person]!), "person_id": .text(person),
            "field": .text(field), "course": .text(courses[field] ?? field), "start_date": .text(start), "end_date": .text(end),
        ])
    }

    mutating func rate(_ person: String, year: Int, _ rating: String) {
        sql.add("evaluations", [
            "id": .text("e-\(prefix)-\(next("evaluation"))"), "commune_id": .text(communeOf[person]!), "person_id": .text(person),
            "year": .integer(year), "proposed_rating": .text(rating), "rating": .text(rating),
        ])
    }

    /// A commune's cadres and civil servants: the party secretary (also chairing the People's
    /// Committee or Council, or neither), then one person a seat down the list. `profile`
    /// gives the degree, political theory and state management of the n-th of the district.
    mutating func cadres(
        of unit: String, count: Int, secretary: Secretary, councils: Bool = true, start: String, end: String? = nil,
        profile: (Int) -> (String, String, String)
    ) {
        var seats: [(String, Int)] = [("chu_tich_ubnd", 1)]
        if councils { seats += [("chu_tich_hdnd", 1), ("pho_chu_tich_hdnd", 1)] }
        seats += [
            ("pho_bi_thu_dang_uy", 1), ("pho_chu_tich_ubnd", 1), ("pho_chu_tich_ubnd", 2), ("chu_tich_mttq", 1), ("bi_thu_doan_tn", 1),
            ("chu_tich_hoi_phu_nu", 1), ("chu_tich_hoi_nong_dan", 1), ("chu_tich_hoi_ccb", 1), ("chi_huy_truong_quan_su", 1),
        ]
        for number in 1...3 {
            for title in ["van_phong_thong_ke", "dia_chinh_xay_dung", "tai_chinh_ke_toan", "tu_phap_ho_tich", "van_hoa_xa_hoi"] {
                seats.append((title, number))
            }
        }
        let chaired: String? = switch secretary {
        case .committee: "chu_tich_ubnd"
        case .council: "chu_tich_hdnd"
        case .neither: nil
        }
        seats.removeAll { $0.0 == chaired }
        precondition(count - 1 <= seats.count, "more cadres than seats")
        for index in 0..<count {
            let (degree, theory, management) = profile(atCommune.filter(\.cadre).count)
            let person = person(commune: unit, degree: degree, theory: theory, management: management)
            if index == 0 {
                assign(person, to: seat(unit: unit, commune: unit, title: "bi_thu_dang_uy", number: 1), commune: unit, start: start, end: end)
                if let chaired {
                    assign(person, to: seat(unit: unit, commune: unit, title: chaired, number: 1), commune: unit, concurrent: true, start: start,
                           end: end)
                }
            } else {
                let (title, number) = seats[index - 1]
                assign(person, to: seat(unit: unit, commune: unit, title: title, number: number), commune: unit, start: start, end: end)
            }
            atCommune.append((person, true))
        }
    }

    /// A commune's non-specialised staff, one seat each.
    mutating func nonspecialised(of unit: String, count: Int, start: String, end: String? = nil, profile: (Int) -> (String, String, String)) {
        let titles = Self.titles.filter { $0.category == "nonspecialised_commune" }.map(\.code)
        precondition(count <= titles.count, "more non-specialised staff than titles")
        for title in titles.prefix(count) {
            let (degree, theory, management) = profile(atCommune.filter { !$0.cadre }.count)
            let person = person(commune: unit, degree: degree, theory: theory, management: management)
            assign(person, to: seat(unit: unit, commune: unit, title: title, number: 1), commune: unit, start: start, end: end)
            atCommune.append((person, false))
        }
    }

    /// A hamlet's staff: the party-cell secretary and the head (one person holding both, or
    /// two), and a separate head of the Front work committee where asked.
    mutating func hamlet(
        _ hamlet: String, of commune: String, secretaryIsHead: Bool, separateFrontHead: Bool, start: String, end: String? = nil,
        profile: (Int) -> (String, String, String)
    ) {
        func staff(_ titles: [String]) {
            let (degree, theory, management) = profile(inHamlets.count)
            let person = person(commune: commune, degree: degree, theory: theory, management: management)
            for (index, title) in titles.enumerated() {
                assign(person, to: seat(unit: hamlet, commune: commune, title: title, number: 1), commune: commune, concurrent: index > 0,
                       start: start, end: end)
            }
            inHamlets.append(person)
            if titles.contains("truong_thon") { heads.append((commune, person)) }
        }
        if secretaryIsHead {
            staff(["truong_thon", "bi_thu_chi_bo"])
        } else {
            staff(["truong_thon"])
            staff(["bi_thu_chi_bo"])
        }
        if separateFrontHead { staff(["truong_ban_cong_tac_mat_tran"]) }
    }

    func people(at level: String) -> Int { level == "hamlet" ? inHamlets.count : atCommune.count }

    func placed(at level: String, cadre: Bool? = nil) -> [String] {
        level == "hamlet" ? inHamlets : atCommune.filter { cadre == nil || $0.cadre == cadre }.map(\.person)
    }

    /// The heads of the hamlets of the first `count` communes.
    func heads(inFirst count: Int) -> [String] {
        let first = Set(communes.prefix(count))
        return heads.filter { first.contains($0.commune) }.map(\.person)
    }

    func finish(name: String, summary: String, asOf: String, ratingYear: Int, trainingsSince: String) -> ArticleRegister {
        let tables = ["units", "titles", "quotas", "positions", "persons", "assignments", "evaluations", "trainings"]
        return ArticleRegister(
            name: name, summary: summary, asOf: asOf, ratingYear: ratingYear, trainingsSince: trainingsSince, sql: sql.text,
            rows: Dictionary(uniqueKeysWithValues: tables.map { ($0, sql.count($0)) }))
    }
}
