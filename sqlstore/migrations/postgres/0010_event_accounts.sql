-- On SQLite the by-account lookup of events moves to a table written behind them
-- (sqlstore/eventindex.go). PostgreSQL keeps its index on events (events_account), written
-- with each event by parallel writers; nothing changes here.
SELECT 1;
