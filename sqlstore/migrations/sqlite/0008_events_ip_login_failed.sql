-- Only failed sign-ins are counted by IP (the sign-in throttle). Indexing every event by
-- its IP cost each event a write at a random place in a large index; a partial index of
-- the failed sign-ins alone keeps that count an index lookup and the other events free
-- of it.

DROP INDEX events_ip;
CREATE INDEX events_ip_login_failed ON events (ip, occurred_at) WHERE type = 'login_failed';
