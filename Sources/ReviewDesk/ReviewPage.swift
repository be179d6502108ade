import HubCore
import Foundation
import MergeEngine
import Register
import SyncCore
import SyncProtocol

/// The review desk as a web page for district staff: server-rendered, no JavaScript, every
/// open conflict with its sides side by side and a form to decide it. Labels are Vietnamese
/// with English beside them.
package enum ReviewPage {
    package struct Names {
        package init() {}
        var people: [String: String] = [:]
        var units: [String: String] = [:]
        /// Whose record an item is on (the person's name), by item id.
        var subjects: [String: String] = [:]
        /// The latest changes the hub holds to a field conflict's field, newest first, by item id.
        var histories: [String: [Change]] = [:]
        /// A duplicate's records whole, by persons.id, for side-by-side reading.
        var records: [String: PersonRecord] = [:]
        /// Units named by their units.id (a duplicate's keeping commune): "name (code)".
        var unitsByID: [String: String] = [:]
        /// Titles' Vietnamese names by code.
        var titles: [String: String] = [:]
        /// Headings in the reviewer's words, by item id (a seat's title and commune, a quota's unit).
        var headings: [String: String] = [:]
    }

    /// What a reviewer compares of two records that may be one person.
    package struct PersonRecord {
        package init() {}
        var details: [(label: String, value: String)] = []
        var assignments: [String] = []
        var ratings: [String] = []
        var trainings: [String] = []
    }

    /// An ISO date as dd/mm/yyyy.
    static func day(_ iso: String?) -> String { RegisterDate.shown(iso) }

    /// The page's only style sheet, inline; the Content-Security-Policy allows it by its hash
    /// (`ReviewRoutes.contentSecurityPolicy`), and no script at all.
    package static let style = """
        body{font-family:sans-serif;margin:1.5em;max-width:70em}
        table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:.3em .6em;vertical-align:top}
        th{background:#eee}.conflict{border:2px solid #c60;padding:.5em 1em;margin:1em 0}.notice{background:#dfd;padding:.5em}
        .en{color:#666;font-size:85%}.refusal{background:#fdd;padding:.5em}form.logout{float:right}
        """

    static func head() -> String {
        """
        <!DOCTYPE html>
        <html lang="vi"><head><meta charset="utf-8"><title>Xem xét xung đột — Conflict review</title>
        <style>\(style)</style></head><body>

        """
    }

    /// Open items shown on one page.
    package static let pageSize = 100

    /// The desk for a signed-in reviewer: every form carries the session's `csrf` token.
    /// `next`: the id of the last open item shown, when more follow on the next page.
    package static func render(
        conflicts: [ConflictView], names: Names, reviewer: String, csrf: String, notice: String?, next: String? = nil,
        filter: ReviewFilter = ReviewFilter()
    ) -> String {
        let open = conflicts.filter { $0.state == "open" }
        let settled = conflicts.filter { $0.state == "settled" }
        var html = head() + """
            <form class="logout" method="post" action="/review/logout">
            <input type="hidden" name="csrf" value="\(escape(csrf))">\(escape(reviewer))
            <button type="submit" id="logout">Đăng xuất <span class="en">Log out</span></button></form>
            <h1>Xem xét xung đột <span class="en">Conflict review</span></h1>

            """ + navigation
        if let notice { html += "<p class=\"notice\" id=\"notice\">\(escape(notice))</p>\n" }
        html += filterForm(filter)
        html += "<h2>Chờ quyết định <span class=\"en\">Awaiting decision</span> (\(open.count)\(next == nil ? "" : "+"))</h2>\n"
        if open.isEmpty { html += "<p id=\"none-open\">Không có xung đột nào chờ xem xét. <span class=\"en\">Nothing awaits review.</span></p>\n" }
        for conflict in open { html += card(conflict, names: names, csrf: csrf) }
        if let next {
            let query = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let kept = filter.query.isEmpty ? "" : "&" + filter.query
            html += "<p><a id=\"next-page\" href=\"/review?after=\(query)\(kept)\">Trang sau <span class=\"en\">Next page</span> →</a></p>\n"
        }
        html += "<h2>Đã giải quyết theo quy tắc <span class=\"en\">Settled by a rule</span> (\(settled.count))</h2>\n<ul>\n"
        for conflict in settled {
            html += "<li>\(escape(label(conflict))) — quy tắc <span class=\"en\">rule</span> \(escape(conflict.rule))</li>\n"
        }
        return html + "</ul>\n</body></html>\n"
    }

    /// A value as reviewers read it: the register's Vietnamese label, the code beside it.
    static func valueCell(_ value: Value?, column: String) -> String {
        guard let value, value != .null else { return "<b>(trống)</b> <span class=\"en\">empty</span>" }
        let code = value.textValue ?? value.description
        if let label = RegisterLabels.value(code, of: column) {
            return "<b>\(escape(label))</b> <span class=\"en\">\(escape(code))</span>"
        }
        return "<b>\(escape(code))</b>"
    }

    /// A hybrid timestamp's wall-clock part as reviewers read it.
    static func localTime(_ stamp: HybridTimestamp) -> String {
        localTime(Date(timeIntervalSince1970: Double(stamp.rawValue >> 16) / 1000).formatted(.iso8601))
    }

    /// The kinds of item a reviewer may narrow the desk to, with their labels.
    static let kinds = [
        ("field", "sửa đồng thời / edited concurrently"), ("seat", "nhiều người một chức danh / seat held twice"),
        ("holding", "kiêm nhiệm / titles held together"), ("quota", "vượt định biên / over quota"),
        ("duplicate", "trùng hồ sơ / same person twice"), ("placement", "sắp xếp đơn vị / placement"),
        ("deletion", "xoá hồ sơ đã chuyển / deletion"),
    ]

    /// The desk's filter: a GET form, so a filtered page has an address of its own.
    static func filterForm(_ filter: ReviewFilter) -> String {
        var html = "<form id=\"filter\" method=\"get\" action=\"/review\"><label>Loại <span class=\"en\">kind</span> "
            + "<select name=\"kind\"><option value=\"\">tất cả / all</option>"
        for (kind, label) in kinds {
            html += "<option value=\"\(kind)\"\(filter.kind == kind ? " selected" : "")>\(escape(label))</option>"
        }
        html += "</select></label> <label>Mã xã <span class=\"en\">commune code</span> <input type=\"text\" name=\"commune\" size=\"6\" "
            + "value=\"\(escape(filter.commune))\"></label> <label>Tìm <span class=\"en\">search name, citizen id</span> "
            + "<input type=\"text\" name=\"q\" size=\"24\" value=\"\(escape(filter.text))\"></label> "
            + "<label>Chờ lâu hơn <span class=\"en\">open longer than</span> <select name=\"age\"><option value=\"\">—</option>"
            + [7, 30, 90].map { "<option value=\"\($0)\"\(filter.olderThanDays == $0 ? " selected" : "")>\($0) ngày / days</option>" }.joined()
            + "</select></label> "
            + "<button type=\"submit\" id=\"apply-filter\">Lọc <span class=\"en\">Filter</span></button>"
        if !filter.isEmpty { html += " <a id=\"clear-filter\" href=\"/review\">Bỏ lọc <span class=\"en\">clear</span></a>" }
        return html + "</form>\n"
    }

    static func card(_ conflict: ConflictView, names: Names, csrf: String) -> String {
        let seat = conflict.kind == "seat"
        let holding = conflict.kind == "holding" || conflict.kind == "quota"
        let address = "/review/item?id=" + (conflict.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        var heading = label(conflict)
        if conflict.kind == "holding", let name = names.people[conflict.row] {
            heading = "Người \(name) (\(conflict.row)): kiêm nhiệm ngoài quy định (titles held outside the rules)"
        }
        if let named = names.headings[conflict.id] { heading = named }
        if conflict.kind == "field" {
            let whose = names.subjects[conflict.id].map { "\($0) — " } ?? ""
            heading = "\(whose)\(RegisterLabels.table(conflict.table)) \(conflict.row): \(RegisterLabels.column(conflict.column)) "
                + "bị sửa đồng thời (\(conflict.column) edited concurrently)"
        }
        var html = "<div class=\"conflict\" id=\"\(escape(conflict.id))\">\n<h3><a class=\"item-link\" href=\"\(escape(address))\">"
            + "\(escape(heading))</a></h3>\n"
        if let opened = conflict.opened {
            html += "<p class=\"opened\">Mở từ <span class=\"en\">open since</span> \(escape(localTime(opened)))</p>\n"
        }
        html += "<p>Quy tắc <span class=\"en\">rule</span>: \(escape(conflict.rule))"
            + (holding ? " — \(escape(conflict.chosen))" : "") + "</p>\n"
        html += "<form method=\"post\" action=\"/review/resolve\">\n"
        html += "<input type=\"hidden\" name=\"csrf\" value=\"\(escape(csrf))\">\n<input type=\"hidden\" name=\"id\" value=\"\(escape(conflict.id))\">\n"
        html += "<table><tr><th></th>"
        for (index, _) in conflict.sides.enumerated() { html += "<th>Bên \(index + 1) <span class=\"en\">side</span></th>" }
        html += "</tr>\n"
        func row(_ title: String, _ cells: [String]) {
            html += "<tr><th>\(title)</th>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        func writtenBy() {
            row("Ghi bởi <span class=\"en\">recorded by</span>", conflict.sides.map { side in
                escape(names.units[side.origin ?? ""].map { "\($0) (\(side.origin ?? ""))" } ?? side.origin ?? "?")
            })
        }
        func decide(_ pickTitle: String, _ pick: (ConflictView.Side) -> String) -> String {
            row(pickTitle, conflict.sides.map { side in
                "<label><input type=\"radio\" name=\"pick\" value=\"\(escape(pick(side)))\"> chọn</label>"
            })
            html += "</table>\n<p><label>Lý do <span class=\"en\">reason</span>: <input type=\"text\" name=\"reason\" required size=\"50\"></label></p>\n"
            return html + "<p><button type=\"submit\">Quyết định <span class=\"en\">Decide</span></button></p>\n</form>\n</div>\n"
        }
        if conflict.kind == "duplicate" {
            row("Hồ sơ <span class=\"en\">record</span>", conflict.sides.map { escape($0.person ?? "?") })
            row("Họ và tên <span class=\"en\">full name</span>", conflict.sides.map { "<b>\(escape($0.fullName ?? "?"))</b>" })
            row("Số CCCD <span class=\"en\">citizen id</span>", conflict.sides.map { escape($0.citizenID ?? "?") })
            row("Ngày sinh <span class=\"en\">birth date</span> (dd/mm/yyyy)", conflict.sides.map { escape(day($0.birthDate)) })
            row("Xã quản lý <span class=\"en\">kept by commune</span>", conflict.sides.map {
                escape(names.unitsByID[$0.commune ?? ""] ?? $0.commune ?? "?")
            })
            func listed(_ title: String, _ lines: (PersonRecord) -> [String]) {
                row(title, conflict.sides.map { side in
                    guard let record = names.records[side.person ?? ""] else { return "?" }
                    let items = lines(record)
                    return items.isEmpty ? "—" : "<ul>" + items.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
                })
            }
            listed("Thông tin khác <span class=\"en\">other details</span>") { $0.details.map { "\($0.label): \($0.value)" } }
            listed("Chức danh đã giữ <span class=\"en\">titles held</span>") { $0.assignments }
            listed("Đánh giá, xếp loại <span class=\"en\">ratings</span>") { $0.ratings }
            listed("Đào tạo, bồi dưỡng <span class=\"en\">trainings</span>") { $0.trainings }
            writtenBy()
            if let count = conflict.count, count > conflict.sides.count {
                html += "<tr><td colspan=\"\(conflict.sides.count + 1)\">Còn \(count - conflict.sides.count) hồ sơ khác cùng số CCCD này "
                    + "<span class=\"en\">and \(count - conflict.sides.count) more records with this citizen id</span></td></tr>\n"
            }
            return decide("Giữ hồ sơ này, gộp các hồ sơ khác vào <span class=\"en\">keep this record, merge the others into it</span>") {
                $0.person ?? ""
            }
        }
        if conflict.kind == "deletion" {
            row("Hồ sơ <span class=\"en\">record</span>", conflict.sides.map { escape($0.fullName ?? $0.person ?? conflict.row) })
            row("Xã cũ đề nghị xoá <span class=\"en\">deleted at the former office</span>", conflict.sides.map { side in
                escape(names.units[side.origin ?? ""].map { "\($0) (\(side.origin ?? ""))" } ?? side.origin ?? "?")
            })
            html += "</table>\n<p><label><input type=\"radio\" name=\"pick\" value=\"keep\"> Giữ hồ sơ <span class=\"en\">keep the record</span></label> "
                + "<label><input type=\"radio\" name=\"pick\" value=\"delete\"> Xoá ở mọi nơi <span class=\"en\">delete it everywhere</span></label></p>\n"
            html += "<p><label>Lý do <span class=\"en\">reason</span>: <input type=\"text\" name=\"reason\" required size=\"50\"></label></p>\n"
            return html + "<p><button type=\"submit\">Quyết định <span class=\"en\">Decide</span></button></p>\n</form>\n</div>\n"
        }
        if conflict.kind == "placement" {
            row("Đơn vị kế thừa <span class=\"en\">successor, and what it received</span>", conflict.sides.map { escape($0.value?.description ?? "?") })
            return decide("Xác nhận <span class=\"en\">confirm</span>") { $0.commune ?? "" }
        }
        if holding {
            // Grouped by person: a quota counts people, so what settles it is every title of
            // as many people as it is over by (the hub refuses a pick that would not).
            let held = Dictionary(grouping: conflict.sides, by: { $0.person ?? "" }).mapValues(\.count)
            if conflict.kind == "quota" {
                html = html.replacingOccurrences(of: "<form method=\"post\"", with: "<p class=\"count\">\(held.count) người giữ các chức danh này "
                    + "<span class=\"en\">people hold these titles</span>. Đánh dấu mọi chức danh của một người, hoặc chức danh của người "
                    + "chỉ giữ một <span class=\"en\">Tick every title of one person, or the title of someone who holds only one</span>.</p>\n"
                    + "<form method=\"post\"")
            }
            row("Người <span class=\"en\">person</span>", conflict.sides.map { escape(names.people[$0.person ?? ""] ?? $0.person ?? "?") })
            row("Số chức danh của người này ở đây <span class=\"en\">titles this person holds here</span>", conflict.sides.map {
                String(held[$0.person ?? ""] ?? 0)
            })
            row("Chức danh <span class=\"en\">title</span>", conflict.sides.map { side in
                escape(side.title.map { code in names.titles[code].map { "\($0) (\(code))" } ?? code } ?? "?")
            })
            row("Quyết định <span class=\"en\">decision</span>", conflict.sides.map { escape($0.decisionNo ?? "?") })
            row("Kết thúc <span class=\"en\">end this one</span>", conflict.sides.map { side in
                "<label><input type=\"checkbox\" name=\"pick\" value=\"\(escape(side.assignment ?? ""))\"> chọn</label>"
            })
            html += "</table>\n<p><label>Lý do <span class=\"en\">reason</span>: <input type=\"text\" name=\"reason\" required size=\"50\"></label></p>\n"
            return html + "<p><button type=\"submit\">Quyết định <span class=\"en\">Decide</span></button></p>\n</form>\n</div>\n"
        }
        if seat {
            row("Người giữ chức danh <span class=\"en\">holder</span>", conflict.sides.map { escape(names.people[$0.person ?? ""] ?? $0.person ?? "?") })
            row("Quyết định <span class=\"en\">decision</span>", conflict.sides.map { escape("\($0.decisionNo ?? "?") (\(day($0.decisionDate)))") })
        } else {
            row("Giá trị <span class=\"en\">value</span>", conflict.sides.map { valueCell($0.value, column: conflict.column) })
            row("Thời điểm ghi <span class=\"en\">written</span>", conflict.sides.map { side in
                escape(side.hlc.map { localTime(HybridTimestamp(rawValue: $0)) } ?? "?")
            })
        }
        row("Ghi bởi <span class=\"en\">written by</span>", conflict.sides.map { side in
            escape(names.units[side.origin ?? ""].map { "\($0) (\(side.origin ?? ""))" } ?? side.origin ?? "?")
        })
        row(seat ? "Giữ chức danh <span class=\"en\">keeps the seat</span>" : "Chọn <span class=\"en\">keep</span>", conflict.sides.map { side in
            let pick = seat ? side.assignment ?? "" : side.dot ?? ""
            return "<label><input type=\"radio\" name=\"pick\" value=\"\(escape(pick))\"> chọn</label>"
        })
        html += "</table>\n"
        if let history = names.histories[conflict.id], !history.isEmpty {
            html += "<p>Lịch sử trường này <span class=\"en\">history of this field</span>, mới nhất trước <span class=\"en\">newest first</span>:</p>\n"
                + "<ol class=\"history\">\n"
            for change in history {
                let origin = change.dot.replica.rawValue
                let office = names.units[origin].map { "\($0) (\(origin))" } ?? origin
                let what: String
                if case .set(_, let value) = change.operation { what = valueCell(value, column: conflict.column) } else { what = "xoá hồ sơ (deleted)" }
                html += "<li>\(escape(localTime(change.timestamp))) — \(escape(office)): \(what)</li>\n"
            }
            html += "</ol>\n"
        }
        if !seat {
            html += "<p><label>Hoặc giá trị hợp nhất <span class=\"en\">or a merged value</span>: <input type=\"text\" name=\"value\"></label></p>\n"
        }
        html += "<p><label>Lý do <span class=\"en\">reason</span>: <input type=\"text\" name=\"reason\" required size=\"50\"></label></p>\n"
        html += "<p><button type=\"submit\">Quyết định <span class=\"en\">Decide</span></button></p>\n</form>\n</div>\n"
        return html
    }

    static func label(_ conflict: ConflictView) -> String {
        switch conflict.kind {
        case "seat": return "Chức danh \(conflict.row): nhiều người giữ hơn số chỗ (seat held twice)"
        case "holding": return "Người \(conflict.row): kiêm nhiệm ngoài quy định (titles held outside the rules)"
        case "quota": return "Đơn vị \(conflict.row): vượt định biên \(conflict.column.dropFirst("*quota:".count)) (over quota)"
        case "duplicate":
            let citizenID = conflict.sides.compactMap(\.citizenID).first ?? "?"
            let count = conflict.count ?? conflict.sides.count
            return "\(count) hồ sơ cùng số CCCD \(citizenID): có thể một người được tạo nhiều lần "
                + "(\(count) records with one citizen id: one person created more than once?)"
        case "deletion":
            return "\(conflict.table) \(conflict.row): xã cũ xoá hồ sơ đã chuyển đi (deleted by the office it was moved away from)"
        case "placement": return "\(conflict.table) \(conflict.row): vị trí sau khi sắp xếp đơn vị (placement after a reorganisation)"
        default: return "\(conflict.table) \(conflict.row): trường \(conflict.column) bị sửa đồng thời (edited concurrently)"
        }
    }

    /// The login form. It is posted, so the credential never appears in an address, a
    /// browser's history or a proxy's log; `csrf` is also set as a short-lived cookie and the
    /// two must match (nobody else's page can log a browser in).
    package static func loginPage(message: String, csrf: String) -> String {
        head() + """
            <h1>Xem xét xung đột <span class="en">Conflict review</span></h1>
            <p id="message">\(escape(message))</p>
            <form method="post" action="/review/login"><input type="hidden" name="csrf" value="\(escape(csrf))">
            <p><label>Tên đăng nhập <span class="en">name</span>: <input type="text" id="name" name="name" size="20" autocomplete="username" required></label>
            <label>Mật khẩu <span class="en">password</span>: <input type="password" id="password" name="password" size="20" autocomplete="current-password" required></label>
            <button type="submit" id="login-password">Đăng nhập <span class="en">Log in</span></button></p></form>
            <form method="post" action="/review/login"><input type="hidden" name="csrf" value="\(escape(csrf))">
            <p><label>Hoặc mã truy cập của người xem xét <span class="en">or a reviewer credential</span>:
            <input type="password" id="credential" name="credential" size="70" autocomplete="off" required></label>
            <button type="submit" id="login">Đăng nhập <span class="en">Log in</span></button></p></form>
            </body></html>

            """
    }

    /// Links between the desk's pages.
    static let navigation = """
        <p class="nav"><a id="nav-open" href="/review">Chờ quyết định <span class="en">Awaiting decision</span></a> · \
        <a id="nav-history" href="/review/history">Lịch sử quyết định <span class="en">Decisions made</span></a> · \
        <a id="nav-offices" href="/review/offices">Các xã <span class="en">Offices</span></a> · \
        <a id="nav-reports" href="/review/reports">Báo cáo <span class="en">Reports</span></a></p>

        """

    /// An ISO 8601 instant as reviewers read it: dd/mm/yyyy HH:mm in the hub's time zone.
    static func localTime(_ iso: String) -> String { RegisterDate.localTime(iso) }

    /// Decisions made, newest first, each with who, when, why and what it wrote; one not yet
    /// undone has a form to revert it (with a reason, as every decision). `next`: the number
    /// of the last decision shown, when older ones follow on the next page.
    package static func history(_ decisions: [DecisionView], reviewer: String, csrf: String, notice: String?, next: Int64?) -> String {
        var html = head() + """
            <form class="logout" method="post" action="/review/logout">
            <input type="hidden" name="csrf" value="\(escape(csrf))">\(escape(reviewer))
            <button type="submit" id="logout">Đăng xuất <span class="en">Log out</span></button></form>
            <h1>Lịch sử quyết định <span class="en">Decisions made</span></h1>

            """ + navigation
        if let notice { html += "<p class=\"notice\" id=\"notice\">\(escape(notice))</p>\n" }
        if decisions.isEmpty { html += "<p id=\"no-decisions\">Chưa có quyết định nào. <span class=\"en\">No decision yet.</span></p>\n" }
        html += "<table id=\"decisions\"><tr><th>Số <span class=\"en\">no.</span></th><th>Thời điểm <span class=\"en\">when</span></th>"
            + "<th>Người quyết định <span class=\"en\">reviewer</span></th><th>Mục <span class=\"en\">item</span></th>"
            + "<th>Chọn hoặc giá trị <span class=\"en\">pick or value</span></th><th>Lý do <span class=\"en\">reason</span></th>"
            + "<th>Hoàn tác <span class=\"en\">revert</span></th></tr>\n"
        for decision in decisions {
            var undo: String
            if let by = decision.revertedBy {
                undo = "Đã hoàn tác bởi #\(by) <span class=\"en\">reverted by #\(by)</span>"
            } else if let undone = decision.reverts {
                undo = "Hoàn tác #\(undone) <span class=\"en\">reverts #\(undone)</span>"
            } else if decision.pick == "delete" {
                undo = "Không hoàn tác được: hồ sơ đã xoá <span class=\"en\">a delete cannot be reverted</span>"
            } else {
                undo = """
                    <form method="post" action="/review/revert"><input type="hidden" name="csrf" value="\(escape(csrf))">\
                    <input type="hidden" name="review" value="\(decision.id)">\
                    <input type="text" name="reason" required size="24" placeholder="lý do / reason">\
                    <button type="submit" id="revert-\(decision.id)">Hoàn tác <span class="en">Revert</span></button></form>
                    """
            }
            let what = decision.value.map { "giá trị <span class=\"en\">value</span> \(escape($0.description))" }
                ?? escape(decision.pick ?? "—")
            html += "<tr id=\"decision-\(decision.id)\"><td>#\(decision.id)</td><td>\(escape(localTime(decision.at)))</td>"
                + "<td>\(escape(decision.reviewer))</td><td>\(escape(decision.conflict))</td><td>\(what) (\(decision.wrote) "
                + "<span class=\"en\">writes</span>)</td><td>\(escape(decision.reason))</td><td>\(undo)</td></tr>\n"
        }
        html += "</table>\n"
        if let next {
            html += "<p><a id=\"next-page\" href=\"/review/history?before=\(next)\">Trang sau <span class=\"en\">Older</span> →</a></p>\n"
        }
        return html + "</body></html>\n"
    }

    /// One item alone, in whatever state it is: open ones can be decided here too.
    package static func itemPage(_ item: ConflictView, names: Names, reviewer: String, csrf: String) -> String {
        var html = head() + """
            <form class="logout" method="post" action="/review/logout">
            <input type="hidden" name="csrf" value="\(escape(csrf))">\(escape(reviewer))
            <button type="submit" id="logout">Đăng xuất <span class="en">Log out</span></button></form>
            <h1>Xem xét xung đột <span class="en">Conflict review</span></h1>

            """ + navigation
        let state = ["open": "chờ quyết định / awaiting decision", "settled": "đã giải quyết theo quy tắc / settled by a rule",
                     "closed": "đã đóng / closed"][item.state] ?? item.state
        html += "<p id=\"item-state\">Trạng thái <span class=\"en\">state</span>: \(escape(state))</p>\n"
        if item.state == "open" {
            html += card(item, names: names, csrf: csrf)
        } else {
            html += "<div class=\"conflict\" id=\"\(escape(item.id))\"><h3>\(escape(label(item)))</h3><p>Quy tắc <span class=\"en\">rule</span>: "
                + "\(escape(item.rule)) — \(escape(item.chosen))</p></div>\n"
        }
        return html + "</body></html>\n"
    }

    /// What a decision that ends assignments will do, with a button to confirm it (the same
    /// form again, with `confirm`) and a way back.
    package static func previewPage(_ preview: DecisionPreview, decision: ResolveRequest, names: Names, csrf: String) -> String {
        var html = head() + """
            <h1>Xác nhận quyết định <span class="en">Confirm the decision</span></h1>
            <p id="preview-item">\(escape(names.headings[preview.item] ?? preview.item))</p>
            <p>Quyết định này sẽ kết thúc <span class="en">This decision ends</span>:</p>
            <ul id="preview-ends">

            """
        for ending in preview.ends {
            let title = ending.title.map { code in names.titles[code].map { "\($0) (\(code))" } ?? code }
            html += "<li>\(escape(ending.person)) — \(escape(title ?? "phân công / assignment")) (\(escape(ending.assignment))), "
                + "ngày kết thúc <span class=\"en\">ends on</span> \(escape(day(ending.endDate)))</li>\n"
        }
        html += "</ul>\n<p id=\"preview-settles\">Sau đó mục này được giải quyết. <span class=\"en\">The item is then settled.</span></p>\n"
        if !preview.touches.isEmpty {
            html += "<p id=\"preview-touches\">Cũng liên quan đến các mục đang chờ <span class=\"en\">It also touches these open items, which may "
                + "close with it</span>: " + preview.touches.map(escape).joined(separator: ", ") + "</p>\n"
        }
        html += """
            <p>Lý do <span class="en">reason</span>: \(escape(decision.reason))</p>
            <form method="post" action="/review/resolve"><input type="hidden" name="csrf" value="\(escape(csrf))">
            <input type="hidden" name="id" value="\(escape(decision.id))"><input type="hidden" name="pick" value="\(escape(decision.pick ?? ""))">
            <input type="hidden" name="reason" value="\(escape(decision.reason))"><input type="hidden" name="confirm" value="1">
            <button type="submit" id="confirm">Xác nhận <span class="en">Confirm</span></button>
            <a href="/review">Huỷ, quay lại <span class="en">Cancel, back to the desk</span></a></form>
            </body></html>

            """
        return html
    }

    /// The page head of the desk's other pages: who is logged in, the title, the links.
    static func deskHead(_ title: String, reviewer: String, csrf: String) -> String {
        head() + """
            <form class="logout" method="post" action="/review/logout">
            <input type="hidden" name="csrf" value="\(escape(csrf))">\(escape(reviewer))
            <button type="submit" id="logout">Đăng xuất <span class="en">Log out</span></button></form>
            <h1>\(title)</h1>

            """ + navigation
    }

    /// The district's offices at a glance, trouble first (`HubStore.offices`).
    package static func officesPage(_ offices: [OfficeView], reviewer: String, csrf: String) -> String {
        var html = deskHead("Các xã <span class=\"en\">Offices</span>", reviewer: reviewer, csrf: csrf)
        html += "<table id=\"offices\"><tr><th>Mã <span class=\"en\">office</span></th><th>Xã <span class=\"en\">commune</span></th>"
            + "<th>Đồng bộ lần cuối <span class=\"en\">last synced</span></th><th>Chưa gửi <span class=\"en\">unsent</span></th>"
            + "<th>Bị từ chối <span class=\"en\">refused rows</span></th><th>Đồng hồ <span class=\"en\">clock</span></th>"
            + "<th>Đĩa trống <span class=\"en\">disk free</span></th><th>Phiên bản <span class=\"en\">release</span></th>"
            + "<th>Vấn đề <span class=\"en\">trouble</span></th></tr>\n"
        for office in offices {
            let facts = office.facts
            let trouble = office.trouble.isEmpty ? "ổn <span class=\"en\">ok</span>" : office.trouble.map(escape).joined(separator: "<br>")
            html += "<tr id=\"office-\(escape(office.replica.rawValue))\"\(office.trouble.isEmpty ? "" : " class=\"trouble\"")><td>\(escape(office.replica.rawValue))</td>"
                + "<td>\(escape(office.commune ?? office.scope))</td><td>\(escape(office.seenAt.map(localTime) ?? "chưa bao giờ / never"))</td>"
                + "<td>\(facts.map { String($0.unsent) } ?? "–")</td><td>\(facts.map { String($0.refusedRows) } ?? "–")</td>"
                + "<td>\(facts?.clockOffsetS.map { String(format: "%+.0f s", $0) } ?? "–")</td>"
                + "<td>\(facts?.freeDiskBytes.map { String(format: "%.1f GB", Double($0) / 1e9) } ?? "–")</td>"
                + "<td>\(escape(facts?.version ?? "–"))</td><td>\(trouble)</td></tr>\n"
        }
        return html + "</table>\n</body></html>\n"
    }

    /// Staffing against quotas and concurrent holding as of a date, as tables, with a bar per
    /// commune (server-drawn SVG: no script) and the figures as CSV to download.
    package static func reportsPage(
        staffing: [RegisterReports.Staffing], concurrent: RegisterReports.Concurrent, qualifications: [RegisterReports.Qualifications],
        ratings: [RegisterReports.Ratings], trainings: [RegisterReports.Trainings], day: String, unit: String?, reviewer: String, csrf: String
    ) -> String {
        var html = deskHead("Báo cáo <span class=\"en\">Reports</span>", reviewer: reviewer, csrf: csrf)
        html += "<form id=\"report-filter\" method=\"get\" action=\"/review/reports\"><label>Ngày <span class=\"en\">as of</span> "
            + "<input type=\"date\" name=\"as_of\" value=\"\(escape(day))\"></label> <label>Mã xã <span class=\"en\">commune code</span> "
            + "<input type=\"text\" name=\"unit\" size=\"6\" value=\"\(escape(unit ?? ""))\"></label> "
            + "<label>Đánh giá năm <span class=\"en\">ratings of</span> <input type=\"number\" name=\"year\" min=\"1990\" max=\"2100\" "
            + "value=\"\(ratings.first.map { String($0.year) } ?? "")\"></label> "
            + "<label>Bồi dưỡng từ <span class=\"en\">trainings since</span> <input type=\"date\" name=\"since\" "
            + "value=\"\(escape(trainings.first?.since ?? ""))\"></label> "
            + "<button type=\"submit\" id=\"apply-report\">Xem <span class=\"en\">Show</span></button></form>\n"
        let query = "as_of=\(day)" + (unit.map { "&unit=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") } ?? "")
            + (ratings.first.map { "&year=\($0.year)" } ?? "") + (trainings.first.map { "&since=\($0.since)" } ?? "")
        html += "<h2>Biên chế so với định biên <span class=\"en\">Staffing against quotas</span>, \(escape(RegisterDate.shown(day)))</h2>\n"
            + "<p><a id=\"staffing-csv\" href=\"/review/reports.csv?\(query)\">Tải CSV <span class=\"en\">download CSV</span></a> · "
            + "<a id=\"reports-xlsx\" href=\"/review/reports.xlsx?\(query)\">Tải Excel, mọi báo cáo <span class=\"en\">download every report as Excel</span></a></p>\n"
            + "<table id=\"staffing\"><tr><th>Xã <span class=\"en\">commune</span></th><th>Loại <span class=\"en\">category</span></th>"
            + "<th>Đã bố trí <span class=\"en\">filled</span></th><th>Định biên <span class=\"en\">quota</span></th><th></th></tr>\n"
        for line in staffing where line.filled > 0 || line.quota != nil {
            let most = max(line.quota ?? 0, line.filled, 1)
            let width = 200.0
            let bar = """
                <svg width="\(Int(width) + 2)" height="14" role="img" aria-label="\(line.filled) / \(line.quota.map(String.init) ?? "-")">\
                <rect x="1" y="1" width="\(Int(width))" height="12" fill="#eee" stroke="#999"/>\
                <rect x="1" y="1" width="\(Int(width * Double(line.filled) / Double(most)))" height="12" fill="\(line.quota.map { line.filled > $0 } == true ? "#c33" : "#48a")"/>\
                \(line.quota.map { "<line x1=\"\(1 + Int(width * Double($0) / Double(most)))\" y1=\"0\" x2=\"\(1 + Int(width * Double($0) / Double(most)))\" y2=\"14\" stroke=\"#000\"/>" } ?? "")</svg>
                """
            html += "<tr><td>\(escape(line.communeCode == "*" ? "Tổng cộng (total)" : "\(line.commune) (\(line.communeCode))"))</td>"
                + "<td>\(escape(line.categoryVi))</td><td>\(line.filled)"
                + (line.measure == "posts" ? " chức danh <span class=\"en\">posts</span> (\(line.people) người)" : " người") + "</td>"
                + "<td>\(line.quota.map(String.init) ?? "–")\(line.legalBasis.map { " (\(escape($0)))" } ?? "")</td><td>\(bar)"
                + (line.openItems > 0 ? " <a class=\"open-items\" href=\"/review\">⚠ \(line.openItems) mục chờ xem xét <span class=\"en\">open items</span></a>" : "")
                + "</td></tr>\n"
        }
        html += "</table>\n<h2>Kiêm nhiệm <span class=\"en\">Concurrent holding</span></h2>\n<ul id=\"concurrent\">\n"
            + "<li>Bí thư đảng ủy kiêm chủ tịch UBND: \(concurrent.secretaryChairsCommittee) / \(concurrent.communes) xã</li>\n"
            + "<li>Bí thư đảng ủy kiêm chủ tịch HĐND: \(concurrent.secretaryChairsCouncil) / \(concurrent.communes) xã</li>\n"
            + "<li>Bí thư chi bộ kiêm trưởng thôn: \(concurrent.cellSecretaryIsHamletHead) / \(concurrent.hamlets) thôn</li>\n"
            + "<li>Bí thư chi bộ kiêm trưởng ban công tác Mặt trận: \(concurrent.cellSecretaryHeadsFront) / \(concurrent.hamlets) thôn</li>\n</ul>\n"
        html += levelTables(qualifications: qualifications, ratings: ratings, trainings: trainings)
        return html + "</body></html>\n"
    }

    /// Qualifications, ratings of a year and trainings since a date, a row per level.
    static func levelTables(
        qualifications: [RegisterReports.Qualifications], ratings: [RegisterReports.Ratings], trainings: [RegisterReports.Trainings]
    ) -> String {
        func level(_ level: String, _ group: String) -> String {
            let label = RegisterReports.groupLabel(level: level, group: group)
            return "\(escape(label.vi)) <span class=\"en\">\(escape(label.en))</span>"
        }
        func percent(_ value: Double) -> String { String(format: "%.2f", value).replacingOccurrences(of: ".", with: ",") + " %" }
        func open(_ items: Int) -> String {
            items == 0 ? "" : " <a class=\"open-items\" href=\"/review\">⚠ \(items) mục chờ xem xét <span class=\"en\">open items</span></a>"
        }
        func counts(_ counts: [String: Int], of column: String) -> String {
            counts.sorted { $0.key < $1.key }.map { "\(escape(RegisterLabels.value($0.key, of: column) ?? $0.key)): \($0.value)" }
                .joined(separator: ", ")
        }
        var html = "<h2>Trình độ <span class=\"en\">Qualifications</span></h2>\n<table id=\"qualifications\"><tr><th>Nhóm <span class=\"en\">group</span></th>"
            + "<th>Số người <span class=\"en\">people</span></th><th>Đại học trở lên <span class=\"en\">university or above</span></th>"
            + "<th>Trung cấp trở lên <span class=\"en\">secondary vocational or above</span></th>"
            + "<th>Có trình độ LLCT <span class=\"en\">political theory trained</span></th>"
            + "<th>Đã bồi dưỡng QLNN <span class=\"en\">state management trained</span></th><th></th></tr>\n"
        for figure in qualifications {
            html += "<tr><td>\(level(figure.level, figure.group))</td><td>\(figure.degree.people)</td><td>\(percent(figure.universityOrAbove))</td>"
                + "<td>\(percent(figure.intermediateOrAbove))</td><td>\(percent(figure.politicalTheoryTrained))</td>"
                + "<td>\(percent(figure.stateManagementTrained))</td><td>\(open(figure.openItems))</td></tr>\n"
        }
        let year = ratings.first.map { String($0.year) } ?? ""
        html += "</table>\n<h2>Đánh giá năm \(year) <span class=\"en\">Ratings of \(year)</span></h2>\n<table id=\"ratings\"><tr>"
            + "<th>Nhóm <span class=\"en\">group</span></th><th>Được đánh giá <span class=\"en\">rated</span></th>"
            + "<th>Hoàn thành nhiệm vụ trở lên <span class=\"en\">meeting requirements or better</span></th>"
            + "<th>Xếp loại <span class=\"en\">ratings</span></th><th></th></tr>\n"
        for figure in ratings {
            html += "<tr><td>\(level(figure.level, figure.group))</td><td>\(figure.rated)</td><td>\(figure.meetingOrBetter)</td>"
                + "<td>\(counts(figure.ratings.counts, of: "rating"))</td><td>\(open(figure.openItems))</td></tr>\n"
        }
        let since = trainings.first.map { RegisterDate.shown($0.since) } ?? ""
        html += "</table>\n<h2>Bồi dưỡng từ \(escape(since)) <span class=\"en\">Trainings since \(escape(since))</span></h2>\n"
            + "<table id=\"trainings\"><tr><th>Nhóm <span class=\"en\">group</span></th><th>Số người <span class=\"en\">people</span></th>"
            + "<th>Lượt <span class=\"en\">attendances</span></th><th>Lĩnh vực <span class=\"en\">by field</span></th><th></th></tr>\n"
        for figure in trainings {
            html += "<tr><td>\(level(figure.level, figure.group))</td><td>\(figure.people)</td><td>\(figure.attendances)</td>"
                + "<td>\(counts(figure.byField, of: "field"))</td><td>\(open(figure.openItems))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// A refused request, with the way back to the desk.
    package static func refusalPage(_ message: String) -> String {
        head() + """
            <h1>Xem xét xung đột <span class="en">Conflict review</span></h1>
            <p class="refusal" id="refusal">\(escape(message))</p>
            <p><a href="/review">Về trang xem xét <span class="en">Back to the review desk</span></a></p>
            </body></html>

            """
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A posted form's fields. A name sent more than once (the boxes ticked on a holding or
    /// quota item) gets its values joined by commas, as the API takes several picks.
    package static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first else { continue }
            let value = parts.count > 1 ? parts[1] : ""
            fields[name] = fields[name].map { $0 + "," + value } ?? value
        }
        return fields
    }
}

/// What a reviewer narrows the desk to: a kind of item, one commune (its code), words of a
/// name, a citizen id or an id. Empty fields narrow nothing.
package struct ReviewFilter: Equatable {
    var kind = ""
    var commune = ""
    var text = ""
    /// Only items open longer than this many days.
    var olderThanDays: Int?

    package init(kind: String = "", commune: String = "", text: String = "", olderThanDays: Int? = nil) {
        self.kind = kind.trimmingCharacters(in: .whitespaces)
        self.commune = commune.trimmingCharacters(in: .whitespaces)
        self.text = text.trimmingCharacters(in: .whitespaces)
        self.olderThanDays = olderThanDays.flatMap { $0 > 0 ? min($0, 36_500) : nil }
    }

    package var isEmpty: Bool { kind.isEmpty && commune.isEmpty && text.isEmpty && olderThanDays == nil }

    /// The query string that keeps this filter on the next page's link.
    var query: String {
        [("kind", kind), ("commune", commune), ("q", text), ("age", olderThanDays.map(String.init) ?? "")].filter { !$0.1.isEmpty }
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
    }

    /// Case, accents and đ folded away, so "nguyen van an" finds "Nguyễn Văn An".
    static func folded(_ text: String) -> String {
        text.replacingOccurrences(of: "đ", with: "d").replacingOccurrences(of: "Đ", with: "D")
            .folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }

    /// Whether `item` (whose commune's code is `communeCode`) passes.
    func admits(_ item: ConflictView, communeCode: String?, names: ReviewPage.Names, now: Date = Date()) -> Bool {
        if !kind.isEmpty && item.kind != kind { return false }
        if let days = olderThanDays {
            guard let opened = item.opened.flatMap({ try? Date($0, strategy: .iso8601) }),
                now.timeIntervalSince(opened) >= Double(days) * 86_400
            else { return false }
        }
        if !commune.isEmpty && communeCode != commune { return false }
        guard !text.isEmpty else { return true }
        let wanted = Self.folded(text)
        var haystack = [item.id, names.people[item.row] ?? ""]
        for side in item.sides {
            haystack += [side.person ?? "", side.person.flatMap { names.people[$0] } ?? "", side.fullName ?? "", side.citizenID ?? "",
                         side.assignment ?? ""]
        }
        return haystack.contains { Self.folded($0).contains(wanted) }
    }
}
