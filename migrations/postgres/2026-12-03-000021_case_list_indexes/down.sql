DROP INDEX notices_employer_received;
CREATE INDEX notices_employer ON notices (insurer_id, employer_id);
DROP INDEX notices_submission_days;
DROP INDEX notices_event;
DROP INDEX notices_deadline_status;
DROP INDEX notices_received_status;
CREATE INDEX notices_received ON notices (insurer_id, received_on);
