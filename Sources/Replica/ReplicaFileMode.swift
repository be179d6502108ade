import Register
import Foundation

/// The permissions a new replica file gets, whatever the creating process's umask: read and
/// write for its owner and group (syncd's user, and the office writers group whose programs
/// write the register), nothing for anyone else. SQLite gives the `-wal` and `-shm` files the
/// database file's mode, so they follow.
public enum ReplicaFileMode {
    public static let mode: mode_t = 0o660

    /// Creates the empty file at `path` with `mode`, or gives `mode` to the empty file found
    /// there (made by someone who ran `sqlite3` on the path first, under their umask).
    static func prepare(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode)
        if descriptor < 0 {
            throw ReplicaError.cannotCreate(path: path, detail: String(cString: strerror(errno)))
        }
        // open() applied the umask; fchmod does not.
        fchmod(descriptor, mode)
        close(descriptor)
    }
}
