import MergeEngine
import Register

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
        -- A row's changes, for the history reviewers read beside a conflict.
        CREATE INDEX IF NOT EXISTS _sync_hub_feed_by_row ON _sync_hub_feed(tbl, pk, seq);
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
        -- Feed entries that set a row's commune, by row: the scope of a row's latest one is
        -- the commune the row was last published to, which tells a move from a first write.
        CREATE INDEX IF NOT EXISTS _sync_hub_feed_scope_writes ON _sync_hub_feed(tbl, pk, seq) WHERE col = '\(RowScope.column)';
        -- Rows the district moved from one commune to another (a merger, a split, a person's
        -- rotation), at the feed position where the move is published: the office left sends
        -- the row away, the office reached receives it whole, and edits the left office made
        -- before it learned of the move are still taken from it.
        CREATE TABLE IF NOT EXISTS _sync_hub_moves(
            seq INTEGER NOT NULL, tbl TEXT NOT NULL, pk TEXT NOT NULL, from_scope TEXT NOT NULL, to_scope TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS _sync_hub_moves_from ON _sync_hub_moves(from_scope, seq);
        CREATE INDEX IF NOT EXISTS _sync_hub_moves_to ON _sync_hub_moves(to_scope, seq);
        CREATE INDEX IF NOT EXISTS _sync_hub_moves_by_row ON _sync_hub_moves(tbl, pk);
        -- When each office was told of the moves up to a feed position (a pull that sent rows
        -- away, a snapshot, the refusal of an ended unit), and what the hub had settled of its
        -- changes then: its changes numbered above were made knowing the rows had left.
        CREATE TABLE IF NOT EXISTS _sync_hub_told(
            replica TEXT NOT NULL, seq INTEGER NOT NULL, counter INTEGER NOT NULL, PRIMARY KEY(replica, seq)) WITHOUT ROWID;
        -- Deleted rows the hub forgot (HubStore.forgetDeletedRows): their merge state keeps only
        -- its clock, deletes and commune; a change made before its office saw the delete is
        -- refused rather than bringing back part of the row.
        CREATE TABLE IF NOT EXISTS _sync_hub_forgotten(
            tbl TEXT NOT NULL, pk TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY(tbl, pk)) WITHOUT ROWID;
        -- Every replica id ever used, with the unit it was issued for ('' when the hub only
        -- received changes under it): an id is never issued to another unit, so a unit that
        -- takes over an old unit's official code never takes over its dots.
        CREATE TABLE IF NOT EXISTS _sync_hub_replicas(
            replica TEXT PRIMARY KEY NOT NULL, scope TEXT NOT NULL, issued_at TEXT NOT NULL) WITHOUT ROWID;
        -- Each start of the hub (HubIncarnation): the district's counter and the feed jumped to
        -- floor; district counters above previous and below floor may have been handed out by
        -- a start whose store was lost (the hub was put back from a copy).
        CREATE TABLE IF NOT EXISTS _sync_hub_incarnations(
            floor INTEGER PRIMARY KEY, previous INTEGER NOT NULL, at TEXT NOT NULL);
        INSERT OR IGNORE INTO _sync_hub_replicas(replica, scope, issued_at)
            SELECT replica, scope, issued_at FROM _sync_hub_credentials WHERE role = 'commune';
        INSERT OR IGNORE INTO _sync_hub_replicas(replica, scope, issued_at) SELECT origin, '', '' FROM _sync_hub_received;
        -- Every reviewer decision: who, when, why, what was written, and the values it
        -- overwrote (previous, JSON) so that it can be reverted; a revert is a decision too
        -- (reverts = the decision it undid; that one's reverted_by points back).
        -- Each office's latest pull (ReplicaProgress): when, the feed position it had pulled
        -- through, and what it said of itself (OfficeFacts, '' if nothing). pulled is added by
        -- SQLiteHubStorage to files from before it.
        CREATE TABLE IF NOT EXISTS _sync_hub_offices(replica TEXT PRIMARY KEY NOT NULL, seen_at TEXT NOT NULL, facts TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _sync_hub_reviews(
            id INTEGER PRIMARY KEY, conflict TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL,
            reason TEXT NOT NULL, pick TEXT, value, wrote INTEGER NOT NULL, previous TEXT NOT NULL,
            reverts INTEGER, reverted_by INTEGER);
        """
}
