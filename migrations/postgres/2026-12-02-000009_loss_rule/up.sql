-- Every 資格喪失届 has the registration rule 'loss' (SPEC §2, §2.3), whatever its My Number. The
-- stored rules and deadlines of existing loss notices are recomputed by `store::migrate` after this
-- migration (the calendar is needed).
ALTER TABLE notices DROP CONSTRAINT notices_registration_rule_check;
ALTER TABLE notices ADD CONSTRAINT notices_registration_rule_check
    CHECK (registration_rule IN ('five_day', 'standard', 'loss'));
