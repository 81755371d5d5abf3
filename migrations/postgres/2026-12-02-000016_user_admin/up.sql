-- Issue 18 (6): user administration. Kept in step with the other backend by tests/schema_drift.rs.
--
-- display_name: the 表示名 the header and the audit log show (empty: the e-mail is shown).
-- deactivated_at: set when an admin deactivates the user (UTC); such a user cannot sign in and
--   has no live session. NULL for an active user.
-- must_change_password: set by an admin's password reset; until the user changes the password,
--   every page leads to /account and the API answers 403 (password_change_required).
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMP;
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- The audit log filtered by user within an insurer.
CREATE INDEX audit_log_insurer_user ON audit_log (insurer_id, user_id, created_at);
