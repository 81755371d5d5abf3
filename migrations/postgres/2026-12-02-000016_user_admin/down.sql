DROP INDEX audit_log_insurer_user;
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN deactivated_at;
ALTER TABLE users DROP COLUMN display_name;
