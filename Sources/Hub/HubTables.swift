import Replica

/// The hub's own bookkeeping, beside the district replica's tables in the same SQLite file.
enum HubTables {
    static let sql = """
        -- The change feed communes pull from: every change the hub holds, in the order it came
        -- to hold it. scope is the commune unit whose office may see it ('*' = everyone:
        -- reference data). ctx is the change's context without the origin's own entry.
        CREATE TABLE IF NOT EXISTS _sync_hub_feed(
            seq INTEGER PRIMARY KEY, scope TEXT NOT NULL, origin TEXT NOT NULL, counter INTEGER NOT NULL,
            tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT, val, hlc INTEGER NOT NULL, ctx TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS _sync_hub_feed_by_scope ON _sync_hub_feed(scope, seq);
        -- A dot names one change: a replica that sends another change under a dot the hub
        -- holds has re-used its counters (restored or copied file), which a push checks here.
        CREATE UNIQUE INDEX IF NOT EXISTS _sync_hub_feed_by_dot ON _sync_hub_feed(origin, counter);
        -- Rows by the commune that keeps them (RowScope: the merged commune_id), so that one
        -- office's snapshot, digest and row lookups read its own rows, not the whole register.
        CREATE INDEX IF NOT EXISTS _sync_hub_fields_by_scope ON _sync_fields(tbl, val, pk) WHERE col = '\(RowScope.column)';
        -- Persons by citizen id: the hub looks for one person created twice (DuplicatePersons),
        -- and at the review items of one kind it opened itself.
        CREATE INDEX IF NOT EXISTS _sync_hub_persons_by_citizen_id ON persons(citizen_id);
        CREATE INDEX IF NOT EXISTS _sync_hub_conflicts_by_kind ON _sync_conflicts(kind, state);
        -- Changes the hub refused (out of scope, unknown column, too large, ...), by dot, so a
        -- change sent again gets the same answer and never counts as new.
        CREATE TABLE IF NOT EXISTS _sync_hub_refused(
            origin TEXT NOT NULL, counter INTEGER NOT NULL, tbl TEXT NOT NULL, pk TEXT NOT NULL, col TEXT,
            code TEXT NOT NULL, message TEXT NOT NULL, at TEXT NOT NULL,
            PRIMARY KEY(origin, counter)) WITHOUT ROWID;
        -- Per replica, the highest counter of its changes the hub has settled (held in the feed
        -- or refused; pushes come in order, so everything at or below it was settled before).
        CREATE TABLE IF NOT EXISTS _sync_hub_received(origin TEXT PRIMARY KEY NOT NULL, counter INTEGER NOT NULL) WITHOUT ROWID;
        -- Credentials: only the SHA-256 of each token is kept. scope is the commune unit id.
        CREATE TABLE IF NOT EXISTS _sync_hub_credentials(
            replica TEXT PRIMARY KEY NOT NULL, scope TEXT NOT NULL, role TEXT NOT NULL,
            sha256 TEXT NOT NULL, issued_at TEXT NOT NULL) WITHOUT ROWID;
        -- Every reviewer decision: who, when, why, what was written, and the values it
        -- overwrote (previous, JSON) so that it can be reverted; a revert is a decision too
        -- (reverts = the decision it undid; that one's reverted_by points back).
        CREATE TABLE IF NOT EXISTS _sync_hub_reviews(
            id INTEGER PRIMARY KEY, conflict TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL,
            reason TEXT NOT NULL, pick TEXT, value, wrote INTEGER NOT NULL, previous TEXT NOT NULL,
            reverts INTEGER, reverted_by INTEGER);
        """
}
