import Foundation
import TOMLKit

/// A TOML settings file: `load` reads one from disk, `parse` from text; errors name the setting.
public protocol SettingsDocument: Decodable {
    /// The file's usual name, used in messages about text that came from no file.
    static var fileName: String { get }
}

extension SettingsDocument {
    public static func load(_ path: String) throws -> Self {
        try SettingsFile.load(Self.self, from: path)
    }

    public static func parse(_ text: String, file: String = Self.fileName) throws -> Self {
        try SettingsFile.parse(Self.self, text: text, file: file)
    }
}

/// Reads a TOML settings file into a `Decodable` type, turning decoding errors into
/// sentences that name the setting.
enum SettingsFile {
    static func load<Settings: Decodable>(_ type: Settings.Type, from path: String) throws -> Settings {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SettingsError(file: path, problem: "cannot be read (\(error.localizedDescription)); check the path and its permissions")
        }
        return try parse(type, text: text, file: path)
    }

    static func parse<Settings: Decodable>(_ type: Settings.Type, text: String, file: String) throws -> Settings {
        do {
            return try TOMLDecoder().decode(Settings.self, from: text)
        } catch let error as SettingsError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw SettingsError(file: file, problem: "missing setting '\(name(context.codingPath + [key]))'; see Config/ for an example with every setting explained")
        } catch let DecodingError.typeMismatch(_, context) {
            throw SettingsError(file: file, problem: "setting '\(name(context.codingPath))' has the wrong type (\(context.debugDescription))")
        } catch let DecodingError.dataCorrupted(context) {
            throw SettingsError(file: file, problem: "setting '\(name(context.codingPath))' is invalid: \(context.debugDescription)")
        } catch {
            throw SettingsError(file: file, problem: "is not valid TOML: \(error)")
        }
    }

    private static func name(_ path: [any CodingKey]) -> String {
        path.map(\.stringValue).joined(separator: ".")
    }
}

extension KeyedDecodingContainer {
    /// The value of an optional setting, or its default.
    func value<T: Decodable>(_ key: Key, default value: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? value
    }

    /// A setting that must be a positive number.
    func positive(_ key: Key, default value: Double) throws -> Double {
        // TOML keeps integers and floats apart; either is fine here.
        let number: Double
        if !contains(key) {
            number = value
        } else if let integer = try? decode(Int.self, forKey: key) {
            number = Double(integer)
        } else {
            number = try decode(Double.self, forKey: key)
        }
        guard number > 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [key], debugDescription: "must be greater than 0, not \(number)"))
        }
        return number
    }
}
