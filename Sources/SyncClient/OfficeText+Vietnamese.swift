import Foundation
import Register
import Replica
import SyncConfig

/// `syncctl` in Vietnamese: the words of a commune office (máy chủ huyện, dữ liệu của xã,
/// đồng bộ), numbers with a decimal comma.
public struct Vietnamese: OfficeCatalogue {
    public init() {}

    public var language: OfficeLanguage { .vi }

    public func state(_ state: StatusReport.State?) -> String {
        switch state {
        case .healthy: return "BÌNH THƯỜNG"
        case .degraded: return "CẦN XỬ LÝ"
        case .down: return "ĐANG NGỪNG"
        case nil: return "KHÔNG KIỂM TRA ĐƯỢC"
        }
    }

    public func label(_ label: StatusLabel) -> String {
        switch label {
        case .daemon: return "dịch vụ syncd"
        case .hub: return "máy chủ huyện"
        case .lastSent: return "gửi lên lần cuối"
        case .lastReceived: return "nhận về lần cuối"
        case .unsent: return "chưa gửi lên"
        case .conflicts: return "xung đột"
        case .versions: return "phiên bản sổ / quy tắc"
        case .clock: return "đồng hồ"
        case .space: return "tệp dữ liệu / đĩa trống"
        case .refused: return "bị máy chủ từ chối"
        case .sameAsHub: return "khớp với máy chủ"
        case .rebuilt: return "khôi phục từ máy chủ"
        case .hubProblem: return "sự cố máy chủ"
        case .previousComputer: return "máy trước"
        case .lastError: return "lỗi gần nhất"
        case .whatToDo: return "cần làm"
        }
    }

    public func yesNo(_ value: Bool) -> String { value ? "có" : "KHÔNG" }

    public var never: String { "chưa lần nào" }

    public func duration(seconds: Double) -> String {
        let (amount, unit) = OfficeText.span(seconds)
        switch unit {
        case 0: return "\(amount) giây"
        case 1: return "\(amount) phút"
        case 2: return "\(amount) giờ"
        default: return "\(amount) ngày"
        }
    }

    public func moment(local: String, ago: String) -> String { "\(local) (\(ago) trước)" }

    public func daemon(running: Bool, upFor: String?) -> String {
        running ? "đang chạy" + (upFor.map { " (được \($0))" } ?? "") : "KHÔNG CHẠY"
    }

    public func hub(url: String, answers: Bool, trusted: Bool) -> String {
        "\(url)  " + (trusted ? (answers ? "trả lời được" : "KHÔNG TRẢ LỜI") : "KHÔNG TIN CẬY ĐƯỢC")
    }

    public func unsent(rows: Int, changes: Int, oldest: String?) -> String {
        changes == 0 ? "không có" : "\(max(rows, 1)) bản ghi, \(changes) mục" + (oldest.map { ", cũ nhất đã \($0)" } ?? "")
    }

    public func conflicts(awaitingReview: Int, settledByRule: Int) -> String {
        "\(awaitingReview) chờ huyện xem xét, \(settledByRule) đã giải quyết theo quy tắc"
    }

    public func versions(schema: Int, hubSchema: Int?, rules: String, hubRules: String?) -> String {
        var said: [String] = []
        if let hubSchema, hubSchema != schema { said.append("máy chủ dùng sổ \(hubSchema)") }
        if let hubRules, hubRules != rules { said.append("máy chủ có quy tắc \(hubRules)") }
        return "\(schema) / \(rules)" + (said.isEmpty ? "" : " (\(said.joined(separator: ", ")))")
    }

    public func clock(skewSeconds: Double?) -> String {
        guard let skewSeconds else { return "-" }
        if abs(skewSeconds) < 1 { return "khớp với máy chủ" }
        if abs(skewSeconds) >= 120 { return "\(skewSeconds > 0 ? "nhanh" : "chậm") hơn máy chủ \(duration(seconds: abs(skewSeconds)))" }
        let amount = String(format: "%.1f", abs(skewSeconds)).replacingOccurrences(of: ".", with: ",")
        return "\(skewSeconds > 0 ? "nhanh" : "chậm") hơn máy chủ \(amount) giây"
    }

    public func space(file: String, free: String) -> String { "\(file) / còn trống \(free)" }

    public func refused(changes: Int, rows: Int) -> String {
        rows == 0 ? "không có" : "\(rows) bản ghi, \(changes) mục (xem 'syncctl refused')"
    }

    public func sameAsHub(differingRows: Int, lastChecked: String?) -> String {
        if differingRows > 0 { return "KHÔNG: \(differingRows) bản ghi khác máy chủ" }
        return lastChecked.map { "có, kiểm tra lúc \($0)" } ?? "chưa so sánh (syncd so sánh khi không còn gì chờ gửi)"
    }

    public func roundFailed(_ kind: RoundFailure?, detail: String) -> String {
        switch kind {
        case .unreachable?: return "máy chủ huyện không trả lời: kiểm tra đường truyền lên huyện; các thay đổi vẫn được giữ ở đây và sẽ gửi khi máy chủ trả lời"
        case .untrustedHub?, .insecureHub?: return "không dùng được máy chủ huyện (chi tiết bằng tiếng Anh): \(detail)"
        case .credentialRefused?:
            return "máy chủ không chấp nhận khoá truy cập của xã: xin văn phòng huyện cấp khoá mới, lưu vào "
                + "/etc/communesync/credential rồi khởi động lại syncd ('systemctl restart syncd'); trong lúc đó các thay đổi vẫn được giữ ở đây"
        case .forbidden?: return "máy chủ từ chối yêu cầu của syncd (chi tiết bằng tiếng Anh): \(detail)"
        case .versionMismatch?:
            return "xã và máy chủ đang chạy hai phiên bản sổ không đồng bộ được với nhau; các thay đổi được giữ ở đây "
                + "cho đến khi nâng cấp xong (chi tiết bằng tiếng Anh): \(detail)"
        case .clockAhead?:
            return "đồng hồ máy này nhanh hơn máy chủ: bật đồng bộ giờ ('timedatectl set-ntp true'); không mất gì, syncd gửi tất cả khi giờ đúng"
        case .unitEnded?: return "đơn vị của xã đã kết thúc do sắp xếp lại (chi tiết bằng tiếng Anh): \(detail)"
        case .tooLarge?: return "một yêu cầu quá lớn đối với máy chủ (chi tiết bằng tiếng Anh): \(detail)"
        case .badReply?: return "không đọc được câu trả lời của máy chủ (chi tiết bằng tiếng Anh): \(detail)"
        case .diskFull?: return "ổ đĩa chứa tệp dữ liệu đã đầy: hãy giải phóng dung lượng ('syncctl status' cho biết còn trống bao nhiêu); không mất gì"
        case .other?, nil: return "lần đồng bộ gần nhất bị lỗi (chi tiết bằng tiếng Anh): \(detail)"
        }
    }

    public func previousComputer(lastSync: String, unsent: Int?, oldest: String?) -> String {
        let before = "máy tính trước (máy này thay thế) đồng bộ lần cuối lúc \(lastSync); "
        let after = "những gì nhập ở máy đó sau thời điểm ấy cũng không có ở đây"
        switch unsent {
        case 0?: return before + "mọi thứ nhập ở đó đến lúc ấy đã lên máy chủ và có ở đây; " + after
        case let count?:
            return before + "khi đó máy còn \(count) mục chưa gửi" + (oldest.map { " (mục cũ nhất nhập trước đó \($0))" } ?? "")
                + ": chúng chưa bao giờ lên máy chủ và không có ở đây; " + after
                + ". Hãy nhập lại, hoặc nếu ổ đĩa của máy cũ còn đọc được, nhờ văn phòng huyện giúp khôi phục tệp dữ liệu của nó"
        case nil: return before + "máy chủ không biết khi đó máy còn gì chưa gửi hay không; " + after
        }
    }

    public func rebuilt(at: String, cause: RebuildCause?) -> String {
        let why = switch cause {
        case .restored?: "tệp dữ liệu này cũ hơn bản máy chủ đang giữ (có thể được chép lại từ bản sao lưu)"
        case .copied?: "có một máy tính khác đang chạy bản sao của tệp dữ liệu này"
        case .clock?: "những gì nhập lúc đồng hồ máy này chạy nhanh đã được ghi lại theo giờ đúng"
        case nil: "tệp dữ liệu không khớp với máy chủ"
        }
        return "\(at): \(why); mọi thay đổi chưa gửi đều được giữ lại và gửi lại"
    }

    public func advice(_ advice: StatusAdvice) -> String {
        switch advice {
        case .startDaemon:
            return "dịch vụ syncd không chạy: bật bằng lệnh 'systemctl start syncd'; lệnh 'journalctl -u syncd' cho biết vì sao nó dừng"
        case .freeDisk:
            return "ổ đĩa chứa tệp dữ liệu của xã còn chưa đến 200 MB: hãy giải phóng dung lượng, nếu không sẽ không ghi được dữ liệu"
        case .hubProblem(let problem):
            return "không dùng được máy chủ huyện (không phải do đường truyền): \(problem)"
        case .hubSilent:
            return "máy chủ huyện không trả lời: kiểm tra đường truyền lên huyện; các thay đổi vẫn được giữ ở đây và sẽ gửi khi máy chủ trả lời"
        case .copiesRunning(let rebuilds):
            return "trong 24 giờ qua, dữ liệu ở đây đã phải khôi phục từ máy chủ \(rebuilds) lần: rất có thể một máy tính khác đang chạy "
                + "bản sao tệp dữ liệu này (cùng mã xã và cùng khoá truy cập). Chỉ giữ một máy: ở máy kia chạy 'systemctl disable --now syncd' "
                + "rồi xoá bản sao; những gì đã nhập ở cả hai máy vẫn còn trên máy chủ"
        case .lastSyncFailed(let kind, let why):
            return roundFailed(kind, detail: why)
        case .refused(let rows, let example):
            let row = rows == 1 ? example.argument : "BẢN_GHI"
            return "máy chủ từ chối thay đổi của \(rows) bản ghi nhập ở đây (\(table(example.table)) \(example.row): "
                + "\(refusal(code: example.code))); các thay đổi này được giữ lại, không gửi lại. Lệnh 'syncctl refused' cho biết lý do; "
                + "sửa bản ghi rồi chạy 'syncctl refused retry \(row)', hoặc bỏ thay đổi bằng 'syncctl refused clear \(row)'"
        case .districtNotAtHub(let changes, let example):
            return "máy chủ đã được khôi phục từ một bản sao cũ và thiếu \(changes) thay đổi của huyện đang có ở đây (\(example)) "
                + "mà nó không nhận lại được: dữ liệu xã này khác máy chủ. Báo văn phòng huyện: đặt lại tệp district.key bên cạnh "
                + "cơ sở dữ liệu của máy chủ, hoặc nhờ cán bộ huyện nhập lại các bản ghi này"
        case .differing(let rows, let example):
            return "\(rows) bản ghi ở đây khác bản của máy chủ và việc hợp nhất không sửa được (\(example)): "
                + "chạy 'syncctl doctor' và báo văn phòng huyện"
        case .clockOff(let seconds):
            return "đồng hồ máy này \(seconds > 0 ? "nhanh" : "chậm") hơn máy chủ \(duration(seconds: Double(abs(seconds)))), nên máy chủ "
                + "chưa nhận những gì nhập ở đây: bật đồng bộ giờ ('timedatectl set-ntp true'); không mất gì, syncd gửi tất cả khi giờ đúng"
        case .unsentOld:
            return "có thay đổi nhập từ hơn một ngày trước mà máy chủ chưa nhận: chạy 'syncctl sync' và đọc kết quả"
        case .awaitingReview(let count):
            return "\(count) xung đột đang chờ huyện xem xét; ở xã không cần làm gì"
        case .rulesBehind(let mine, let hub):
            return "xã đang dùng quy tắc xử lý xung đột \(mine) nhưng máy chủ đã có \(hub): chạy 'syncctl sync'"
        case .hubLacksDropped(let at):
            return "máy chủ của huyện đã được khôi phục từ một bản sao cũ hơn thời gian xã còn giữ những gì đã gửi (phát hiện lúc \(at)): "
                + "những thay đổi gửi từ lâu vẫn có trong sổ của xã nhưng không gửi lại được; báo cho huyện để khôi phục máy chủ từ bản sao mới hơn"
        case .awayPastHorizon(let days, let horizon):
            return "xã chưa nhận được thay đổi từ máy chủ trong \(days) ngày, lâu hơn thời gian huyện còn giữ (\(horizon) ngày): "
                + "hãy khôi phục kết nối tới máy chủ (mạng, rồi 'syncctl sync'); khi đồng bộ lại, những thay đổi làm ở xã đối với các bản ghi "
                + "đã bị xóa trong thời gian đó sẽ bị từ chối và được liệt kê bằng 'syncctl refused', ngoài ra không mất gì"
        case .upgradePending(let mine, let hub):
            return "máy chủ của huyện đã được nâng cấp (sổ phiên bản \(hub), xã phiên bản \(mine)): xã vẫn đồng bộ bình thường, "
                + "những gì chưa hiển thị được sẽ được giữ lại và hiện ra sau khi nâng cấp; hỏi huyện lịch nâng cấp syncd ở xã"
        }
    }

    public func cannotCheck(_ why: CannotCheck) -> (error: String, hint: String) {
        switch why {
        case .configMissing(let path):
            return ("không có tệp cấu hình \(path)",
                    "chỉ đúng tệp của xã bằng --config, hoặc cài đặt cho xã trước (README: 'Install a commune office')")
        case .configUnreadable(let path):
            return ("người dùng này không được đọc tệp cấu hình \(path)",
                    "chạy bằng root hoặc bằng người dùng thuộc nhóm communesync-writers ('sudo syncctl status')")
        case .configInvalid(let path, let problem):
            return ("tệp cấu hình \(path) bị sai: \(problem)",
                    "sửa tệp: Config/commune.toml giải thích từng mục, và 'syncctl doctor' kiểm tra nó")
        case .replicaUnreadable(let path, let problem, let daemonRunning):
            return ("không đọc được tệp dữ liệu của xã \(path): \(problem)",
                    daemonRunning
                        ? "syncd đang chạy nhưng người dùng này không đọc được tệp dữ liệu: chạy bằng root hoặc người dùng thuộc nhóm communesync-writers"
                        : "syncd không chạy và không đọc được tệp dữ liệu: 'syncctl doctor' kiểm tra tệp và quyền truy cập")
        }
    }

    public func sync(_ said: SyncSaid) -> String {
        switch said {
        case .daemonRound(let hub, let sent, let received):
            guard let sent, let received else { return "syncd đã đồng bộ với \(hub); 'syncctl status' cho biết máy chủ đã có những gì" }
            return "đã đồng bộ với \(hub): gửi lên \(sent) thay đổi, nhận về \(received) thay đổi"
        case .daemonRoundFailed(let why):
            return "đồng bộ không thành công: \(why); xem chi tiết bằng 'journalctl -u syncd'"
        case .daemonDidNotFinish:
            return "đồng bộ không thành công: syncd chưa xong lượt đồng bộ trong thời gian chờ; xem chi tiết bằng 'journalctl -u syncd'"
        case .round(let hub, let sent, let received, let new):
            return "đã đồng bộ với \(hub): gửi lên \(sent) thay đổi, nhận về \(received) thay đổi"
                + (received > 0 ? " (\(new) thay đổi mới ở xã)" : "")
        case .bootstrapped(let rows):
            return "  dữ liệu của xã được lấy từ máy chủ: \(rows) bản ghi"
        case .rebuilt(let kept, let fromHub):
            return "  tệp dữ liệu ở đây cũ hơn máy chủ (được khôi phục hoặc sao chép) nên đã được khôi phục từ máy chủ: "
                + "giữ lại và gửi lại \(kept) thay đổi chưa gửi, nhận \(fromHub) bản ghi từ máy chủ"
        case .refusedInRound(let changes):
            return "  máy chủ từ chối \(changes) thay đổi; các thay đổi khác đã đến nơi. Xem lý do và cách sửa bằng 'syncctl refused'"
        case .failed(let why):
            return "đồng bộ không thành công: \(why)"
        }
    }

    public func operation(_ operation: String) -> String {
        switch operation {
        case "insert": return "thêm"
        case "update": return "sửa"
        case "delete": return "xoá"
        default: return operation
        }
    }

    public func atHub(_ atHub: Bool?) -> String {
        switch atHub {
        case true?: return "máy chủ đã nhận"
        case false?: return "chưa gửi"
        case nil: return "syncd chưa xử lý"
        }
    }

    public func table(_ table: String) -> String { RegisterLabels.table(table) }

    public func column(_ column: String) -> String { RegisterLabels.column(column) }

    public func created(district: Bool, replica: String, path: String, schema: Int) -> String {
        "đã tạo tệp dữ liệu của \(district ? "máy chủ huyện" : "xã") \(replica) tại \(path) (phiên bản sổ \(schema)); "
            + (district ? "synchub dùng tệp này" : "syncd lấy dữ liệu từ máy chủ vào tệp ở lượt đồng bộ đầu tiên")
    }

    public func initRefused(path: String) -> String {
        "máy này đã có tệp dữ liệu của xã \(path): không thay đổi gì. Lệnh 'syncctl status' cho biết tình trạng; muốn lấy lại từ "
            + "máy chủ từ đầu, hãy dừng syncd và chuyển tệp đó (cùng các tệp -wal và -shm đi kèm) đi chỗ khác trước"
    }

    public func filledNewComputer(path: String, rows: Int) -> String {
        "đã tạo tệp dữ liệu của xã \(path) và lấy dữ liệu từ máy chủ vào: \(rows) bản ghi; bây giờ hãy bật syncd "
            + "('systemctl start syncd') để cán bộ xã nhập liệu tiếp"
    }

    public var noPreviousComputer: String { "trước đây máy chủ chưa nhận gì từ máy tính nào của xã này: không mất gì" }

    public func holdersHeading(date: String, units: Int) -> String { "Ngày \(date): \(units) đơn vị cấp xã" }

    public func holdersUnit(code: String, name: String, until: String?, holdings: Int) -> String {
        "\(code) \(name)" + (until.map { " (hiệu lực đến \($0))" } ?? "") + ": \(holdings) chức danh đang giữ"
    }

    public func holding(title: String, seat: String?, place: String?, person: String, kind: String?, from: String) -> String {
        "  \(title)" + (seat.map { " vị trí \($0)" } ?? "") + (place.map { ", ở \($0)" } ?? "") + ": \(person)"
            + " (\(kind == "concurrent" ? "kiêm nhiệm" : "chức danh chính"), từ \(from))"
    }

    public var noDecisions: String { "chưa có quyết định nào" }

    public func noItems(state: String) -> String { "không có xung đột nào ở tình trạng \(state)" }

    public func reviewItem(id: String, kind: String, rule: String, state: String, sides: Int) -> String {
        "\(id)  \(kind)  quy tắc \(rule)  \(state)  \(sides) phía"
    }

    public func duplicateRecords(citizenID: String, records: [String], more: Int) -> String {
        "    số CCCD \(citizenID): \(records.joined(separator: " / "))" + (more > 0 ? " / ... và \(more) hồ sơ khác" : "")
    }

    public func decision(number: Int64, at: String, reviewer: String, item: String, reverts: Int64?, pick: String?, value: String?,
                         wrote: Int, revertedBy: Int64?) -> String {
        "#\(number)  \(at)  \(reviewer)  \(item)" + (reverts.map { "  huỷ #\($0)" } ?? "") + (pick.map { "  giữ \($0)" } ?? "")
            + (value.map { "  giá trị \($0)" } ?? "") + "  ghi \(wrote) giá trị" + (revertedBy.map { "  (đã bị huỷ bởi #\($0))" } ?? "")
    }

    public func why(_ reason: String) -> String { "    lý do: \(reason)" }

    public func itemHeading(id: String, kind: String, rule: String, state: String) -> String { "\(id): xung đột loại \(kind), quy tắc \(rule), \(state)" }

    public func duplicateSide(person: String, name: String, born: String, citizenID: String, keptBy: String, origin: String) -> String {
        "  hồ sơ \(person)  \(name)  sinh \(born)  số CCCD \(citizenID)  do \(keptBy) quản lý  nhập ở \(origin)"
    }

    public func seatSide(assignment: String, person: String, decision: String, of: String, origin: String) -> String {
        "  phân công \(assignment)  người \(person)  quyết định \(decision) ngày \(of)  nhập ở \(origin)"
    }

    public func fieldSide(pick: String, origin: String, at: String, value: String) -> String {
        "  \(pick)  nhập ở \(origin) lúc \(at)  giá trị: \(value)"
    }

    public func resolved(item: String, number: Int64, wrote: Int) -> String {
        "đã quyết định \(item) (quyết định số \(number), ghi \(wrote) giá trị); các xã nhận được ở lượt đồng bộ sau"
    }

    public func reverted(number: Int64, item: String, recordedAs: Int64, wrote: Int) -> String {
        "đã huỷ quyết định số \(number) về \(item) (ghi nhận là số \(recordedAs), ghi \(wrote) giá trị)"
    }

    public func refusal(code: String) -> String {
        switch code {
        case "out_of_scope": return "bản ghi ghi tên một xã khác, không phải xã này"
        case "moved_away": return "bản ghi nay thuộc đơn vị khác quản lý"
        case "unknown_table", "unknown_column": return "sổ ở máy chủ không có mục này (máy chủ và xã đang chạy hai phiên bản khác nhau)"
        case "reference_table": return "danh mục này do huyện quản lý, xã không sửa được"
        case "too_large": return "có giá trị quá lớn"
        case "forgotten_row": return "bản ghi đã bị xóa khi xã mất kết nối, đã quá lâu nên thay đổi không gộp được; nếu vẫn cần, hãy nhập lại bản ghi"
        default: return "bị từ chối (\(code))"
        }
    }

    public func refusedState(_ state: RefusedChange.State) -> String {
        switch state {
        case .open: return "bị từ chối"
        case .retried: return "đã gửi lại"
        case .clearing: return "đang bỏ"
        case .cleared: return "đã bỏ"
        }
    }

    public func refusedFields(_ fields: [String]) -> String {
        fields.isEmpty ? "việc xoá bản ghi"
            : "\(fields.count) mục: " + fields.prefix(5).map(column).joined(separator: ", ") + (fields.count > 5 ? " và \(fields.count - 5) mục khác" : "")
    }

    public func hubExplained(_ message: String) -> String { "máy chủ giải thích (tiếng Anh): \(message)" }

    public func refusedHandled(rows: Int, retried: Bool) -> String {
        retried ? "\(rows) bản ghi sẽ được gửi lại ở lần đồng bộ sau (chạy 'syncctl sync' để gửi ngay)"
            : "\(rows) bản ghi sẽ trở về bản của máy chủ ở lần đồng bộ sau (chạy 'syncctl sync' để làm ngay)"
    }

    public var noRefused: String { "máy chủ không từ chối thay đổi nào nhập ở đây" }

    public var nothingWritten: String { "chưa nhập gì ở đây" }

    public func conflictState(_ state: ConflictState) -> String {
        switch state {
        case .open: return "chờ huyện"
        case .settled: return "theo quy tắc"
        case .decided: return "huyện đã quyết"
        case .closed: return "đã xong"
        case .ended: return "đã kết thúc"
        }
    }

    public func conflict(_ said: ConflictSaid) -> String {
        switch said {
        case .field(let record, let column, let sides):
            return "\(record): \(column) được nhập khác nhau: " + sides.joined(separator: " / ")
        case .seat(let seat, let holders):
            return "\(seat) có \(holders.count) người cùng giữ: " + holders.joined(separator: ", ")
        case .titles(let person, let holdings):
            return "\(person) kiêm các chức danh mà quy định không cho phép: " + holdings.joined(separator: ", ")
        case .hamletTitles(let unit, let holdings):
            return "\(unit): số chức danh kiêm nhiệm ở thôn vượt quy định: " + holdings.joined(separator: ", ")
        case .quota(let unit, let category, let holdings):
            return "\(unit) vượt định biên \(RegisterLabels.value(category, of: "category") ?? category): " + holdings.joined(separator: ", ")
        case .duplicate(let person):
            return "\(person) có thể trùng với hồ sơ của một xã khác: huyện đang xem xét"
        case .placement(let record):
            return "nơi công tác của \(record) sau sắp xếp đơn vị: huyện đang xem xét"
        case .deletion(let record):
            return "\(record) bị xã cũ xoá sau khi đã chuyển đi: huyện quyết định có xoá hay không"
        case .ended(let assignment, let on, let why):
            return "\(assignment) từ ngày \(on): \(why)"
        }
    }

    public func side(_ what: String, origin: String, here: Bool) -> String {
        "\(what) (nhập " + (here ? "ở xã này)" : "ở \(origin))")
    }

    public func outcome(_ said: DecisionSaid) -> String {
        switch said {
        case .undone(let decision): return "huỷ quyết định số \(decision): ghi lại các giá trị trước đó"
        case .value(let value): return "giữ giá trị \(value)"
        case .keepsSeat(let holder): return "\(holder) giữ vị trí; những người khác kết thúc"
        case .recordKept(let record): return "giữ hồ sơ \(record); các hồ sơ kia được gộp vào"
        case .deletedEverywhere: return "bản ghi bị xoá ở mọi nơi"
        case .kept: return "giữ bản ghi"
        case .assignmentsEnd(let ended): return "kết thúc: " + ended.joined(separator: ", ")
        case .placement(let unit): return "thuộc \(unit)"
        case .side(let side): return "giữ \(side)"
        }
    }

    public func decided(number: Int64, outcome: String, by reviewer: String, at local: String, why: String) -> String {
        "quyết định số \(number): \(outcome); người quyết định \(reviewer), lúc \(local); lý do: \(why)"
    }

    public var noConflicts: String { "không có xung đột" }
}

extension Vietnamese {
    public func verdict(_ verdict: DoctorVerdict) -> String {
        switch verdict {
        case .ok: return "ổn"
        case .warning: return "LƯU Ý"
        case .failure: return "LỖI"
        }
    }

    public var fixLabel: String { "cách sửa:" }

    public func doctor(_ said: DoctorSaid) -> (what: String, fix: String?) {
        switch said {
        case .configReads(let path): return ("đọc được tệp cấu hình \(path)", nil)
        case .configBroken(let problem): return ("tệp cấu hình: \(problem)", "so với Config/commune.toml, nơi giải thích từng mục")
        case .noReplica(let path): return ("chưa có tệp dữ liệu ở \(path)", "bật syncd: nó tạo tệp và lấy dữ liệu từ máy chủ")
        case .replicaBelongs(let path, let replica): return ("tệp dữ liệu \(path) là của xã \(replica)", nil)
        case .replicaOfAnother(let path, let holds, let configured, let config):
            return ("\(path) là tệp dữ liệu của \(holds), nhưng commune.toml ghi \(configured)", "sửa 'replica' hoặc 'database' trong \(config)")
        case .integrityPassed: return ("kiểm tra toàn vẹn dữ liệu: tốt", nil)
        case .integrityFailed(let result, let path):
            return ("kiểm tra toàn vẹn dữ liệu: \(result)", "dừng syncd, chuyển \(path) sang chỗ khác (giữ lại) rồi bật syncd: nó dựng lại tệp từ máy chủ")
        case .diskLow(let megabytes, let directory): return ("\(directory) chỉ còn trống \(megabytes) MB", "giải phóng dung lượng trước khi không ghi được dữ liệu")
        case .replicaUnreadable(let problem): return ("tệp dữ liệu: \(problem)", nil)
        case .writable(let directory, let path): return ("người dùng này đọc và ghi được \(directory ? "thư mục" : "tệp dữ liệu") \(path)", nil)
        case .notWritable(let directory, let path):
            return ("người dùng này không ghi được \(directory ? "thư mục" : "tệp dữ liệu") \(path)",
                    "thêm người dùng vào nhóm nhập liệu của xã (usermod -aG communesync-writers TÊN, rồi đăng nhập lại)")
        case .permissions(let problem, let fix): return (problem, fix)
        case .credentialInConfig(let path):
            return ("\(path) chứa chính khoá truy cập và người khác ngoài root đọc được",
                    "chuyển khoá sang credential_file (chỉ root đọc được, chmod 600) và xoá 'credential' khỏi \(path)")
        case .permissionsHold: return ("quyền truy cập: khoá chỉ root đọc được, sổ của nhóm nhập liệu, người khác không đọc được", nil)
        case .credentialSet: return ("đã có khoá truy cập", nil)
        case .credentialRootsAndAccepted(let file): return ("khoá \(file) chỉ root đọc được; máy chủ đã nhận khoá của syncd ở lượt gần nhất", nil)
        case .hubRefusedLastRound(let why):
            return ("máy chủ từ chối lượt đồng bộ gần nhất của syncd: \(why)", "chạy 'syncctl doctor' bằng root để thử khoá với máy chủ")
        case .credentialRootsAlone(let file): return ("khoá \(file) chỉ root đọc được (chạy doctor bằng root để thử với máy chủ)", nil)
        case .credentialMissing(let problem):
            return ("khoá truy cập: \(problem)", "xin văn phòng huyện khoá truy cập của xã và lưu vào credential_file")
        case .hubProblem(let problem): return ("không dùng được máy chủ huyện: \(problem)", nil)
        case .hubSilent(let url): return ("máy chủ \(url) không trả lời", "kiểm tra đường truyền và hub.url; các thay đổi vẫn giữ ở đây và gửi khi máy chủ trả lời")
        case .hubAnswers(let url): return ("máy chủ \(url) trả lời được", nil)
        case .credentialAccepted: return ("máy chủ chấp nhận khoá truy cập và phiên bản của xã", nil)
        case .versionsDiffer(let message): return ("phiên bản khác nhau: \(message)", "nâng cấp bên cũ hơn")
        case .credentialRefused(let status, let message):
            return ("máy chủ từ chối khoá truy cập (\(status)): \(message)", "xin văn phòng huyện khoá truy cập mới")
        case .credentialCheckFailed(let message): return ("không kiểm tra được khoá truy cập: \(message)", nil)
        case .clockOff(let seconds):
            return ("đồng hồ máy này \(seconds > 0 ? "nhanh" : "chậm") hơn máy chủ \(duration(seconds: Double(abs(seconds))))", "bật đồng bộ giờ: 'timedatectl set-ntp true'")
        case .clockWithin(let seconds):
            return ("đồng hồ lệch máy chủ không quá " + String(format: "%.1f", seconds).replacingOccurrences(of: ".", with: ",") + " giây", nil)
        case .daemonAnswers(let socket): return ("syncd trả lời ở \(socket)", nil)
        case .daemonSilent(let socket): return ("syncd không trả lời ở \(socket)", "'systemctl start syncd'; 'journalctl -u syncd' cho biết vì sao nó dừng")
        }
    }
}
