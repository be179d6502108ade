import Register

extension Workbook {
    /// Every report as of `day` (for one commune or all), a sheet each, headings in
    /// Vietnamese with the English beneath: what `synchub report ... --format xlsx` writes and
    /// the desk's reports page offers to download.
    public static func reports(_ rows: RegisterRows, asOf day: String, unit: String?, year: Int, since: String) -> Workbook {
        func text(_ value: String) -> Cell { .text(value) }
        func number(_ value: Int) -> Cell { .number(Double(value)) }
        func group(_ level: String, _ group: String) -> Cell {
            let label = RegisterReports.groupLabel(level: level, group: group)
            return .text("\(label.vi) (\(label.en))")
        }
        let title = "Ngày \(RegisterDate.shown(day)) (as of \(day))" + (unit.map { ", xã \($0)" } ?? "")

        var staffing: [[Cell]] = [[text("Biên chế so với định biên — staffing against quotas"), text(title)], [
            text("Mã xã (commune code)"), text("Xã (commune)"), text("Loại (category)"), text("Số người (people)"),
            text("Định biên (quota)"), text("Căn cứ (legal basis)"), text("Phân công (assignments)"),
            text("Đã bố trí so với định biên (filled against the quota)"), text("Tính theo (measured in)"), text("Mục chờ xem xét (open review items)"),
        ]]
        for line in RegisterReports.staffing(rows, asOf: day, unit: unit) {
            staffing.append([text(line.communeCode), text(line.communeCode == "*" ? "Tổng cộng (total)" : line.commune), text(line.categoryVi),
                             number(line.people), line.quota.map(number) ?? text(""), text(line.legalBasis ?? ""), number(line.assignments),
                             number(line.filled), text(line.measure == "posts" ? "chức danh (posts)" : "người (people)"), number(line.openItems)])
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
            text("Nhóm (group)"), text("Số người (people)"), text("Đại học trở lên % (university or above)"),
            text("Trung cấp trở lên % (secondary vocational or above)"), text("Có trình độ LLCT % (political theory trained)"),
            text("Đã bồi dưỡng QLNN % (state management trained)"),
            text("Mục chờ xem xét (open review items)"),
        ]]
        for figure in RegisterReports.qualifications(rows, asOf: day, unit: unit) {
            qualifications.append([group(figure.level, figure.group), number(figure.degree.people), .number(figure.universityOrAbove),
                                   .number(figure.intermediateOrAbove), .number(figure.politicalTheoryTrained), .number(figure.stateManagementTrained), number(figure.openItems)])
        }

        var ratings: [[Cell]] = [[text("Đánh giá năm \(year) — ratings of \(year)"), text(title)], [
            text("Nhóm (group)"), text("Xếp loại (rating)"), text("Số người (people)"),
        ]]
        for figure in RegisterReports.ratings(rows, year: year, unit: unit) {
            for (rating, count) in figure.ratings.counts.sorted(by: { $0.key < $1.key }) {
                ratings.append([group(figure.level, figure.group), text(RegisterLabels.value(rating, of: "rating").map { "\($0) (\(rating))" } ?? rating), number(count)])
            }
            ratings.append([group(figure.level, figure.group), text("Hoàn thành nhiệm vụ trở lên (meeting requirements or better)"), number(figure.meetingOrBetter)])
            ratings.append([group(figure.level, figure.group), text("Được đánh giá (rated)"), number(figure.rated)])
            ratings.append([group(figure.level, figure.group), text("Mục chờ xem xét (open review items)"), number(figure.openItems)])
        }

        var trainings: [[Cell]] = [[text("Bồi dưỡng từ \(RegisterDate.shown(since)) — trainings since \(since)"), text(title)], [
            text("Nhóm (group)"), text("Lĩnh vực (field)"), text("Lượt (attendances)"),
        ]]
        for figure in RegisterReports.trainings(rows, since: since, asOf: day, unit: unit) {
            for (field, count) in figure.byField.sorted(by: { $0.key < $1.key }) {
                trainings.append([group(figure.level, figure.group), text(RegisterLabels.value(field, of: "field").map { "\($0) (\(field))" } ?? field), number(count)])
            }
            trainings.append([group(figure.level, figure.group), text("Tổng số lượt (attendances)"), number(figure.attendances)])
            trainings.append([group(figure.level, figure.group), text("Số người (people)"), number(figure.people)])
            trainings.append([group(figure.level, figure.group), text("Mục chờ xem xét (open review items)"), number(figure.openItems)])
        }

        return Workbook(sheets: [
            Sheet(name: "Biên chế", rows: staffing), Sheet(name: "Kiêm nhiệm", rows: concurrent),
            Sheet(name: "Trình độ", rows: qualifications), Sheet(name: "Đánh giá", rows: ratings), Sheet(name: "Bồi dưỡng", rows: trainings),
        ])
    }
}
