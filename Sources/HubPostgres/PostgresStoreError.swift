import HubCore
import PostgresNIO

/// Why the PostgreSQL store could not be opened or used: what failed, why, and what to do.
public enum PostgresStoreError: Error, CustomStringConvertible {
    case badURL(String, why: String)
    case unreachable(String, why: String)
    case newerStore(String, held: Int, known: Int)
    case newerRegister(String, held: Int, known: Int)
    case otherDistrict(String, held: String, wanted: String)
    indirect case opening(String, any Error)
    case failed(String, PSQLError, sql: String?)

    /// Why a connection or statement failed, in the server's words when it gave any.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return String(describing: underlying) }
        return String(describing: error.code)
    }

    public var description: String {
        switch self {
        case .badURL(let url, let why):
            return "the store url '\(url)' in hub.toml cannot be used: \(why); fix [store] url"
        case .unreachable(let url, let why):
            return "the hub's PostgreSQL at \(url) cannot be opened: \(why); check that the server runs and accepts "
                + "connections from this machine, that the database exists and the user may log in: [store] url in hub.toml"
        case .newerStore(let url, let held, let known):
            return "the hub's PostgreSQL at \(url) holds store layout \(held), newer than this synchub knows (\(known)): "
                + "run the synchub that created it, or a newer one"
        case .newerRegister(let url, let held, let known):
            return "the hub's PostgreSQL at \(url) holds register schema \(held), newer than this synchub's (\(known)): "
                + "upgrade this synchub"
        case .otherDistrict(let url, let held, let wanted):
            return "the hub's PostgreSQL at \(url) holds the register of district \(held), not of \(wanted): "
                + "check 'district' and [store] url in hub.toml"
        case .opening(let url, let error):
            if let error = error as? PostgresStoreError { return error.description }
            return "the hub's PostgreSQL at \(url) cannot be opened: \(error); check that the server runs, the "
                + "database exists and the user may create tables in it ([store] url in hub.toml)"
        case .failed(let url, let error, let sql):
            let reason = Self.reason(error)
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            let statement = sql.map { " running: \($0.prefix(200))" } ?? ""
            if error.serverInfo == nil {
                return "the hub's PostgreSQL at \(url) cannot be reached: \(reason); check that the server runs and "
                    + "accepts connections, and [store] url in hub.toml"
            }
            return "the hub's PostgreSQL at \(url) refused a statement: \(reason)\(state)\(statement)"
        }
    }
}
