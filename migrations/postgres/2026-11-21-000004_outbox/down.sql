DROP TABLE outbox_notices;
DROP TABLE outbox;
