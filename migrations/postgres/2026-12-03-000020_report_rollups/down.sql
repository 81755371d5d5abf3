DROP TABLE report_rollups;
