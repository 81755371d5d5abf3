DROP TABLE error_causes;
