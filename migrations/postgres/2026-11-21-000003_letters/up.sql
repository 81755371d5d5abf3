-- Letters to members and 資格確認書 issued ex officio (seed 002, 2-(1)–(3)). Kept in step with
-- ../../sqlite by tests/schema_drift.rs. Timestamps are UTC; dates are Japan dates.

-- The text printed where a seal would be (e.g. 「（公印省略）」), beside the insurer's address and contact.
ALTER TABLE insurers ADD COLUMN seal_text TEXT;

-- One row per 資格確認書 issued ex officio: validity at most one month (checked by the application).
CREATE TABLE certificates (
    id BIGSERIAL PRIMARY KEY,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    issued_on DATE NOT NULL,
    valid_until DATE NOT NULL,
    issued_by BIGINT REFERENCES users (id),
    issued_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (valid_until >= issued_on)
);
CREATE INDEX certificates_notice ON certificates (insurer_id, notice_id);
CREATE INDEX certificates_valid ON certificates (insurer_id, valid_until);

-- One row per letter produced (a bulk run shares its run id): who, when, which template version.
CREATE TABLE letters (
    id BIGSERIAL PRIMARY KEY,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    kind TEXT NOT NULL CHECK (kind IN ('registration_period', 'qualification_info', 'certificate')),
    variant TEXT NOT NULL,
    template_version TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('pdf', 'html')),
    letter_date DATE NOT NULL,
    certificate_id BIGINT REFERENCES certificates (id),
    run_id TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX letters_notice ON letters (insurer_id, notice_id);
CREATE INDEX letters_created ON letters (insurer_id, created_at);
