DROP TABLE sessions;
ALTER TABLE insurers DROP COLUMN data_version;
