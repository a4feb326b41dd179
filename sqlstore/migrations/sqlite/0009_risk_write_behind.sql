-- Feature states are written behind the events (sqlstore/risk.go): through is the events
-- row (rowid) up to which an account's stored state counts its events; the account's later
-- events are folded in again when it is read. risk_meta's event_row is the highest events
-- rowid ever used, kept before events are deleted, so a rowid is never used twice.
ALTER TABLE account_risk ADD COLUMN through BIGINT NOT NULL DEFAULT 0;
-- Until now every state was saved with its event: the stored states count every stored
-- event, and reading them must not fold any in again.
UPDATE account_risk SET through = (SELECT COALESCE(MAX(rowid), 0) FROM events);
CREATE TABLE risk_meta (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
