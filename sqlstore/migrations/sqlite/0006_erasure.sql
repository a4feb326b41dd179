-- Erasure: deletion requests, the steps an erasure has done (so a crash resumes where it
-- stopped), and retention of the records the law requires.

CREATE TABLE erasures (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    state         TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    requested_by  TEXT NOT NULL,
    override_note TEXT NOT NULL DEFAULT '',
    requested_at  BIGINT NOT NULL,
    scheduled_for BIGINT NOT NULL,
    cancelled_at  BIGINT,
    executed_at   BIGINT,
    finished_at   BIGINT,
    await_until   BIGINT, -- the marketplace's deadline to confirm its part
    retention_end BIGINT, -- when the anonymised records it kept are deleted
    forfeited     TEXT NOT NULL DEFAULT '[]',
    certificate   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX erasures_open ON erasures (account_id) WHERE state IN ('scheduled', 'running', 'awaiting_marketplace');
CREATE INDEX erasures_account ON erasures (account_id, requested_at);

CREATE TABLE erasure_steps (
    erasure_id TEXT NOT NULL REFERENCES erasures (id),
    step       TEXT NOT NULL,
    removed    TEXT NOT NULL,
    done_at    BIGINT NOT NULL,
    PRIMARY KEY (erasure_id, step)
);

-- An erasure finds every row of an account by index.
CREATE INDEX account_links_other ON account_links (other_id);
CREATE INDEX risk_reviews_account ON risk_reviews (account_id);
-- Cancelling a job by its key (a restored account, an erasure done in a batch) must not
-- scan the queue; the unique index above is partial and the planner cannot use it for that.
CREATE INDEX jobs_dedupe_key ON jobs (dedupe_key);
CREATE INDEX erasures_due ON erasures (state, scheduled_for);
CREATE INDEX erasures_await ON erasures (state, await_until);
CREATE INDEX erasures_retention ON erasures (retention_end) WHERE retention_end IS NOT NULL;

-- The accounts of the erasure batch under way; rows live only inside its transaction.
CREATE TABLE erasure_batch (
    batch_id    TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    email       TEXT,
    deny_reason TEXT NOT NULL DEFAULT '',
    at          BIGINT NOT NULL,
    PRIMARY KEY (batch_id, account_id)
);
CREATE INDEX erasure_batch_email ON erasure_batch (email);
