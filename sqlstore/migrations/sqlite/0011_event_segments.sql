-- Events are looked up by account through segments: one row per account and flush, with
-- the account's events of that flush packed in entries (sqlstore/eventindex.go), so that a
-- flush writes an index entry per account rather than per event. Migrate moves the
-- entries of event_accounts here in the same transaction (convertEventAccounts) and drops
-- that table.
CREATE TABLE event_segments (
    account_id TEXT NOT NULL,
    last_row   INTEGER NOT NULL,
    first_at   BIGINT NOT NULL,
    last_at    BIGINT NOT NULL,
    entries    BLOB NOT NULL,
    PRIMARY KEY (account_id, last_row)
) WITHOUT ROWID;
-- A count of an account's recent events (sign-in throttling) reads only its segments that
-- end in the window, however many older ones it has.
CREATE INDEX event_segments_time ON event_segments (account_id, last_at);
-- The events rows of the accounts of an erasure batch, found through the segments and the
-- tail, for the statements that delete them.
CREATE TABLE erasure_event_rows (
    batch_id TEXT NOT NULL,
    row      INTEGER NOT NULL,
    PRIMARY KEY (batch_id, row)
) WITHOUT ROWID;
