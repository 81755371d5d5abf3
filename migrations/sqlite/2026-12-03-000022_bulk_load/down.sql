-- Back to the foreign keys of migration 000021 (same rebuild as up.sql).
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE notices_rebuilt (
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
    registration_rule TEXT NOT NULL CHECK (registration_rule IN ('five_day', 'standard', 'loss')),
    batch_id BIGINT REFERENCES import_batches (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    line BIGINT,
    UNIQUE (insurer_id, notice_id)
);
INSERT INTO notices_rebuilt (id, insurer_id, notice_id, kind, employer_id, member_id, event_date,
    received_on, my_number_status, delay_cause, content_hash, registered_at, registered_on,
    submission_deadline, registration_deadline, registration_rule, batch_id, created_at, updated_at,
    line)
SELECT id, insurer_id, notice_id, kind, employer_id, member_id, event_date, received_on,
    my_number_status, delay_cause, content_hash, registered_at, registered_on, submission_deadline,
    registration_deadline, registration_rule, batch_id, created_at, updated_at, line
FROM notices;
DROP TABLE notices;
ALTER TABLE notices_rebuilt RENAME TO notices;
CREATE INDEX notices_open_registration ON notices (insurer_id, registered_on, registration_deadline);
CREATE INDEX notices_member ON notices (insurer_id, member_id);
CREATE INDEX notices_received_status
    ON notices (insurer_id, received_on, id, registered_on, registration_deadline, submission_deadline);
CREATE INDEX notices_deadline_status
    ON notices (insurer_id, registration_deadline, id, registered_on, received_on, submission_deadline);
CREATE INDEX notices_event ON notices (insurer_id, event_date, id);
CREATE INDEX notices_submission_days
    ON notices (insurer_id, CAST(julianday(received_on) - julianday(submission_deadline) AS INTEGER), id);
CREATE INDEX notices_employer_received ON notices (insurer_id, employer_id, received_on, id);

CREATE TABLE members_rebuilt (
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
    birth_date DATE,
    postal_code TEXT,
    address TEXT,
    search_name TEXT,
    search_kana TEXT,
    UNIQUE (insurer_id, member_key)
);
INSERT INTO members_rebuilt (id, insurer_id, employer_id, symbol, number, dependent_seq, member_key,
    name, name_kana, created_at, updated_at, birth_date, postal_code, address, search_name, search_kana)
SELECT id, insurer_id, employer_id, symbol, number, dependent_seq, member_key, name, name_kana,
    created_at, updated_at, birth_date, postal_code, address, search_name, search_kana
FROM members;
DROP TABLE members;
ALTER TABLE members_rebuilt RENAME TO members;
CREATE INDEX members_search_name ON members (insurer_id, search_name);
CREATE INDEX members_search_kana ON members (insurer_id, search_kana);
CREATE INDEX members_number ON members (insurer_id, number, symbol);

CREATE TABLE registration_results_rebuilt (
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
INSERT INTO registration_results_rebuilt (id, insurer_id, notice_id, result, registered_at,
    error_code, error_message, batch_id, line, created_at)
SELECT id, insurer_id, notice_id, result, registered_at, error_code, error_message, batch_id, line,
    created_at
FROM registration_results;
DROP TABLE registration_results;
ALTER TABLE registration_results_rebuilt RENAME TO registration_results;
CREATE INDEX registration_results_notice ON registration_results (insurer_id, notice_id);

COMMIT;
PRAGMA foreign_keys = ON;
