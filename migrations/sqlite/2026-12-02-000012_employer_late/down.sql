ALTER TABLE letters DROP COLUMN sent_at;
ALTER TABLE letters DROP COLUMN sent_by_label;
ALTER TABLE letters DROP COLUMN sent_on;
ALTER TABLE letters DROP COLUMN html;
ALTER TABLE employers DROP COLUMN late_with_numbers_by;
ALTER TABLE employers DROP COLUMN late_with_numbers_since;
