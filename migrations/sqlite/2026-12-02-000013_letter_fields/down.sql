ALTER TABLE employers DROP COLUMN address;
ALTER TABLE employers DROP COLUMN postal_code;
ALTER TABLE members DROP COLUMN address;
ALTER TABLE members DROP COLUMN postal_code;
ALTER TABLE members DROP COLUMN birth_date;
ALTER TABLE insurers DROP COLUMN representative;
ALTER TABLE insurers DROP COLUMN issuer_word;
