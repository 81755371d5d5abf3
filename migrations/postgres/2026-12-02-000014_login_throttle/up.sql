-- Issue 17 (10): sign-in throttling per account and source instead of locking the account.
-- Kept in step with the other backend by tests/schema_drift.rs.
--
-- One row per (e-mail address as typed, lower-cased; the client's address) that failed to sign in,
-- whether or not the address belongs to a user (so the answer never tells which accounts exist).
-- `key` is the SHA-256 of the pair (hex): neither the address nor the IP is kept in clear.
-- After 5 failures in a row the pair waits 1, 2, 4, 8, then 15 minutes (at most) before the next
-- try; a success from the pair deletes its row. Others (another source) are never held back, so
-- nobody can lock a user out. Rows untouched for a day are deleted by the next failure.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    blocked_until TIMESTAMP,
    last_failure_at TIMESTAMP NOT NULL
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure_at);

-- The account-wide lockout it replaces (anyone knowing an address could lock it for 15 minutes).
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
