-- On SQLite feature states are written behind the events (sqlstore/risk.go) and through
-- says up to which events row a stored state counts. PostgreSQL writes every state with
-- its event, so through stays 0; the columns and table are kept alike on both.
ALTER TABLE account_risk ADD COLUMN through BIGINT NOT NULL DEFAULT 0;
CREATE TABLE risk_meta (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
