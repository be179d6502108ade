/// What a hub takes from one request, one office and all of them at once: the `[limits]`
/// table of hub.toml. Every limit has a default that suits a district of some hundred
/// offices on one machine; `Config/hub.toml` says what each one does.
public struct HubLimits: Sendable, Equatable {
    /// Largest request body accepted, as sent (compressed).
    public var maxBodyBytes = 8 * 1024 * 1024
    /// Largest request body after decompression.
    public var maxExpandedBytes = 64 * 1024 * 1024
    /// Changes per pull response and rows per snapshot page, at most.
    public var maxBatch = 5_000
    /// Changes in one push, at most (an office sends `batch_changes` at a time, 2,000 by default).
    public var maxPushChanges = 20_000
    /// A push is applied in transactions of about this many changes, so that a large push
    /// never holds the database for long: other offices' requests are served in between.
    public var applyChunkChanges = 2_000
    /// Longest row id, in bytes of UTF-8.
    public var maxRowIdBytes = 128
    /// How far ahead of the hub's clock a change's stamp may be.
    public var maxClockAheadSeconds = 300.0
    /// Requests being handled at once, over all callers. More wait for a place, up to
    /// half of `request_timeout_s`, then get 503 and are retried later.
    public var maxConcurrentRequests = 64
    /// Requests of one credential being handled at once; beyond it: 429.
    public var maxRequestsPerCaller = 4
    /// Open connections, at most; more are closed at once. Kept below the process's open-file
    /// limit (synchub lowers it to fit when it starts).
    public var maxConnections = 1_024
    /// Open connections from one address, at most.
    public var maxConnectionsPerAddress = 256
    /// A connection with no request in progress is closed after this long.
    public var idleTimeoutSeconds = 30.0
    /// Time allowed for a request head (request line and headers) to arrive whole, from its
    /// first byte (from the connection's opening for the first request); slower: the
    /// connection is closed. However slowly a head trickles in, it holds a connection no longer.
    public var headTimeoutSeconds = 5.0
    /// Time allowed to receive one request body; a slower sender gets 408.
    public var requestTimeoutSeconds = 60.0
    /// Largest request head (request line and every header together).
    public var maxHeaderBytes = 16 * 1024
    /// Days after its unit's last day in force (a merger, a split) that an ended office's
    /// credential is still taken, for the changes it typed before it knew; none after.
    public var endedOfficeDays = 30
    /// The oldest register schema an office may still speak (`oldest_office_schema`, top level
    /// of hub.toml, not in `[limits]`). An office of an older schema is served the register as
    /// this hub keeps it until the district raises this; by default every earlier schema is
    /// served, so offices upgraded one by one keep syncing until the last one is.
    public var oldestOfficeSchema = 1
    /// Days an office keeps its own changes after the hub acknowledged them (`office_log_days`;
    /// 0: for ever). The hub tells offices with each pull; past it an office drops them from
    /// its log (`Replica.compactLog`), and the hub its superseded feed entries
    /// (`HubStore.compactFeed`). Keep it above how long hub backups are kept: a hub put back
    /// from a copy takes the changes it lacks from the offices' logs.
    public var officeLogDays = 90

    public init() {}
}

extension HubLimits: Decodable {
    enum Keys: String, CodingKey {
        case maxBodyBytes = "max_body_bytes", maxExpandedBytes = "max_expanded_bytes", maxBatch = "max_batch"
        case maxPushChanges = "max_push_changes", applyChunkChanges = "apply_chunk_changes", maxRowIdBytes = "max_row_id_bytes"
        case maxClockAhead = "max_clock_ahead_s", maxConcurrentRequests = "max_concurrent_requests"
        case maxRequestsPerCaller = "max_requests_per_caller", maxConnections = "max_connections"
        case maxConnectionsPerAddress = "max_connections_per_address", idleTimeout = "idle_timeout_s"
        case headTimeout = "head_timeout_s", officeLogDays = "office_log_days"
        case requestTimeout = "request_timeout_s", maxHeaderBytes = "max_header_bytes", endedOfficeDays = "ended_office_days"
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: Keys.self)
        let defaults = HubLimits()
        func whole(_ key: Keys, _ value: Int) throws -> Int {
            let number = try keys.positive(key, default: Double(value))
            guard number == number.rounded(), number <= Double(Int32.max) else {
                throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [key], debugDescription: "must be a whole number up to \(Int32.max), not \(number)"))
            }
            return Int(number)
        }
        maxBodyBytes = try whole(.maxBodyBytes, defaults.maxBodyBytes)
        maxExpandedBytes = try whole(.maxExpandedBytes, defaults.maxExpandedBytes)
        maxBatch = try whole(.maxBatch, defaults.maxBatch)
        maxPushChanges = try whole(.maxPushChanges, defaults.maxPushChanges)
        applyChunkChanges = try whole(.applyChunkChanges, defaults.applyChunkChanges)
        maxRowIdBytes = try whole(.maxRowIdBytes, defaults.maxRowIdBytes)
        maxClockAheadSeconds = try keys.positive(.maxClockAhead, default: defaults.maxClockAheadSeconds)
        maxConcurrentRequests = try whole(.maxConcurrentRequests, defaults.maxConcurrentRequests)
        maxRequestsPerCaller = try whole(.maxRequestsPerCaller, defaults.maxRequestsPerCaller)
        maxConnections = try whole(.maxConnections, defaults.maxConnections)
        maxConnectionsPerAddress = try whole(.maxConnectionsPerAddress, defaults.maxConnectionsPerAddress)
        idleTimeoutSeconds = try keys.positive(.idleTimeout, default: defaults.idleTimeoutSeconds)
        headTimeoutSeconds = try keys.positive(.headTimeout, default: defaults.headTimeoutSeconds)
        requestTimeoutSeconds = try keys.positive(.requestTimeout, default: defaults.requestTimeoutSeconds)
        maxHeaderBytes = try whole(.maxHeaderBytes, defaults.maxHeaderBytes)
        endedOfficeDays = try whole(.endedOfficeDays, defaults.endedOfficeDays)
        officeLogDays = try keys.value(.officeLogDays, default: defaults.officeLogDays)
        guard (0...36_500).contains(officeLogDays) else {
            throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [Keys.officeLogDays], debugDescription: "must be a number of days from 0 (keep for ever) to 36500, not \(officeLogDays)"))
        }
        guard maxExpandedBytes >= maxBodyBytes else {
            throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [Keys.maxExpandedBytes], debugDescription: "must be at least max_body_bytes (\(maxBodyBytes))"))
        }
        guard maxRowIdBytes <= 4_096 else {
            throw DecodingError.dataCorrupted(.init(codingPath: keys.codingPath + [Keys.maxRowIdBytes], debugDescription: "must be at most 4096"))
        }
    }
}
