-- Connections to Zoho CRM and QuickBooks Online, their OAuth tokens (sealed by engine::vault:
-- AES-256-GCM with the tenant and provider as associated data), the one-refresher-at-a-time
-- lease, and pending authorizations. Same tables and columns in both dialects.

-- One row per tenant and provider ('zoho' | 'qbo').
CREATE TABLE connections (
    tenant_id               TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider                TEXT NOT NULL,
    -- 'connected' | 'needs_reconnect'; the scheduler skips a tenant with any needs_reconnect
    status                  TEXT NOT NULL,
    -- why it needs a reconnect, in words a user can act on
    status_reason           TEXT,
    -- QBO realmId; NULL for Zoho
    account_id              TEXT,
    -- Zoho: the data centre (location), its accounts server and the api_domain from the token
    data_centre             TEXT,
    accounts_server         TEXT,
    api_domain              TEXT,
    scopes                  TEXT,
    refresh_token           TEXT NOT NULL,
    access_token            TEXT,
    access_expires_at       BIGINT,
    refresh_expires_at      BIGINT,
    refresh_hard_expires_at BIGINT,
    refreshed_at            BIGINT,
    connected_at            BIGINT NOT NULL,
    verified_at             BIGINT,
    updated_at              BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);
CREATE INDEX connections_status_idx ON connections (status);

-- Held while one process refreshes a connection's tokens; expires so a crashed holder does
-- not block refreshes for ever.
CREATE TABLE connection_refresh_leases (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider   TEXT NOT NULL,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);

-- Authorizations started and not yet completed: the SHA-256 of the `state` sent to the
-- provider (single use, short-lived) and the sealed PKCE verifier when one was sent.
CREATE TABLE oauth_states (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state_hash    TEXT NOT NULL,
    provider      TEXT NOT NULL,
    pkce_verifier TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, state_hash)
);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);
