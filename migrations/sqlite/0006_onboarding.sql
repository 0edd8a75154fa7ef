-- The "Get started" checklist: steps a person confirmed themselves (the mapping reviewed, the
-- directions chosen) and when the whole list was done, so it never comes back after that.
-- Steps the app can see for itself (a connection, the Activate switch) are not stored.
CREATE TABLE onboarding_steps (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    step      TEXT NOT NULL,
    done_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, step)
);
