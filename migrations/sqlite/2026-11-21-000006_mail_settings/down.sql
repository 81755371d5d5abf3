ALTER TABLE outbox DROP COLUMN bounce_address;
ALTER TABLE outbox DROP COLUMN reply_to;
ALTER TABLE outbox DROP COLUMN from_address;
ALTER TABLE outbox DROP COLUMN sender_name;
DROP TABLE mail_settings;
