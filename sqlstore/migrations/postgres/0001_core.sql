-- Core: accounts, restrictions, the audit chain, API keys and durable jobs.
-- Times are microseconds since the Unix epoch (UTC); booleans are 0/1.

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    external_id       TEXT,
    role              TEXT NOT NULL,
    email             TEXT,
    name              TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    country           TEXT NOT NULL DEFAULT '',
    lifecycle         TEXT NOT NULL,
    password_hash     TEXT NOT NULL DEFAULT '',
    email_verified_at BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_email_live ON accounts (email) WHERE lifecycle <> 'erased' AND email IS NOT NULL;
CREATE UNIQUE INDEX accounts_external_id ON accounts (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE restrictions (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    reason_code TEXT NOT NULL,
    title       TEXT NOT NULL,
    removes     BIGINT NOT NULL,
    source      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    severity    INTEGER NOT NULL,
    appealable  INTEGER NOT NULL,
    message     TEXT NOT NULL,
    remedy      TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT,
    state       TEXT NOT NULL,
    ended_at    BIGINT,
    ended_by    TEXT NOT NULL DEFAULT '',
    end_note    TEXT NOT NULL DEFAULT '',
    rule_id     TEXT NOT NULL DEFAULT '',
    order_id    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX restrictions_account ON restrictions (account_id, state);
CREATE INDEX restrictions_due ON restrictions (ends_at) WHERE state = 'active' AND ends_at IS NOT NULL;

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    at            BIGINT NOT NULL,
    account_id    TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject_id    TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT '',
    before_state  TEXT NOT NULL DEFAULT '',
    after_state   TEXT NOT NULL DEFAULT '',
    personal      TEXT NOT NULL DEFAULT '',
    personal_salt TEXT NOT NULL DEFAULT '',
    personal_hash TEXT NOT NULL DEFAULT '',
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_account ON audit_log (account_id, seq);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT,
    payload      TEXT NOT NULL DEFAULT '{}',
    run_at       BIGINT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    locked_until BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('pending', 'running');
CREATE INDEX jobs_due ON jobs (state, run_at);
