import Foundation

/// The language `syncctl` speaks to the technician: Vietnamese or English.
public enum OfficeLanguage: String, Sendable, CaseIterable, Decodable {
    case vi, en

    /// `--lang` first; then the locale, as POSIX programs read it (the first of `LC_ALL`,
    /// `LC_MESSAGES`, `LANG` that is set decides); when that names neither language (`C`,
    /// `C.UTF-8`, `POSIX`), the configuration's `language`; then English.
    public static func chosen(
        flag: OfficeLanguage? = nil, configured: OfficeLanguage? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> OfficeLanguage {
        if let flag { return flag }
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[name], !value.isEmpty else { continue }
            return OfficeLanguage(locale: value) ?? configured ?? .en
        }
        return configured ?? .en
    }

    /// The language a locale name such as `vi_VN.UTF-8` or `en_GB` names, if one of these.
    public init?(locale: String) {
        let language = locale.lowercased().prefix { $0.isLetter }
        guard let known = OfficeLanguage(rawValue: String(language)) else { return nil }
        self = known
    }
}
