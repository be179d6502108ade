import Foundation

/// The permissions model of an office (README, "Who may read what"), as checks on file modes:
/// the credential is root's alone (syncd gets it from systemd), the register is the service's
/// and the writers group's to read and write, and nobody else reads either.
///
/// Pure: it judges modes it is given, so every rule is tested without touching real files;
/// `syncctl doctor` feeds it `stat` results.
public enum PermissionsModel {
    /// What one file looks like: its mode bits and whether its owner is root.
    public struct FileFacts: Sendable, Equatable {
        public var path: String
        public var mode: Int
        public var ownerIsRoot: Bool

        public init(path: String, mode: Int, ownerIsRoot: Bool) {
            self.path = path
            self.mode = mode
            self.ownerIsRoot = ownerIsRoot
        }

        /// The facts of the file at `path`, or nil when there is none (or it cannot be seen).
        public static func of(_ path: String) -> FileFacts? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return FileFacts(path: path, mode: Int(info.st_mode) & 0o7777, ownerIsRoot: info.st_uid == 0)
        }
    }

    /// A rule broken, with the command that mends it.
    public struct Finding: Sendable, Equatable {
        public var problem: String
        public var fix: String
    }

    /// The credential file: no permission for group or others.
    public static func credential(_ file: FileFacts) -> Finding? {
        guard file.mode & 0o077 != 0 else { return nil }
        return Finding(
            problem: String(format: "credential file %@ is mode %04o: others than root can read the commune's credential", file.path, file.mode),
            fix: "chown root:root \(file.path); chmod 600 \(file.path) (syncd reads it through systemd's LoadCredential=)")
    }

    /// The replica file (and the hub's): read-write for owner and group, nothing for others.
    public static func replica(_ file: FileFacts) -> Finding? {
        if file.mode & 0o007 != 0 {
            return Finding(
                problem: String(format: "replica %@ is mode %04o: every local user can read the register", file.path, file.mode),
                fix: "chmod 660 \(file.path) (and its -wal and -shm files)")
        }
        if file.mode & 0o060 != 0o060 {
            return Finding(
                problem: String(format: "replica %@ is mode %04o: the office writers group cannot write the register", file.path, file.mode),
                fix: "chgrp communesync-writers \(file.path); chmod 660 \(file.path)")
        }
        return nil
    }
}
