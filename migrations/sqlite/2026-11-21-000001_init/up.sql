-- regwatch first schema (SQLite). Kept in step with ../../postgres by tests/schema_drift.rs.
-- There is no column for a My Number anywhere: only its status (SPEC §6).
CREATE TABLE insurers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('kenpo', 'kyosai')),
    rules_toml TEXT NOT NULL,
    address TEXT,
    contact TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'viewer')),
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_insurer ON users (insurer_id);

CREATE TABLE employers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    code TEXT NOT NULL,
    name TEXT,
    contact_emails TEXT NOT NULL DEFAULT '',
    opt_out BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (insurer_id, code)
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    employer_id BIGINT REFERENCES employers (id),
    symbol TEXT NOT NULL,
    number TEXT NOT NULL,
    dependent_seq TEXT NOT NULL DEFAULT '',
    -- symbol, number and dependent_seq joined with U+001F: one indexed key for bulk lookups.
    member_key TEXT NOT NULL,
    name TEXT,
    name_kana TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (insurer_id, member_key)
);

CREATE TABLE import_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    file_kind TEXT NOT NULL CHECK (file_kind IN ('notices', 'registrations')),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    rows_read BIGINT NOT NULL DEFAULT 0,
    rows_accepted BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    rows_new BIGINT NOT NULL DEFAULT 0,
    rows_changed BIGINT NOT NULL DEFAULT 0,
    rows_unchanged BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_by BIGINT REFERENCES users (id),
    created_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX import_batches_insurer ON import_batches (insurer_id, created_at);

CREATE TABLE import_rejects (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    batch_id BIGINT NOT NULL REFERENCES import_batches (id),
    line BIGINT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX import_rejects_batch ON import_rejects (batch_id, line);

-- Deadlines depend only on dates and the insurer's settings, so they are stored and recomputed
-- when settings change; "status as of today" is a date comparison, never stored.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    notice_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('acquisition', 'dependent', 'loss')),
    employer_id BIGINT NOT NULL REFERENCES employers (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    event_date DATE NOT NULL,
    received_on DATE NOT NULL,
    my_number_status TEXT NOT NULL CHECK (my_number_status IN ('valid', 'invalid', 'missing')),
    delay_cause TEXT,
    content_hash BIGINT NOT NULL,
    registered_at TIMESTAMP,
    registered_on DATE,
    submission_deadline DATE NOT NULL,
    registration_deadline DATE NOT NULL,
    registration_rule TEXT NOT NULL CHECK (registration_rule IN ('five_day', 'standard')),
    batch_id BIGINT REFERENCES import_batches (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (insurer_id, notice_id)
);
CREATE INDEX notices_open_registration ON notices (insurer_id, registered_on, registration_deadline);
CREATE INDEX notices_received ON notices (insurer_id, received_on);
CREATE INDEX notices_employer ON notices (insurer_id, employer_id);

CREATE TABLE registration_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    notice_id TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('ok', 'error')),
    registered_at TIMESTAMP,
    error_code TEXT,
    error_message TEXT,
    batch_id BIGINT REFERENCES import_batches (id),
    line BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX registration_results_notice ON registration_results (insurer_id, notice_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT REFERENCES insurers (id),
    user_id BIGINT REFERENCES users (id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_insurer ON audit_log (insurer_id, created_at);

-- Service-wide secrets generated on first start (e.g. the JWT signing key) so restarts keep sessions.
CREATE TABLE app_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
