/// The register's codes in the words district staff use: Vietnamese labels of the coded
/// values (degree, political theory, status, ratings, training fields, ...), of the columns
/// and of the tables. A code without a label is shown as it is.
public enum RegisterLabels {
    static let values: [String: [String: String]] = [
        "degree": ["none": "không có", "intermediate": "trung cấp", "college": "cao đẳng", "university": "đại học",
                   "master": "thạc sĩ", "doctor": "tiến sĩ"],
        "political_theory": ["none": "chưa qua đào tạo", "elementary": "sơ cấp", "intermediate": "trung cấp", "advanced": "cao cấp"],
        "status": ["active": "đang công tác", "retired": "nghỉ hưu", "transferred": "chuyển công tác", "deceased": "từ trần",
                   "merged": "đã gộp vào hồ sơ khác"],
        "gender": ["male": "nam", "female": "nữ"],
        "kind": ["primary": "chức danh chính", "concurrent": "kiêm nhiệm"],
        "proposed_rating": ratings,
        "rating": ratings,
        "field": ["professional": "chuyên môn", "political_theory": "lý luận chính trị", "state_management": "quản lý nhà nước",
                  "it": "tin học", "language": "ngoại ngữ", "other": "khác"],
        "category": ["cadre": "cán bộ", "civil_servant": "công chức", "nonspecialised_commune": "không chuyên trách cấp xã",
                     "nonspecialised_hamlet": "không chuyên trách ở thôn, tổ dân phố", "cadre_civil_servant": "cán bộ, công chức"],
    ]

    static let ratings = ["excellent": "hoàn thành xuất sắc nhiệm vụ", "good": "hoàn thành tốt nhiệm vụ", "completed": "hoàn thành nhiệm vụ",
                          "not_completed": "không hoàn thành nhiệm vụ"]

    static let columns: [String: String] = [
        "full_name": "họ và tên", "birth_date": "ngày sinh", "gender": "giới tính", "ethnicity": "dân tộc", "citizen_id": "số CCCD",
        "phone": "số điện thoại", "email": "thư điện tử", "party_member": "đảng viên", "degree": "trình độ chuyên môn",
        "major": "chuyên ngành", "political_theory": "lý luận chính trị", "state_management": "quản lý nhà nước", "status": "tình trạng",
        "commune_id": "xã quản lý", "start_date": "ngày bắt đầu", "end_date": "ngày kết thúc", "end_reason": "lý do kết thúc",
        "decision_no": "số quyết định", "decision_date": "ngày quyết định", "kind": "loại", "proposed_rating": "xếp loại đề nghị",
        "rating": "xếp loại", "year": "năm", "field": "lĩnh vực", "course": "khoá học", "position_id": "vị trí",
        "person_id": "người", "title_id": "chức danh", "capacity": "số người", "name": "tên",
        "party_joined_on": "ngày vào Đảng", "general_education": "trình độ giáo dục phổ thông", "it_level": "trình độ tin học",
        "languages": "ngoại ngữ", "note": "ghi chú", "merged_into": "gộp vào hồ sơ", "allowance_coefficient": "hệ số phụ cấp",
        "certificate": "văn bằng, chứng chỉ", "certificate_no": "số văn bằng", "classification": "phân loại", "code": "mã",
        "concurrent_allowance_paid": "hưởng phụ cấp kiêm nhiệm", "decided_by": "cấp quyết định", "disciplined": "bị kỷ luật",
        "effective_from": "hiệu lực từ", "effective_to": "hiệu lực đến", "institution": "cơ sở đào tạo", "legal_basis": "căn cứ pháp lý",
        "level": "cấp", "max_headcount": "số người tối đa", "max_holders": "số người giữ tối đa", "name_en": "tên tiếng Anh",
        "name_vi": "tên tiếng Việt", "parent_id": "đơn vị cấp trên", "seat_no": "số thứ tự vị trí", "successor_id": "đơn vị kế thừa",
        "unit_id": "đơn vị", "category": "nhóm chức danh",
    ]

    static let tables: [String: String] = [
        "persons": "hồ sơ", "positions": "vị trí chức danh", "assignments": "phân công", "evaluations": "đánh giá, xếp loại",
        "trainings": "đào tạo, bồi dưỡng", "units": "đơn vị", "titles": "chức danh", "quotas": "định biên",
    ]

    /// The label of `value` in `column`, or nil when the column has no coded values or the
    /// value no label.
    public static func value(_ value: String, of column: String) -> String? { values[column]?[value] }

    public static func column(_ column: String) -> String { columns[column] ?? column }

    public static func table(_ table: String) -> String { tables[table] ?? table }
}
