DROP TABLE letters;
DROP TABLE certificates;
ALTER TABLE insurers DROP COLUMN seal_text;
