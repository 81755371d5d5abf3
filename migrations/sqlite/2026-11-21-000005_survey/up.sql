-- 改善計画 checklist answers, plan actions with dated reviews, survey answers and the history of
-- submitted surveys (seed 002 別添1–3). Kept in step with the other backend by tests/schema_drift.rs.

-- One answer per checklist item (別添1/別添2 id such as 1-①): 実施済 / 未実施 / 一部 and a note.
CREATE TABLE checklist_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    item_id TEXT NOT NULL,
    answer TEXT NOT NULL CHECK (answer IN ('done', 'not_done', 'partly')),
    note TEXT NOT NULL,
    updated_by_label TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX checklist_answers_item ON checklist_answers (insurer_id, item_id);

-- 改善計画 actions: what, which checklist item it answers, owner, schedule, status.
CREATE TABLE plan_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    title TEXT NOT NULL,
    checklist_item TEXT,
    owner TEXT NOT NULL,
    start_on DATE,
    due_on DATE,
    status TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_actions_insurer ON plan_actions (insurer_id, due_on);

-- Dated progress reviews of an action (1-④ 定期的に確認).
CREATE TABLE plan_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    action_id BIGINT NOT NULL REFERENCES plan_actions (id),
    reviewed_on DATE NOT NULL,
    progress INTEGER,
    note TEXT NOT NULL,
    created_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_reviews_action ON plan_reviews (insurer_id, action_id);

-- The staff's current answer to each survey question (overrides the pre-fill).
CREATE TABLE survey_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    question_id TEXT NOT NULL,
    choice TEXT NOT NULL,
    days INTEGER,
    note TEXT NOT NULL,
    updated_by_label TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX survey_answers_question ON survey_answers (insurer_id, question_id);

-- Each submission of the survey: the answers as they were (JSON), for the history.
CREATE TABLE survey_submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    answers_json TEXT NOT NULL,
    submitted_by_label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX survey_submissions_insurer ON survey_submissions (insurer_id, created_at);
