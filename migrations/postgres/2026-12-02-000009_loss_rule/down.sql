UPDATE notices SET registration_rule = CASE WHEN my_number_status = 'valid' THEN 'five_day' ELSE 'standard' END
WHERE registration_rule = 'loss';
ALTER TABLE notices DROP CONSTRAINT notices_registration_rule_check;
ALTER TABLE notices ADD CONSTRAINT notices_registration_rule_check
    CHECK (registration_rule IN ('five_day', 'standard'));
