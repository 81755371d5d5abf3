-- Issue 20: loading a year of notices and results at SaaS scale. The tables an import fills row by
-- row in the millions (notices, members, registration_results) lose their per-row foreign keys: each
-- was one trigger call per row and key (34 s of a 1,000,000-notice INSERT and 15 s of its members,
-- measured with EXPLAIN ANALYZE), and none of them ever caught anything:
-- - the import's set-based merge (store::import::stage) resolves employer_id and member_id by joining
--   the employers and members of the same insurer in the same transaction, and batch_id is the batch
--   that transaction created; insurer_id is the insurer the transaction locked;
-- - no code deletes an insurer, employer, member or import batch (tests/import.rs checks that every
--   stored reference resolves to a row of the same insurer after imports, which a foreign key could
--   not check: it accepted another insurer's employer).
-- The references *to* notices (letters, certificates, case_workflow, case_notes, outbox_notices) are
-- written a row at a time by users and keep their foreign keys. See README "Constraints and indexes".
ALTER TABLE notices
    DROP CONSTRAINT IF EXISTS notices_insurer_id_fkey,
    DROP CONSTRAINT IF EXISTS notices_employer_id_fkey,
    DROP CONSTRAINT IF EXISTS notices_member_id_fkey,
    DROP CONSTRAINT IF EXISTS notices_batch_id_fkey;
ALTER TABLE members
    DROP CONSTRAINT IF EXISTS members_insurer_id_fkey,
    DROP CONSTRAINT IF EXISTS members_employer_id_fkey;
ALTER TABLE registration_results
    DROP CONSTRAINT IF EXISTS registration_results_insurer_id_fkey,
    DROP CONSTRAINT IF EXISTS registration_results_batch_id_fkey;
