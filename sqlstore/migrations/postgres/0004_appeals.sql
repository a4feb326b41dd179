-- Appeals: the reviewer console's staff, appeals with evidence and a message thread,
-- reviewer votes (a second reviewer for fraud overturns).

CREATE TABLE staff_users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE staff_sessions (
    id         TEXT PRIMARY KEY, -- SHA-256 of the token
    staff_id   TEXT NOT NULL REFERENCES staff_users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE appeals (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    restriction_id    TEXT,
    order_id          TEXT,
    reason_code       TEXT NOT NULL,
    statement         TEXT NOT NULL,
    status            TEXT NOT NULL,
    urgent            INTEGER NOT NULL DEFAULT 0,
    urgent_reason     TEXT NOT NULL DEFAULT '',
    priority          INTEGER NOT NULL DEFAULT 0,
    submitted_at      BIGINT NOT NULL,
    due_at            BIGINT NOT NULL,
    breach_at         BIGINT NOT NULL,
    info_requested_at BIGINT,
    escalated_at      BIGINT,
    breached_at       BIGINT,
    assigned_to       TEXT NOT NULL DEFAULT '',
    decided_at        BIGINT,
    decided_by        TEXT NOT NULL DEFAULT '',
    decision_note     TEXT NOT NULL DEFAULT '',
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX appeals_open_restriction ON appeals (restriction_id)
    WHERE restriction_id IS NOT NULL AND status IN ('submitted', 'in_review', 'needs_info');
CREATE UNIQUE INDEX appeals_open_order ON appeals (order_id)
    WHERE order_id IS NOT NULL AND status IN ('submitted', 'in_review', 'needs_info');
CREATE INDEX appeals_account ON appeals (account_id, submitted_at);
CREATE INDEX appeals_queue ON appeals (priority DESC, due_at, id)
    WHERE status IN ('submitted', 'in_review', 'needs_info');
CREATE INDEX appeals_queue_status ON appeals (status, priority DESC, due_at, id);
CREATE INDEX appeals_queue_reason ON appeals (reason_code, status, priority DESC, due_at, id);
CREATE INDEX appeals_deadlines ON appeals (breach_at) WHERE status IN ('submitted', 'in_review');

CREATE TABLE evidence (
    id           TEXT PRIMARY KEY,
    appeal_id    TEXT REFERENCES appeals (id),
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    slot         TEXT NOT NULL,
    filename     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    blob_key     TEXT NOT NULL,
    state        TEXT NOT NULL, -- staged | attached
    created_at   BIGINT NOT NULL
);
CREATE INDEX evidence_appeal ON evidence (appeal_id);
CREATE INDEX evidence_account ON evidence (account_id, state);
CREATE INDEX evidence_staged ON evidence (state, created_at);

CREATE TABLE appeal_messages (
    id         TEXT PRIMARY KEY,
    appeal_id  TEXT NOT NULL REFERENCES appeals (id),
    author     TEXT NOT NULL,
    from_staff INTEGER NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX appeal_messages_appeal ON appeal_messages (appeal_id, created_at);

CREATE TABLE appeal_votes (
    appeal_id TEXT NOT NULL REFERENCES appeals (id),
    staff_id  TEXT NOT NULL REFERENCES staff_users (id),
    decision  TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    at        BIGINT NOT NULL,
    PRIMARY KEY (appeal_id, staff_id)
);
