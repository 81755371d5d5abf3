-- Issue 18 (3): following a case (案件) — its 担当者, its 次回対応日 and its メモ. Kept in step with
-- the other backend by tests/schema_drift.rs.
--
-- case_workflow: at most one row per notice, written the first time someone assigns it or sets a
--   follow-up date. A separate table keyed by the notice's row id, so the notices import (which
--   updates a changed notice in place, same row id) never touches it. Notices are never deleted.
--   assignee_user_id: a user of the same insurer (checked by app::workflow), NULL for none.
--   follow_up_on: 次回対応日 (a Japan date), NULL for none.
-- case_notes: メモ, append-only (no UPDATE or DELETE anywhere); body has My Numbers masked.
--   author_label: how the author was named when writing (the audit label).
CREATE TABLE case_workflow (
    notice_id BIGINT PRIMARY KEY NOT NULL REFERENCES notices (id),
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    assignee_user_id BIGINT REFERENCES users (id),
    follow_up_on DATE,
    updated_by_label TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX case_workflow_assignee ON case_workflow (insurer_id, assignee_user_id);
CREATE INDEX case_workflow_follow_up ON case_workflow (insurer_id, follow_up_on);

CREATE TABLE case_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    author_user_id BIGINT REFERENCES users (id),
    author_label TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_notice ON case_notes (insurer_id, notice_id, id);
