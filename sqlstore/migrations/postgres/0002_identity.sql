-- Identity: sessions, one-time tokens (verification and reset), the mail outbox, and the
-- event log (sign-in failures now; marketplace events with the risk engine).

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY, -- SHA-256 of the session token; the token itself is never stored
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    revoked_at   BIGINT
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    kind          TEXT NOT NULL, -- verify | reset
    secret_hash   TEXT NOT NULL UNIQUE,
    code_hash     TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    superseded_at BIGINT
);
CREATE INDEX tokens_account ON tokens (account_id, kind);

CREATE TABLE mails (
    id         TEXT PRIMARY KEY,
    account_id TEXT,
    to_addr    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body_text  TEXT NOT NULL,
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    sent_at    BIGINT
);
CREATE INDEX mails_to ON mails (to_addr, created_at);
CREATE INDEX mails_account ON mails (account_id);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT,
    type        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    device_id   TEXT NOT NULL DEFAULT '',
    attributes  TEXT NOT NULL DEFAULT '{}',
    result      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_account ON events (account_id, type, occurred_at);
CREATE INDEX events_ip ON events (ip, type, occurred_at);
CREATE INDEX events_time ON events (occurred_at);
