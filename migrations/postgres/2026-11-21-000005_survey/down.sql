DROP TABLE survey_submissions;
DROP TABLE survey_answers;
DROP TABLE plan_reviews;
DROP TABLE plan_actions;
DROP TABLE checklist_answers;
