-- Risk: the marketplace ledger (orders, disputes, wallets) and idempotency keys; events
-- enriched for backtests; per-account feature state; identity details (keyed hashes only)
-- and the links between accounts; rules with every version, their hits and the review
-- queue; webhook endpoints with the outbox and deliveries.
-- Times are microseconds since the Unix epoch (UTC); booleans are 0/1.

CREATE TABLE orders (
    id                    TEXT PRIMARY KEY,
    external_id           TEXT,
    buyer_id              TEXT NOT NULL REFERENCES accounts (id),
    seller_id             TEXT NOT NULL REFERENCES accounts (id),
    amount                BIGINT NOT NULL,
    currency              TEXT NOT NULL,
    status                TEXT NOT NULL,
    recipient_name        TEXT NOT NULL DEFAULT '',
    tracking_number       TEXT,
    closed_reason_code    TEXT NOT NULL DEFAULT '',
    closed_reason         TEXT NOT NULL DEFAULT '',
    closed_restriction_id TEXT NOT NULL DEFAULT '',
    closed_rule_id        TEXT NOT NULL DEFAULT '',
    placed_at             BIGINT NOT NULL,
    ship_by               BIGINT,
    paid_at               BIGINT,
    shipped_at            BIGINT,
    completed_at          BIGINT,
    cancelled_at          BIGINT,
    cancelled_by          TEXT NOT NULL DEFAULT '',
    closed_at             BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX orders_external_id ON orders (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX orders_tracking ON orders (tracking_number) WHERE tracking_number IS NOT NULL;
CREATE INDEX orders_buyer ON orders (buyer_id, status);
CREATE INDEX orders_seller ON orders (seller_id, placed_at);
CREATE INDEX orders_seller_status ON orders (seller_id, status);

CREATE TABLE disputes (
    id          TEXT PRIMARY KEY,
    external_id TEXT,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    buyer_id    TEXT NOT NULL REFERENCES accounts (id),
    seller_id   TEXT NOT NULL REFERENCES accounts (id),
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL DEFAULT '',
    opened_at   BIGINT NOT NULL,
    resolved_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX disputes_external_id ON disputes (external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX disputes_open_order ON disputes (order_id) WHERE status = 'open';
CREATE INDEX disputes_buyer ON disputes (buyer_id, status);
CREATE INDEX disputes_seller ON disputes (seller_id, opened_at);
CREATE INDEX disputes_seller_status ON disputes (seller_id, status);

CREATE TABLE wallets (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    currency   TEXT NOT NULL,
    balance    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, currency)
);

CREATE TABLE idempotency_keys (
    caller      TEXT NOT NULL,
    idem_key    TEXT NOT NULL,
    route       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (caller, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- What IP intelligence said when the event arrived, so a backtest sees what the rules saw.
ALTER TABLE events ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN asn BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN ip_flags INTEGER NOT NULL DEFAULT 0;

-- The features of each account, folded in one event at a time (rules.FeatureState as JSON)
-- and denied: how many of its identity details are on the deny list.
CREATE TABLE account_risk (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    state      TEXT NOT NULL DEFAULT '{}',
    denied     INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- Identity details: a keyed hash of the normalised value and a masked form, never the
-- value. An erasure deletes an account's rows (and may keep the hashes on the deny list).
CREATE TABLE identity_attributes (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind       TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    display    TEXT NOT NULL DEFAULT '',
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, value_hash)
);
CREATE INDEX identity_attributes_value ON identity_attributes (kind, value_hash);

-- Keyed hashes of the identity details of accounts erased after a fraud or duplicate
-- identity decision (filled by the erasure), so a new account with them is flagged.
CREATE TABLE identity_denylist (
    kind        TEXT NOT NULL,
    value_hash  TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, value_hash)
);

-- Accounts that share a strong identity detail, one row per direction.
CREATE TABLE account_links (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    other_id   TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, other_id)
);

CREATE TABLE rules (
    id         TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE rule_versions (
    rule_id    TEXT NOT NULL REFERENCES rules (id),
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (rule_id, version)
);

CREATE TABLE rule_hits (
    id         TEXT PRIMARY KEY,
    rule_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    mode       TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    account_id TEXT NOT NULL,
    at         BIGINT NOT NULL,
    actions    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX rule_hits_rule ON rule_hits (rule_id, at);
CREATE INDEX rule_hits_account ON rule_hits (account_id, at);

CREATE TABLE risk_reviews (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    state      TEXT NOT NULL,
    rule_ids   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX risk_reviews_open ON risk_reviews (account_id) WHERE state = 'open';
CREATE INDEX risk_reviews_state ON risk_reviews (state, created_at);

CREATE TABLE webhook_endpoints (
    id                  TEXT PRIMARY KEY,
    url                 TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    event_types         TEXT NOT NULL DEFAULT '',
    enabled             INTEGER NOT NULL,
    disabled_reason     TEXT NOT NULL DEFAULT '',
    secret              TEXT NOT NULL,
    previous_secret     TEXT NOT NULL DEFAULT '',
    previous_expires_at BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- The outbox: one row per webhook message, written with the change it reports.
CREATE TABLE webhook_messages (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_messages_account ON webhook_messages (account_id);
CREATE INDEX webhook_messages_created ON webhook_messages (created_at);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    message_id      TEXT NOT NULL REFERENCES webhook_messages (id),
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    last_attempt_at BIGINT,
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id);
