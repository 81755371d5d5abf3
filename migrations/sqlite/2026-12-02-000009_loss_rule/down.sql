-- The 'loss' rule cannot be expressed by the earlier schema: loss notices go back to the rule their
-- My Number gave them (their deadlines are recomputed when the settings are next saved).
PRAGMA foreign_keys = OFF;
BEGIN;
UPDATE notices SET registration_rule = CASE WHEN my_number_status = 'valid' THEN 'five_day' ELSE 'standard' END
WHERE registration_rule = 'loss';
COMMIT;
PRAGMA foreign_keys = ON;
