ALTER TABLE notices DROP COLUMN line;
DROP TABLE import_uploads;
DROP TABLE import_profiles;
