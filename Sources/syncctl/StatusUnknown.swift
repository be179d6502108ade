import ArgumentParser
import Foundation
import SyncClient

/// `syncctl status` could not check at all (configuration or replica unreadable): monitoring's
/// "unknown" (exit 3, the Nagios plugin convention), never to be mistaken for "degraded".
/// Under `--json` it is still one object, with `state` "unknown", what failed and what to do.
struct StatusUnknown: Error, Encodable {
    static let exitCode: Int32 = 3

    let error: String
    let hint: String
    let state = "unknown"
    /// The text form, in the technician's language (the JSON stays English).
    let text: String

    init(_ why: CannotCheck, in words: any OfficeCatalogue) {
        (error, hint) = English().cannotCheck(why)
        let said = words.cannotCheck(why)
        text = "CommuneSync \(words.state(nil)): \(said.error)\n" + StatusText.wrapped("  " + words.label(.whatToDo) + "   ", said.hint).joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey { case state, error, hint }

    /// Prints the failure (as JSON or text) and ends with exit code 3.
    func exit(json: Bool) -> ExitCode {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self))
        } else {
            print(text)
        }
        return ExitCode(Self.exitCode)
    }
}
