-- The QuickBooks Online page's "Activate" switch: the whole integration's kill switch. The
-- scheduler never runs a tenant whose integration is inactive (the default).
CREATE TABLE integration_settings (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    active     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL
);
