-- The rows this migration added (not changed since by an admin or the scheduler's first run).
DELETE FROM mail_settings WHERE updated_by_label = 'migration' AND last_evaluated_on IS NULL;
