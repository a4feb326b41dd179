-- Sellers: penalty-point violations with the sanctions they brought, notices (EU notice
-- and prior warnings, performance warnings, overdue fees, fines), fines and platform fees,
-- and seller performance kept incrementally in day buckets.
-- Times are microseconds since the Unix epoch (UTC); booleans are 0/1.

-- One row per recorded violation. dedupe_key (penalty.Key of seller, type and case) makes
-- a second report of a case find the first; NULL for reports without a case. A withdrawn
-- violation no longer counts but keeps its key.
CREATE TABLE seller_violations (
    id            TEXT PRIMARY KEY,
    seller_id     TEXT NOT NULL REFERENCES accounts (id),
    type          TEXT NOT NULL,
    ledger        TEXT NOT NULL,
    case_id       TEXT NOT NULL DEFAULT '',
    dedupe_key    TEXT,
    points        INTEGER NOT NULL,
    counted       INTEGER NOT NULL,
    at            BIGINT NOT NULL,
    evidence      TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    actor         TEXT NOT NULL,
    outcome       TEXT NOT NULL DEFAULT '{}',
    withdrawn_at  BIGINT,
    withdrawn_by  TEXT NOT NULL DEFAULT '',
    withdraw_note TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX seller_violations_key ON seller_violations (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX seller_violations_seller ON seller_violations (seller_id, at);

-- What each sanction became: the restriction that carries it out (suspension, listing
-- limit, closure, an unpaid fee's pause), or none (warning, fine).
CREATE TABLE seller_sanctions (
    id             TEXT PRIMARY KEY,
    seller_id      TEXT NOT NULL REFERENCES accounts (id),
    violation_id   TEXT NOT NULL DEFAULT '',
    fee_id         TEXT NOT NULL DEFAULT '',
    ledger         TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    trigger_kind   TEXT NOT NULL DEFAULT '',
    level          INTEGER NOT NULL DEFAULT 0,
    reason         TEXT NOT NULL DEFAULT '',
    restriction_id TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX seller_sanctions_seller ON seller_sanctions (seller_id, created_at);
CREATE INDEX seller_sanctions_restriction ON seller_sanctions (restriction_id);

-- The lines of the seller dashboard, each also mailed. A closure notice is pending until
-- its job applies or cancels it; counts_as_warning marks the warnings on record that the
-- EU prior-warning rule reads (penalty.Record.Warnings).
CREATE TABLE seller_notices (
    id                TEXT PRIMARY KEY,
    seller_id         TEXT NOT NULL REFERENCES accounts (id),
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,
    ledger            TEXT NOT NULL DEFAULT '',
    violation_id      TEXT NOT NULL DEFAULT '',
    counts_as_warning INTEGER NOT NULL DEFAULT 0,
    issued_at         BIGINT NOT NULL,
    effective_at      BIGINT NOT NULL,
    text              TEXT NOT NULL,
    payload           TEXT NOT NULL DEFAULT '{}',
    restriction_id    TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL
);
CREATE INDEX seller_notices_seller ON seller_notices (seller_id, issued_at);

CREATE TABLE seller_fines (
    id           TEXT PRIMARY KEY,
    seller_id    TEXT NOT NULL REFERENCES accounts (id),
    amount       BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    reason       TEXT NOT NULL,
    violation_id TEXT NOT NULL DEFAULT '',
    case_id      TEXT NOT NULL DEFAULT '',
    dedupe_key   TEXT,
    actor        TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX seller_fines_key ON seller_fines (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX seller_fines_seller ON seller_fines (seller_id, created_at);

CREATE TABLE seller_fees (
    id             TEXT PRIMARY KEY,
    seller_id      TEXT NOT NULL REFERENCES accounts (id),
    external_id    TEXT,
    description    TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    due_at         BIGINT NOT NULL,
    grace_ends_at  BIGINT NOT NULL,
    paid_at        BIGINT,
    payment_ref    TEXT NOT NULL DEFAULT '',
    restriction_id TEXT NOT NULL DEFAULT '',
    actor          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX seller_fees_external ON seller_fees (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX seller_fees_seller ON seller_fees (seller_id, due_at);

-- Seller performance in day buckets (penalty.DayCounts): the orders of one seller placed
-- on one UTC day (day = placed_at / 86400000000). A bucket is recomputed from the orders
-- of its seller and day whenever one of them (or a dispute on one) changes, so a
-- recompute is idempotent and the metrics read at most a window of buckets per seller.
CREATE TABLE seller_perf_days (
    seller_id TEXT NOT NULL,
    day       INTEGER NOT NULL,
    orders    INTEGER NOT NULL,
    defects   INTEGER NOT NULL,
    shipped   INTEGER NOT NULL,
    late      INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    PRIMARY KEY (seller_id, day)
);

-- How far the performance sweep has read the orders and disputes that changed.
CREATE TABLE seller_perf_cursor (
    name TEXT PRIMARY KEY,
    at   BIGINT NOT NULL,
    id   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE seller_perf_warnings (
    id            TEXT PRIMARY KEY,
    seller_id     TEXT NOT NULL REFERENCES accounts (id),
    metric        TEXT NOT NULL,
    at            BIGINT NOT NULL,
    grace_ends_at BIGINT NOT NULL,
    rate          DOUBLE PRECISION NOT NULL,
    threshold     DOUBLE PRECISION NOT NULL,
    message       TEXT NOT NULL,
    cleared_at    BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX seller_perf_warnings_seller ON seller_perf_warnings (seller_id, at);
CREATE INDEX seller_perf_warnings_open ON seller_perf_warnings (seller_id) WHERE cleared_at IS NULL;

-- The sweep reads the ledger's changes in (updated_at, id) order, and a dispute's order.
CREATE INDEX seller_orders_updated ON orders (updated_at, id);
CREATE INDEX seller_disputes_updated ON disputes (updated_at, id);
CREATE INDEX seller_disputes_order ON disputes (order_id);
