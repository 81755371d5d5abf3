-- Per-insurer e-mail settings (issue 7): sender, reply-to, bounce address, whether reminders go
-- out, the weekday of the digest and the hour of the daily evaluation. Kept in step with the other
-- backend by tests/schema_drift.rs. NULL means "the configuration's value" (mail_from,
-- mail_bounce, mail_schedule_hour). last_evaluated_on is the Japan date of the last scheduled
-- evaluation, so several `serve` instances evaluate an insurer once a day between them.
CREATE TABLE mail_settings (
    insurer_id BIGINT PRIMARY KEY NOT NULL REFERENCES insurers (id),
    sender_name TEXT,
    from_address TEXT,
    reply_to TEXT,
    bounce_address TEXT,
    reminders_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- ISO weekday, 1 = Monday … 7 = Sunday.
    digest_weekday INTEGER NOT NULL DEFAULT 1 CHECK (digest_weekday BETWEEN 1 AND 7),
    schedule_hour INTEGER CHECK (schedule_hour BETWEEN 0 AND 23),
    last_evaluated_on DATE,
    updated_by_label TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The sender is frozen into each message when it is queued, like its subject and bodies, so the
-- preview is what is sent. NULL: the configuration's value at send time.
ALTER TABLE outbox ADD COLUMN sender_name TEXT;
ALTER TABLE outbox ADD COLUMN from_address TEXT;
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
ALTER TABLE outbox ADD COLUMN bounce_address TEXT;
