-- Issue 19: what the dashboard, 要因分析, checklist and survey add up for the notices received on
-- one day whose registration is complete (their statuses no longer change with time), kept so a
-- page reads a year as 365 small rows and evaluates only the pending notices live
-- (src/reports/rollups.rs). Kept in step with the other backend by tests/schema_drift.rs.
--
-- A change to the day's notices, their registration results or deadlines, or to the insurer's
-- error-cause table, sets dashboard and analysis to NULL and bumps generation in the same
-- transaction (the day is "dirty" and computed live until it is rebuilt); a rebuild writes only
-- when generation is still what it read. version is the code's rollup format: rows of another
-- version are not read.
CREATE TABLE report_rollups (
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    day DATE NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    -- The latest registration among the day's completed notices: the rollup stands for an as-of
    -- date from that day on.
    max_registered_on DATE,
    dashboard TEXT,
    analysis TEXT,
    PRIMARY KEY (insurer_id, day)
);
