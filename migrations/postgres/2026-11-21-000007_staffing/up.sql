-- Staffing for 資格届 (checklist 2-② 4月等の業務繁忙期): staff per month, optionally overridden for one
-- ISO week; and the evidence a survey submission was based on. Kept in step with the other
-- backend by tests/schema_drift.rs.

-- period_kind 'month': starts_on is the first day of the month; 'week': the Monday of the ISO week.
-- staff is a head count in full-time equivalents (0.5 for a half-time member).
CREATE TABLE staffing (
    id BIGSERIAL PRIMARY KEY,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    period_kind TEXT NOT NULL CHECK (period_kind IN ('month', 'week')),
    starts_on DATE NOT NULL,
    staff DOUBLE PRECISION NOT NULL CHECK (staff > 0),
    note TEXT NOT NULL,
    updated_by_label TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX staffing_period ON staffing (insurer_id, period_kind, starts_on);

-- The pre-fill facts and figures behind a submitted survey (JSON), so a past submission can be
-- shown exactly as it was. Empty for submissions recorded before this column existed.
ALTER TABLE survey_submissions ADD COLUMN evidence_json TEXT;
