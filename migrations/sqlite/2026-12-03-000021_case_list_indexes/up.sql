-- The case list at 1,000,000 notices (issue 19): one index per order the list offers, each holding
-- the id right after the sort key (so `ORDER BY key, id` is read from the index without sorting, and
-- paging by OFFSET or by key skips entries without reading rows) and, for the two orders staff use
-- most, the dates the status filters compare (SPEC §2.2), so a status filter is tested on the index
-- entry and only the rows shown are read from the table. See README "Indexes of the case list".
DROP INDEX notices_received;
CREATE INDEX notices_received_status
    ON notices (insurer_id, received_on, id, registered_on, registration_deadline, submission_deadline);
CREATE INDEX notices_deadline_status
    ON notices (insurer_id, registration_deadline, id, registered_on, received_on, submission_deadline);
CREATE INDEX notices_event ON notices (insurer_id, event_date, id);
-- The expression of `store::notices::Sort::SubmissionDaysOver` (`Dialect::days_between`), spelled the same.
CREATE INDEX notices_submission_days
    ON notices (insurer_id, CAST(julianday(received_on) - julianday(submission_deadline) AS INTEGER), id);
-- One employer's notices, newest first.
DROP INDEX notices_employer;
CREATE INDEX notices_employer_received ON notices (insurer_id, employer_id, received_on, id);
