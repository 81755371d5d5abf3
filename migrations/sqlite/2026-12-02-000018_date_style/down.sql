ALTER TABLE insurers DROP COLUMN date_style;
