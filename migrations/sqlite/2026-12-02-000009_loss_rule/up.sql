-- Every 資格喪失届 has the registration rule 'loss' (SPEC §2, §2.3), whatever its My Number. The
-- stored rules and deadlines of existing loss notices are recomputed by `store::migrate` after this
-- migration (the calendar is needed). SQLite's 12-step table rebuild, keeping ids and every row.
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
CREATE INDEX notices_received ON notices (insurer_id, received_on);
CREATE INDEX notices_employer ON notices (insurer_id, employer_id);
COMMIT;
PRAGMA foreign_keys = ON;
