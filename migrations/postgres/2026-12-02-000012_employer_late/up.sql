-- Issue 15 (SPEC §4.1). Kept in step with the other backend by tests/schema_drift.rs.
--
-- 「マイナンバー提出遅延」 (`my_number_late` in the API; no column name says my_number: SPEC §6,
-- tests/schema_drift.rs): the insurer has marked the employer as late with My Numbers (and asked it
-- for them) since this Japan date, by this user (a label that stays readable after the user is
-- gone). NULL: not marked. Only then may a letter name the employer as late (seed 002 2-(1)-③).
ALTER TABLE employers ADD COLUMN late_with_numbers_since DATE;
ALTER TABLE employers ADD COLUMN late_with_numbers_by TEXT;

-- A produced letter as it was printed: the complete HTML document of that one letter, so it can be
-- downloaded again exactly as it was (the PDF is printed again from it). NULL for letters produced
-- before this migration.
ALTER TABLE letters ADD COLUMN html TEXT;
-- 発送済: the Japan date the letter was mailed, who recorded it (the audit log has the user) and
-- when (UTC).
ALTER TABLE letters ADD COLUMN sent_on DATE;
ALTER TABLE letters ADD COLUMN sent_by_label TEXT;
ALTER TABLE letters ADD COLUMN sent_at TIMESTAMP;
