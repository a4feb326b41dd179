-- The by-account lookup of events is written behind them (sqlstore/eventindex.go): an
-- index on events by account cost a write to a random page with every event. Every events
-- row up to risk_meta's indexed_row has its entry here; the later ones are kept in memory
-- and flushed in bulk, sorted.
CREATE TABLE event_accounts (
    account_id  TEXT NOT NULL,
    type        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    row         INTEGER NOT NULL,
    PRIMARY KEY (account_id, type, occurred_at, row)
) WITHOUT ROWID;
INSERT INTO event_accounts (account_id, type, occurred_at, row)
    SELECT account_id, type, occurred_at, rowid FROM events WHERE account_id IS NOT NULL
    ORDER BY account_id, type, occurred_at, rowid;
INSERT INTO risk_meta (name, value) VALUES ('indexed_row', (SELECT COALESCE(MAX(rowid), 0) FROM events))
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
DROP INDEX events_account;
