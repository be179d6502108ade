/// Registers built from the figures of the two source articles (DOMAIN.md, "What district
/// staff read off the register"): Huyện Đầm Hà (Quảng Ninh) in 2017 and Quận Long Biên (Hà
/// Nội) in 2023, with their official unit codes. Each is plain SQL a district types at its
/// hub (loaded through the hub's ordinary write path, as any district edit), and the hub's
/// reports read every figure of the article back off it, exactly.
///
/// Names, birth dates and citizen ids are made up; counts, quotas and shares are the
/// articles'. Where an article leaves something open the register fills it plainly (see
/// each register's summary).
public struct ArticleRegister: Sendable {
    /// The name `syncbench fixture` and `Deploy/fixtures/load.sh` know it by.
    public let name: String
    public let summary: String
    /// The day the article's figures are read on, the year its ratings are of, and the day
    /// its trainings are counted from.
    public let asOf: String
    public let ratingYear: Int
    public let trainingsSince: String
    /// The INSERT statements, for SQLite and PostgreSQL alike.
    public let sql: String
    /// How many rows each table gets.
    public let rows: [String: Int]

    public static let all: [ArticleRegister] = [damHa2017, longBien2023]

    public static func named(_ name: String) -> ArticleRegister? { all.first { $0.name == name } }

    // MARK: - Huyện Đầm Hà, 2017

    /// Đầm Hà 2017: 10 commune-level units (Xã Quảng Lợi among them, merged into Quảng Tân
    /// from 2020) and 76 hamlets. Commune cadres and civil servants 214 of 234 allowed;
    /// non-specialised commune level 104 of 206; hamlet level 156 of 228 posts (three a
    /// hamlet); Xã Đầm Hà 19 of 23 and 11 of 12; the cell secretary is the hamlet head in all
    /// 76 hamlets (9 of 9 in Xã Đầm Hà), so 156 posts are filled by 80 people; the party
    /// secretary chairs the People's Committee in 5 communes and the People's Council in 3;
    /// 736 training attendances since 2015, 264 of them by hamlet staff; of the commune's
    /// cadres and civil servants 96.26 % have secondary-vocational level or above, 92.06 %
    /// political theory and 91.12 % state-management training. Three people whose titles
    /// ended in 2016 are on the register and counted nowhere.
    public static let damHa2017: ArticleRegister = {
        var register = Builder(prefix: "dh", province: "022")
        register.unit("unit-200", code: "200", name: "Huyện Đầm Hà", kind: "district", parent: nil)
        // (code, name, kind, cadres and civil servants allowed / in post, non-specialised
        // allowed / in post, hamlets, what the party secretary also chairs)
        let communes: [(String, String, String, Int, Int, Int, Int, Int, Builder.Secretary)] = [
            ("06895", "Thị trấn Đầm Hà", "township", 25, 23, 22, 11, 8, .committee),
            ("06898", "Xã Quảng Lâm", "commune", 25, 23, 22, 11, 8, .council),
            ("06901", "Xã Quảng An", "commune", 25, 22, 22, 10, 8, .committee),
            ("06904", "Xã Tân Bình", "commune", 25, 22, 22, 10, 8, .neither),
            ("06907", "Xã Quảng Lợi", "commune", 23, 22, 22, 11, 7, .council),
            ("06910", "Xã Dực Yên", "commune", 23, 21, 21, 10, 7, .committee),
            ("06913", "Xã Quảng Tân", "commune", 23, 21, 21, 10, 7, .committee),
            ("06916", "Xã Đầm Hà", "commune", 23, 19, 12, 11, 9, .committee),
            ("06917", "Xã Tân Lập", "commune", 21, 21, 21, 10, 7, .council),
            ("06919", "Xã Đại Bình", "commune", 21, 20, 21, 10, 7, .neither),
        ]
        let cadres = communes.map(\.4).reduce(0, +), nonspecialised = communes.map(\.6).reduce(0, +)
        let hamletPeople = communes.map(\.7).reduce(0, +) + 4
        var frontHeads = 4
        for (code, name, kind, cadreQuota, cadrePeople, nonspecialisedQuota, nonspecialisedPeople, hamlets, secretary) in communes {
            let unit = "unit-\(code)"
            // Quảng Lợi's titles end with it, when it merges into Quảng Tân.
            let end = code == "06907" ? "2019-12-31" : nil
            register.unit(unit, code: code, name: name, kind: kind, parent: "unit-200",
                          to: code == "06907" ? "2019-12-31" : nil, successor: code == "06907" ? "unit-06913" : nil)
            register.quota(unit, "cadre_civil_servant", cadreQuota, basis: "NĐ 92/2009/NĐ-CP", from: "2010-01-01")
            register.quota(unit, "nonspecialised_commune", nonspecialisedQuota, basis: "NĐ 29/2013/NĐ-CP", from: "2013-06-01")
            register.quota(unit, "nonspecialised_hamlet", 3 * hamlets, basis: "3 chức danh mỗi thôn, khu", from: "2013-06-01")
            register.cadres(of: unit, count: cadrePeople, secretary: secretary, start: "2016-07-01", end: end) { index in
                // Of the 214: 8 without secondary-vocational level, 17 without political
                // theory, 19 without state-management training, spread over the communes.
                let degree = chosen(index, 8, of: cadres, stride: 37) ? "none"
                    : ["university", "university", "college", "intermediate", "university", "master"][index % 6]
                let theory = chosen(index, 17, of: cadres, stride: 53) ? "none" : ["elementary", "intermediate", "advanced"][index % 3]
                let management = chosen(index, 19, of: cadres, stride: 61) ? "none" : ["chuyên viên", "chuyên viên chính"][index % 2]
                return (degree, theory, management)
            }
            register.nonspecialised(of: unit, count: nonspecialisedPeople, start: "2016-07-01", end: end) { index in
                (["intermediate", "college", "none", "university"][index % 4], index % 5 == 0 ? "none" : "elementary", "none")
            }
            for number in 1...hamlets {
                let hamlet = "\(unit)-\(number)"
                register.unit(hamlet, code: "\(code)-\(String(format2: number))", name: "\(kind == "township" ? "Khu" : "Thôn") \(number)",
                              kind: kind == "township" ? "residential_group" : "hamlet", parent: unit)
                let front = frontHeads > 0 && number == 1 && code != "06916"
                if front { frontHeads -= 1 }
                register.hamlet(hamlet, of: unit, secretaryIsHead: true, separateFrontHead: front, start: "2016-07-01", end: end) { index in
                    (index % 3 == 0 ? "intermediate" : "none", "elementary", "none")
                }
            }
        }
        precondition(register.people(at: "hamlet") == hamletPeople)
        precondition(cadres == 214 && nonspecialised == 104)
        // 736 attendances since 2015 by the people in post at the end of 2017: 472 by the
        // commune's 318 people, 264 by the hamlets' 80; and courses before 2015 that do not count.
        let fields = ["political_theory", "state_management", "professional", "it", "other"]
        for (index, person) in register.placed(at: "commune").enumerated() {
            for course in 0..<(index < 154 ? 2 : 1) {
                register.training(person, field: fields[(index + course) % fields.count], start: "\(2015 + (index + course) % 3)-03-01",
                                  end: "\(2015 + (index + course) % 3)-05-15")
            }
            if index % 10 == 0 { register.training(person, field: "professional", start: "2013-09-01", end: "2014-06-30") }
        }
        for (index, person) in register.placed(at: "hamlet").enumerated() {
            for course in 0..<(index < 24 ? 4 : 3) {
                register.training(person, field: fields[(index + course) % fields.count], start: "\(2015 + course % 3)-10-01",
                                  end: "\(2015 + course % 3)-10-20")
            }
        }
        // Held a title until the end of 2016, trained in 2016: counted nowhere in 2017.
        for former in 0..<3 {
            let person = register.person(commune: "unit-06913", degree: "university", theory: "advanced", management: "chuyên viên")
            let seat = register.seat(unit: "unit-06913", commune: "unit-06913", title: "van_hoa_xa_hoi", number: 4 + former)
            register.assign(person, to: seat, commune: "unit-06913", start: "2011-07-01", end: "2016-12-31")
            register.training(person, field: "it", start: "2016-03-01", end: "2016-04-01")
        }
        return register.finish(
            name: "dam-ha-2017", summary: "Huyện Đầm Hà (Quảng Ninh) in 2017: 10 commune-level units, 76 hamlets",
            asOf: "2017-12-31", ratingYear: 2017, trainingsSince: "2015-01-01")
    }()

    // MARK: - Quận Long Biên, 2023

    /// Long Biên 2023: 14 wards (Phường Sài Đồng among them, dissolved by 2025) and 196
    /// residential groups. 238 non-specialised staff rated for 2022, all meeting requirements
    /// or better: the wards' 140 and 98 group heads (the article's share of the residential
    /// groups' degrees rests on at least 373 people, so not every group's staff can have been
    /// among the rated; here the other groups' staff have no rating recorded). University or
    /// above: 71.28 % of the wards' 376 cadres, civil servants and non-specialised staff,
    /// 54.16 % of the groups' 397. Two civil servants whose titles ended in mid-2022 were rated
    /// not completed and are counted nowhere.
    public static let longBien2023: ArticleRegister = {
        var register = Builder(prefix: "lb", province: "001")
        register.unit("unit-004", code: "004", name: "Quận Long Biên", kind: "district", parent: nil)
        let wards = [
            ("00115", "Phường Thượng Thanh"), ("00118", "Phường Ngọc Thụy"), ("00121", "Phường Giang Biên"), ("00124", "Phường Đức Giang"),
            ("00127", "Phường Việt Hưng"), ("00130", "Phường Gia Thụy"), ("00133", "Phường Ngọc Lâm"), ("00136", "Phường Phúc Lợi"),
            ("00139", "Phường Bồ Đề"), ("00142", "Phường Sài Đồng"), ("00145", "Phường Long Biên"), ("00148", "Phường Thạch Bàn"),
            ("00151", "Phường Phúc Đồng"), ("00154", "Phường Cự Khối"),
        ]
        let wardPeople = 236 + 140, groupPeople = 397
        var wardIndex = 0, groupIndex = 0
        func wardDegree() -> String {
            defer { wardIndex += 1 }
            return chosen(wardIndex, 268, of: wardPeople, stride: 45) ? ["university", "university", "master"][wardIndex % 3]
                : ["college", "intermediate"][wardIndex % 2]
        }
        func groupDegree() -> String {
            defer { groupIndex += 1 }
            return chosen(groupIndex, 215, of: groupPeople, stride: 31) ? "university" : ["intermediate", "college", "none"][groupIndex % 3]
        }
        for (number, (code, name)) in wards.enumerated() {
            let unit = "unit-\(code)"
            // Sài Đồng's titles end with it, when the ward is dissolved (absent from the list of 2025-01-04).
            let end = code == "00142" ? "2024-12-31" : nil
            register.unit(unit, code: code, name: name, kind: "ward", parent: "unit-004", to: end)
            register.quota(unit, "cadre_civil_servant", 21, basis: "NĐ 34/2019/NĐ-CP", from: "2019-08-25")
            register.quota(unit, "nonspecialised_commune", 12, basis: "NĐ 34/2019/NĐ-CP", from: "2019-08-25")
            register.quota(unit, "nonspecialised_hamlet", 3 * 14, basis: "3 chức danh mỗi tổ dân phố", from: "2019-08-25")
            // Hà Nội's wards have had no People's Council since 2021.
            register.cadres(of: unit, count: number < 12 ? 17 : 16, secretary: .neither, councils: false, start: "2021-07-01", end: end) { index in
                (wardDegree(), ["intermediate", "advanced"][index % 2], "chuyên viên")
            }
            register.nonspecialised(of: unit, count: 10, start: "2021-07-01", end: end) { _ in (wardDegree(), "elementary", "none") }
            for group in 1...14 {
                let hamlet = "\(unit)-\(group)"
                register.unit(hamlet, code: "\(code)-\(String(format2: group))", name: "Tổ dân phố số \(group)", kind: "residential_group",
                              parent: unit)
                register.hamlet(hamlet, of: unit, secretaryIsHead: false, separateFrontHead: number == 0 && group <= 5, start: "2021-07-01", end: end) { _ in
                    (groupDegree(), "elementary", "none")
                }
            }
        }
        precondition(wardIndex == wardPeople && groupIndex == groupPeople)
        // Ratings of 2022: every cadre and civil servant (three not completed), the wards'
        // non-specialised staff and the heads of the groups of the first seven wards.
        let cadres = register.placed(at: "commune", cadre: true)
        for (index, person) in cadres.enumerated() {
            register.rate(person, year: 2022, chosen(index, 3, of: cadres.count, stride: 7) ? "not_completed" : ["excellent", "good", "completed"][index % 3])
        }
        for (index, person) in register.placed(at: "commune", cadre: false).enumerated() {
            register.rate(person, year: 2022, ["good", "completed", "excellent"][index % 3])
        }
        for (index, person) in register.heads(inFirst: 7).enumerated() { register.rate(person, year: 2022, ["completed", "good"][index % 2]) }
        // Left their seats in mid-2022, rated not completed: at work at no date the report reads.
        for former in 0..<2 {
            let person = register.person(commune: "unit-00115", degree: "none", theory: "none", management: "none")
            let seat = register.seat(unit: "unit-00115", commune: "unit-00115", title: "tu_phap_ho_tich", number: 4 + former)
            register.assign(person, to: seat, commune: "unit-00115", start: "2019-07-01", end: "2022-06-30")
            register.rate(person, year: 2022, "not_completed")
        }
        return register.finish(
            name: "long-bien-2023", summary: "Quận Long Biên (Hà Nội) in 2023: 14 wards, 196 residential groups",
            asOf: "2023-06-30", ratingYear: 2022, trainingsSince: "2019-01-01")
    }()
}

extension String {
    /// A number of two digits or more: 7 -> "07".
    init(format2 number: Int) { self = number < 10 ? "0\(number)" : String(number) }
}
