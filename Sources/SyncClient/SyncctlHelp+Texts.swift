extension SyncctlHelp {
    static let english = SyncctlHelp(
        syncctl: "Look after a commune office's CommuneSync: is its data safe at the district hub, what was written, what conflicted, what the hub refused; and, at the district, review and report.",
        configPath: "Path of commune.toml.",
        language: "Language of the text: vi or en (default: LANG or LC_MESSAGES, else the configuration's language, else en).",
        database: "Path of the office's data file (SQLite).",
        status: "Is this office's data safe at the hub? Exit code 0 healthy, 1 needs attention, 2 down, 3 could not check.",
        statusJSON: "One JSON object (stable keys, for monitoring) instead of text.",
        sync: "Sync with the hub now (one round: send, then receive) and say what was sent and received.",
        doctor: "Check the configuration, the data file, permissions, the credential, the clock and the hub, with a fix for each problem.",
        conflicts: "Conflicts that touch this commune and where they stand (open: awaiting district review).",
        conflictsAll: "Include closed ones.",
        log: "What was written here, newest first: one line per row added, changed or deleted, and whether the hub has it.",
        logConfig: "Path of commune.toml (for the data file and the language; optional).",
        logDatabase: "Path of the office's data file (default: the one commune.toml names).",
        logToday: "Only what was written today (this computer's date).",
        logTable: "Only rows of this table (persons, positions, assignments, ...).",
        logRow: "Only this row (its id).",
        logLimit: "Show at most this many rows (with --json: changes).",
        logAfter: "With --json: only changes numbered above this one (a script goes on from the last it read).",
        logJSON: "The changes themselves, oldest first, one JSON object per line (for scripts; keys are stable).",
        refused: "Changes the hub refused (another commune's record, too large, ...): list them, send them again, or drop them.",
        refusedDiscussion: "A refused change is kept here and never sent again on its own; the office's other changes keep flowing. "
            + "Fix the row (e.g. set its commune_id to this commune's own row id: unit- and its code), then 'syncctl refused retry ROW' "
            + "sends the whole row again as it stands. 'syncctl refused clear ROW' drops the change here: syncd puts the row back as "
            + "the hub holds it (or removes it, if the hub holds nothing of it) at its next round. ROW is table/id, e.g. persons/p-17.",
        refusedList: "The refused changes (newest first).",
        refusedAll: "Include those already sent again or dropped.",
        refusedRetry: "Send refused rows again as they stand now (after fixing them).",
        refusedClear: "Drop refused changes here; the rows go back to the hub's version.",
        refusedRow: "table/id of the row, e.g. persons/p-17; all refused rows when left out.",
        initialise: "Create a new, empty data file with the register's tables, ready for syncd.",
        initReplica: "Whose file: the official code of the commune (e.g. 22499), or of the district for the hub.",
        initRole: "commune (an office) or district (the hub).",
        initConfig: "Path of commune.toml: make this office's data file and fill it from the hub (a new computer).",
        initDiscussion: "On an office's new computer (the old one died, or was replaced), with commune.toml and the credential "
            + "in place and syncd not yet started: 'syncctl init --config /etc/communesync/commune.toml' makes the data file, "
            + "fills it from the hub, and says what the old computer had not sent at its last sync, which is lost. Then "
            + "'systemctl start syncd'. With --replica instead, it makes an empty file (tests, the district's tools).",
        schema: "Print the register's tables and columns as this release has them (the source of Config/schema.sql).",
        report: "Who held which title on a date, by the communes in force that day (across mergers and splits).",
        reportDiscussion: "Reads a data file: an office's (its own records) or the hub's SQLite file (the whole district). "
            + "A date before a reorganisation shows the old units and who held what there; a later date shows the same "
            + "seats under the successor. The district's figures (staffing against quotas, concurrent holding, "
            + "qualifications, ratings, training) come from 'synchub report'.",
        reportAsOf: "The date (YYYY-MM-DD); today when left out.",
        reportJSON: "One JSON object instead of text.",
        review: "List and decide conflicts on the district hub's review desk.",
        reviewHub: "The hub's URL.",
        reviewCredential: "File holding the reviewer's credential.",
        reviewCAFile: "CA bundle to check the hub's certificate with, if not the system's.",
        reviewInsecure: "Send the credential over plain http to a hub on another computer (only on a link the district trusts).",
        reviewList: "Conflicts in a state (open by default), or the decisions made.",
        reviewState: "open, settled, closed or all; or decided: the district's decisions, newest first, with their numbers for 'revert'.",
        reviewListJSON: "The JSON array the hub serves at /v1/conflicts (/v1/reviews with --state decided).",
        reviewShow: "One conflict with all its sides.",
        reviewItem: "The conflict's id (table/row/column), as 'syncctl review list' prints it.",
        reviewResolve: "Decide a conflict: keep one side (--pick), or write a merged value (--value); always say why.",
        reviewPick: "Field: the side to keep, as 'syncctl review show' names it. Seat: the assignment that keeps the seat. "
            + "Holding, quota: the assignments to end, separated by commas (the hub refuses a pick that would not settle "
            + "the item, and says why). Duplicate: the persons.id to keep. Deletion: keep or delete.",
        reviewValue: "Field: a merged value to write instead.",
        reviewWhy: "Why; kept with the decision.",
        reviewRevert: "Undo a decision: write back the values it overwrote.",
        reviewDecision: "The decision's number (printed by resolve).",
        reviewRevertWhy: "Why; kept with the undoing.")

    static let vietnamese = SyncctlHelp(
        syncctl: "Chăm sóc CommuneSync của văn phòng xã: dữ liệu đã an toàn trên máy chủ huyện chưa, đã nhập gì, "
            + "xung đột gì, máy chủ từ chối gì; và ở huyện: xem xét xung đột, lập báo cáo.",
        configPath: "Đường dẫn tệp commune.toml.",
        language: "Ngôn ngữ hiển thị: vi hoặc en (mặc định: theo LANG hoặc LC_MESSAGES, nếu không thì theo tệp cấu hình, nếu không nữa thì en).",
        database: "Đường dẫn tệp dữ liệu của xã (SQLite).",
        status: "Dữ liệu của xã đã an toàn trên máy chủ huyện chưa? Mã thoát 0 bình thường, 1 cần xử lý, 2 đang ngừng, 3 không kiểm tra được.",
        statusJSON: "In một đối tượng JSON (khoá cố định, cho hệ thống giám sát) thay cho văn bản.",
        sync: "Đồng bộ với máy chủ ngay (một lượt: gửi lên rồi nhận về) và cho biết đã gửi, đã nhận bao nhiêu.",
        doctor: "Kiểm tra tệp cấu hình, tệp dữ liệu, quyền truy cập, khoá truy cập, đồng hồ và máy chủ; mỗi lỗi kèm cách sửa.",
        conflicts: "Các xung đột liên quan đến xã này và tình trạng của chúng (chờ huyện: đang chờ huyện xem xét).",
        conflictsAll: "Hiện cả những xung đột đã xong.",
        log: "Những gì đã nhập ở đây, mới nhất trước: mỗi dòng một bản ghi được thêm, sửa hoặc xoá, và máy chủ đã có chưa.",
        logConfig: "Đường dẫn tệp commune.toml (để biết tệp dữ liệu và ngôn ngữ; không bắt buộc).",
        logDatabase: "Đường dẫn tệp dữ liệu của xã (mặc định: tệp mà commune.toml chỉ ra).",
        logToday: "Chỉ những gì nhập hôm nay (theo ngày của máy này).",
        logTable: "Chỉ các bản ghi của bảng này (persons, positions, assignments, ...).",
        logRow: "Chỉ bản ghi này (theo mã của nó).",
        logLimit: "Hiện nhiều nhất chừng này bản ghi (với --json: chừng này thay đổi).",
        logAfter: "Với --json: chỉ các thay đổi có số thứ tự lớn hơn số này (để chương trình đọc tiếp từ chỗ đã dừng).",
        logJSON: "In chính các thay đổi, cũ nhất trước, mỗi dòng một đối tượng JSON (cho chương trình đọc; khoá cố định).",
        refused: "Các thay đổi bị máy chủ từ chối (hồ sơ của xã khác, quá lớn, ...): xem, gửi lại, hoặc bỏ.",
        refusedDiscussion: "Thay đổi bị từ chối được giữ ở đây và không tự gửi lại; các thay đổi khác của xã vẫn được gửi bình thường. "
            + "Sửa bản ghi (ví dụ đặt commune_id thành mã bản ghi của chính xã này: unit- và mã xã), rồi 'syncctl refused retry BẢN_GHI' "
            + "gửi lại cả bản ghi như hiện có. 'syncctl refused clear BẢN_GHI' bỏ thay đổi ở đây: ở lượt đồng bộ sau, syncd đưa bản ghi "
            + "về như máy chủ đang giữ (hoặc xoá đi, nếu máy chủ không có). BẢN_GHI viết là bảng/mã, ví dụ persons/p-17.",
        refusedList: "Các thay đổi bị từ chối (mới nhất trước).",
        refusedAll: "Hiện cả những thay đổi đã gửi lại hoặc đã bỏ.",
        refusedRetry: "Gửi lại các bản ghi bị từ chối như hiện có (sau khi đã sửa).",
        refusedClear: "Bỏ các thay đổi bị từ chối ở đây; bản ghi trở về như bản của máy chủ.",
        refusedRow: "bảng/mã của bản ghi, ví dụ persons/p-17; bỏ trống: mọi bản ghi bị từ chối.",
        initialise: "Tạo một tệp dữ liệu mới, trống, có sẵn các bảng của sổ, để syncd dùng.",
        initReplica: "Tệp của ai: mã chính thức của xã (ví dụ 22499), hoặc của huyện cho máy chủ.",
        initRole: "commune (văn phòng xã) hoặc district (máy chủ huyện).",
        initConfig: "Đường dẫn tệp commune.toml: tạo tệp dữ liệu của xã và lấy dữ liệu từ máy chủ vào (máy tính mới).",
        initDiscussion: "Trên máy tính mới của xã (máy cũ hỏng hoặc được thay), khi đã có commune.toml và khoá truy cập, syncd chưa chạy: "
            + "'syncctl init --config /etc/communesync/commune.toml' tạo tệp dữ liệu, lấy dữ liệu từ máy chủ vào, và cho biết máy cũ "
            + "còn gì chưa gửi ở lần đồng bộ cuối, phần đó đã mất. Sau đó chạy 'systemctl start syncd'. Với --replica thay vì "
            + "--config, lệnh tạo một tệp trống (cho kiểm thử, công cụ của huyện).",
        schema: "In các bảng và cột của sổ theo phiên bản này (nguồn của Config/schema.sql).",
        report: "Ai giữ chức danh nào vào một ngày, theo các đơn vị cấp xã còn hiệu lực ngày đó (kể cả qua sáp nhập, chia tách).",
        reportDiscussion: "Đọc một tệp dữ liệu: của xã (hồ sơ của xã) hoặc tệp SQLite của máy chủ (cả huyện). Một ngày trước khi "
            + "sắp xếp đơn vị cho thấy các đơn vị cũ và ai giữ chức danh gì ở đó; một ngày sau đó cho thấy các vị trí ấy thuộc đơn vị "
            + "kế thừa. Các số liệu của huyện (biên chế so với định biên, kiêm nhiệm, trình độ, xếp loại, đào tạo) lấy bằng 'synchub report'.",
        reportAsOf: "Ngày xem (YYYY-MM-DD); bỏ trống: hôm nay.",
        reportJSON: "In một đối tượng JSON thay cho văn bản.",
        review: "Xem và quyết định các xung đột trên bàn xem xét của máy chủ huyện.",
        reviewHub: "Địa chỉ (URL) của máy chủ.",
        reviewCredential: "Tệp chứa khoá truy cập của người xem xét.",
        reviewCAFile: "Tệp chứng chỉ gốc (CA) để kiểm tra chứng chỉ của máy chủ, nếu không dùng của hệ thống.",
        reviewInsecure: "Gửi khoá truy cập qua http không mã hoá tới máy chủ ở máy khác (chỉ trên đường truyền huyện tin cậy).",
        reviewList: "Các xung đột theo tình trạng (mặc định: đang chờ), hoặc các quyết định đã đưa ra.",
        reviewState: "open, settled, closed hoặc all; hoặc decided: các quyết định của huyện, mới nhất trước, kèm số để dùng với 'revert'.",
        reviewListJSON: "In mảng JSON mà máy chủ trả ở /v1/conflicts (/v1/reviews với --state decided).",
        reviewShow: "Một xung đột với đủ các phía.",
        reviewItem: "Mã của xung đột (bảng/bản ghi/cột), như 'syncctl review list' in ra.",
        reviewResolve: "Quyết định một xung đột: giữ một phía (--pick) hoặc ghi một giá trị đã hợp nhất (--value); luôn ghi lý do.",
        reviewPick: "Trường: phía được giữ, như 'syncctl review show' ghi. Vị trí: phân công được giữ vị trí. Kiêm nhiệm, định biên: "
            + "các phân công phải kết thúc, cách nhau bằng dấu phẩy (máy chủ từ chối lựa chọn không giải quyết được việc, và nói vì sao). "
            + "Hồ sơ trùng: persons.id được giữ. Xoá: keep (giữ) hoặc delete (xoá).",
        reviewValue: "Trường: giá trị đã hợp nhất để ghi thay.",
        reviewWhy: "Lý do; lưu cùng quyết định.",
        reviewRevert: "Huỷ một quyết định: ghi lại các giá trị mà nó đã thay.",
        reviewDecision: "Số của quyết định (do resolve in ra).",
        reviewRevertWhy: "Lý do; lưu cùng việc huỷ.")
}
