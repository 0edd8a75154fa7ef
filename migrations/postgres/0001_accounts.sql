-- Tenants, their users, and login sessions. Timestamps are Unix milliseconds (BIGINT) and
-- ids are UUID strings (TEXT) in both dialects, so one SQL text serves SQLite and Postgres.
CREATE TABLE tenants (
    id           TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    plan         TEXT NOT NULL DEFAULT 'freemium',
    created_at   BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'owner',
    created_at    BIGINT NOT NULL,
    -- emails are stored lower-cased; one account per email across all tenants
    CONSTRAINT users_email_unique UNIQUE (email),
    CONSTRAINT users_tenant_user_unique UNIQUE (tenant_id, id)
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie token: a copy of this table does not let anyone log in
    token_hash   TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_tenant_idx ON sessions (tenant_id);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);

-- Failed log-ins, for throttling. Not tenant data: the subject is a hash of the email or
-- the client address, never the address itself.
CREATE TABLE login_failures (
    id         TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX login_failures_subject_idx ON login_failures (subject, failed_at);
