ALTER TABLE notices
    ADD FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    ADD FOREIGN KEY (employer_id) REFERENCES employers (id),
    ADD FOREIGN KEY (member_id) REFERENCES members (id),
    ADD FOREIGN KEY (batch_id) REFERENCES import_batches (id);
ALTER TABLE members
    ADD FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    ADD FOREIGN KEY (employer_id) REFERENCES employers (id);
ALTER TABLE registration_results
    ADD FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    ADD FOREIGN KEY (batch_id) REFERENCES import_batches (id);
