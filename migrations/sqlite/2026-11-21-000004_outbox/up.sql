-- Transactional outbox for reminder e-mails to employers (issue 7). Kept in step with
-- ../../postgres by tests/schema_drift.rs. Timestamps are UTC; as_of is a Japan date.
-- A row is written in the same transaction as the evaluation that causes it; the rendered
-- subject and bodies are frozen here, so the preview is exactly what is sent. No My Number.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    employer_id BIGINT NOT NULL REFERENCES employers (id),
    kind TEXT NOT NULL CHECK (kind IN ('late_submission', 'my_number', 'certificate_expiry', 'weekly_digest')),
    -- (employer, kind, notice set, threshold) hashed: the same reminder is never queued twice.
    dedupe_key TEXT NOT NULL UNIQUE,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'held', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- The lease of the worker that claimed the row; an expired lease makes the row claimable again.
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    as_of DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_insurer ON outbox (insurer_id, status, created_at);
CREATE INDEX outbox_sent ON outbox (sent_at);

-- Which notices (and certificates) a message covers, so a notice is reminded once per kind.
CREATE TABLE outbox_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    employer_id BIGINT NOT NULL REFERENCES employers (id),
    kind TEXT NOT NULL,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    certificate_id BIGINT REFERENCES certificates (id)
);
CREATE INDEX outbox_notices_seen ON outbox_notices (insurer_id, kind, notice_id);
CREATE INDEX outbox_notices_outbox ON outbox_notices (outbox_id);
