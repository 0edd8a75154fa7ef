-- Password reset links (issue 14). One row per link sent; only the SHA-256 of the token in the
-- link is stored, so a copy of this table resets nobody's password. A link works once
-- (used_at) and for 30 minutes (expires_at); a reset also deletes the user's other links.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_user_idx ON password_resets (tenant_id, user_id);
CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);
