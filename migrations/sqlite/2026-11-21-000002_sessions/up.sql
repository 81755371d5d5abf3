-- Sign-in sessions (one row per issued JWT, keyed by its jti) so sign-out and a password change revoke
-- tokens server side, and a per-insurer data version that every write to notices bumps (dashboard cache key).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    insurer_id BIGINT NOT NULL REFERENCES insurers (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE insurers ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;
