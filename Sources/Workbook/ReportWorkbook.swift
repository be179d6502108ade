import Register

extension Workbook {
    /// Every report as of `day` (for one commune or all), a sheet each, headings in
    /// Vietnamese with the English beneath: what `synchub report ... --format xlsx` writes and
    /// the desk's reports page offers to download.
    public static func reports(_ rows: RegisterRows, asOf day: String, unit: String?, year: Int, since: String) -> Workbook {
        func text(_ value: String) -> Cell { .text(value) }
        func number(_ value: Int) -> Cell { .number(Double(value)) }
        func level(_ code: String) -> Cell { .text(code == "commune" ? "Cấp xã (commune)" : "Thôn, tổ dân phố (hamlet)") }
        let title = "Ngày \(RegisterDate.shown(day)) (as of \(day))" + (unit.map { ", xã \($0)" } ?? "")

        var staffing: [[Cell]] = [[text("Biên chế so với định biên — staffing against quotas"), text(title)], [
            text("Mã xã (commune code)"), text("Xã (commune)"), text("Loại (category)"), text("Số người (people)"),
            text("Định biên (quota)"), text("Căn cứ (legal basis)"), text("Phân công (assignments)"), text("Mục chờ xem xét (open review items)"),
        ]]
        for line in RegisterReports.staffing(rows, asOf: day, unit: unit) {
            staffing.append([text(line.communeCode), text(line.communeCode == "*" ? "Tổng cộng (total)" : line.commune), text(line.categoryVi),
                             number(line.people), line.quota.map(number) ?? text(""), text(line.legalBasis ?? ""), number(line.assignments),
                             number(line.openItems)])
        }

        let held = RegisterReports.concurrent(rows, asOf: day, unit: unit)
        var concurrent: [[Cell]] = [[text("Kiêm nhiệm — concurrent holding"), text(title)],
            [text("Bí thư đảng ủy kiêm chủ tịch UBND (xã)"), number(held.secretaryChairsCommittee), number(held.communes)],
            [text("Bí thư đảng ủy kiêm chủ tịch HĐND (xã)"), number(held.secretaryChairsCouncil), number(held.communes)],
            [text("Bí thư chi bộ kiêm trưởng thôn (thôn)"), number(held.cellSecretaryIsHamletHead), number(held.hamlets)],
            [text("Bí thư chi bộ kiêm trưởng ban công tác Mặt trận (thôn)"), number(held.cellSecretaryHeadsFront), number(held.hamlets)],
            [text("Mục chờ xem xét (open review items)"), number(held.openItems)],
            [text("Cặp chức danh (titles held together)"), text("Số người (people)")]]
        for pair in held.pairs { concurrent.append([text(pair.titles.joined(separator: " + ")), number(pair.people)]) }

        var qualifications: [[Cell]] = [[text("Trình độ — qualifications"), text(title)], [
            text("Cấp (level)"), text("Số người (people)"), text("Đại học trở lên % (university or above)"),
            text("Trung cấp trở lên % (secondary vocational or above)"), text("Đã bồi dưỡng QLNN % (state management trained)"),
            text("Mục chờ xem xét (open review items)"),
        ]]
        for figure in RegisterReports.qualifications(rows, asOf: day, unit: unit) {
            qualifications.append([level(figure.level), number(figure.degree.people), .number(figure.universityOrAbove),
                                   .number(figure.intermediateOrAbove), .number(figure.stateManagementTrained), number(figure.openItems)])
        }

        var ratings: [[Cell]] = [[text("Đánh giá năm \(year) — ratings of \(year)"), text(title)], [
            text("Cấp (level)"), text("Xếp loại (rating)"), text("Số người (people)"),
        ]]
        for figure in RegisterReports.ratings(rows, year: year, unit: unit) {
            for (rating, count) in figure.ratings.counts.sorted(by: { $0.key < $1.key }) {
                ratings.append([level(figure.level), text(RegisterLabels.value(rating, of: "rating").map { "\($0) (\(rating))" } ?? rating), number(count)])
            }
            ratings.append([level(figure.level), text("Hoàn thành nhiệm vụ trở lên (meeting requirements or better)"), number(figure.meetingOrBetter)])
            ratings.append([level(figure.level), text("Được đánh giá (rated)"), number(figure.rated)])
            ratings.append([level(figure.level), text("Mục chờ xem xét (open review items)"), number(figure.openItems)])
        }

        var trainings: [[Cell]] = [[text("Bồi dưỡng từ \(RegisterDate.shown(since)) — trainings since \(since)"), text(title)], [
            text("Cấp (level)"), text("Lĩnh vực (field)"), text("Lượt (attendances)"),
        ]]
        for figure in RegisterReports.trainings(rows, since: since, asOf: day, unit: unit) {
            for (field, count) in figure.byField.sorted(by: { $0.key < $1.key }) {
                trainings.append([level(figure.level), text(RegisterLabels.value(field, of: "field").map { "\($0) (\(field))" } ?? field), number(count)])
            }
            trainings.append([level(figure.level), text("Tổng số lượt (attendances)"), number(figure.attendances)])
            trainings.append([level(figure.level), text("Số người (people)"), number(figure.people)])
            trainings.append([level(figure.level), text("Mục chờ xem xét (open review items)"), number(figure.openItems)])
        }

        return Workbook(sheets: [
            Sheet(name: "Biên chế", rows: staffing), Sheet(name: "Kiêm nhiệm", rows: concurrent),
            Sheet(name: "Trình độ", rows: qualifications), Sheet(name: "Đánh giá", rows: ratings), Sheet(name: "Bồi dưỡng", rows: trainings),
        ])
    }
}
