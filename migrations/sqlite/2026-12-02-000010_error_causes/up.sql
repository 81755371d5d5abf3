-- 要因分析: the insurer's own intermediate-server error codes and the cause each stands for (a J-LIS
-- 照会 mismatch code is the J-LIS cause even when no 遅延理由 says so). Kept in step with the other
-- backend by tests/schema_drift.rs.
CREATE TABLE error_causes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    error_code TEXT NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('employer_late', 'my_number', 'jlis_mismatch',
        'dependent_pending', 'document_deficiency', 'insurer_backlog', 'unknown')),
    updated_by_label TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX error_causes_code ON error_causes (insurer_id, error_code);
