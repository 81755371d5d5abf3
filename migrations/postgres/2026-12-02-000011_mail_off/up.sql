-- Automatic reminders start switched off for a new insurer (SPEC §5, issue 15): from now on an
-- insurer without a mail_settings row is treated as "off" until an admin previews the reminders and
-- switches them on. Insurers that existed before this migration without a row were sending
-- reminders under the old default ("on"); they get a row that keeps them on, so an upgrade does not
-- silently stop their e-mails. Rows that exist already are kept as they are. No schema change (the
-- column default is not used: every insert names reminders_enabled).
INSERT INTO mail_settings (insurer_id, reminders_enabled, digest_weekday, updated_by_label, updated_at)
SELECT id, TRUE, 1, 'migration', (now() AT TIME ZONE 'UTC')::timestamp FROM insurers
WHERE id NOT IN (SELECT insurer_id FROM mail_settings);
