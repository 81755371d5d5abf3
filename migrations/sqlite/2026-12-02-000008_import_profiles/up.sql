-- Import profiles (SPEC §3.1): how an insurer's own files map onto regwatch's fields, kept as the
-- same TOML the CLI reads. Uploads waiting for the staff member's confirmation after the preview
-- of what they would change. The line of the row a notice was last loaded from, so that a
-- 受付番号 arriving with another member can be refused naming both lines. Kept in step with the
-- other backend by tests/schema_drift.rs.
CREATE TABLE import_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    name TEXT NOT NULL,
    profile_toml TEXT NOT NULL,
    updated_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX import_profiles_name ON import_profiles (insurer_id, name);

CREATE TABLE import_uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    file_kind TEXT NOT NULL CHECK (file_kind IN ('notices', 'registrations')),
    file_name TEXT NOT NULL,
    profile_id BIGINT REFERENCES import_profiles (id) ON DELETE SET NULL,
    received_on DATE,
    content BLOB NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX import_uploads_insurer ON import_uploads (insurer_id, created_at);

ALTER TABLE notices ADD COLUMN line BIGINT;
