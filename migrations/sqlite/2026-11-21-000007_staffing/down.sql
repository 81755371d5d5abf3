ALTER TABLE survey_submissions DROP COLUMN evidence_json;
DROP TABLE staffing;
