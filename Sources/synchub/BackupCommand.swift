import ArgumentParser
import Foundation
import MergeEngine
import Register
import Replica
import SyncConfig

/// `synchub backup`: a consistent copy of the hub's SQLite file, taken while synchub serves.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the hub's SQLite database while synchub serves (SQLite's online backup), keeping the newest copies.",
        discussion: """
            --to names a file, or a directory where the copy is named hub-YYYYMMDDTHHMMSSZ.db and only the newest \
            --keep copies stay. The copy is the database as of one instant, checked before it is kept; writes go on \
            meanwhile. district.key (district_key in hub.toml) is not in it: keep that file once, on its own. To put a \
            copy back, see the README's "Backing up the hub and putting it back". A hub on PostgreSQL is backed up \
            with pg_dump.
            """)

    @OptionGroup var location: HubConfigLocation

    @Option(help: "A file, or a directory to hold dated copies.")
    var to: String

    @Option(help: "With a directory: how many copies to keep (the oldest go).")
    var keep: Int = 14

    func run() throws {
        let settings = try HubSettings.load(location.config)
        guard case .sqlite(let database) = settings.store else {
            throw ValidationError(
                "this hub keeps its register in PostgreSQL ([store] in \(location.config)): back it up with pg_dump "
                    + "(README, 'Backing up the hub and putting it back'); synchub backup copies a SQLite hub")
        }
        guard keep >= 1 else { throw ValidationError("--keep must be at least 1") }
        guard FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("the hub's database \(database) (database in \(location.config)) does not exist: nothing to back up")
        }
        var isDirectory: ObjCBool = false
        let intoDirectory = to.hasSuffix("/") || (FileManager.default.fileExists(atPath: to, isDirectory: &isDirectory) && isDirectory.boolValue)
        if intoDirectory { try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true) }
        let target = intoDirectory ? (to as NSString).appendingPathComponent(Self.name(at: Date())) : to
        let started = Date()
        let source = try SQLiteDatabase(path: database, create: false, readOnly: true)
        let bytes: Int64
        do {
            bytes = try source.backup(to: target)
        } catch let error as SQLiteError {
            throw ValidationError("the backup of \(database) to \(target) failed: \(error.message). Nothing was replaced; check the disk space and "
                + "permissions where the copy goes, and run it again")
        }
        print(String(format: "backed up %@ (%.1f MB) to %@ in %.1f s", database, Double(bytes) / 1_048_576, target, Date().timeIntervalSince(started)))
        if intoDirectory {
            for old in try Self.copies(in: to).dropFirst(keep) {
                try FileManager.default.removeItem(atPath: (to as NSString).appendingPathComponent(old))
                print("removed the older copy \(old) (--keep \(keep))")
            }
        }
        let key = settings.districtKey
        if FileManager.default.fileExists(atPath: key) {
            print("\(key) is not in the copy: keep it once, on its own; a hub put back needs the same key")
        }
    }

    /// `hub-YYYYMMDDTHHMMSSZ.db`: names that sort by time.
    static func name(at time: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: time)
        return String(format: "hub-%04d%02d%02dT%02d%02d%02dZ.db", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }

    /// The dated copies in `directory`, newest first.
    static func copies(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("hub-") && $0.hasSuffix("Z.db") }
            .sorted(by: >)
    }
}
