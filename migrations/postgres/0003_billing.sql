-- Billing (SPEC §8): each tenant's Stripe customer and current subscription, the Stripe events
-- already handled (deduplication), and the emails sent. The chosen plan stays in tenants.plan.
-- Timestamps are Unix milliseconds except trial_end (Stripe's Unix seconds).
CREATE TABLE billing_accounts (
    tenant_id          TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_customer_id TEXT,
    -- the subscription that decides the tenant's plan; events about any other are ignored
    subscription_id    TEXT,
    -- Stripe's subscription status ('trialing', 'active', 'past_due', …), or 'none'
    status             TEXT NOT NULL DEFAULT 'none',
    trial_end          BIGINT,
    -- why the banner shows: 'payment_failed' or 'canceled' (by Stripe, not by the user)
    notice             TEXT,
    notice_plan        TEXT,
    updated_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_accounts_customer_idx ON billing_accounts (stripe_customer_id);
CREATE INDEX billing_accounts_subscription_idx ON billing_accounts (subscription_id);

-- Stripe delivers at least once: an event id seen before is answered without a second effect.
-- Keyed by Stripe's global event id; tenant_id records whose event it was, when known.
CREATE TABLE stripe_events (
    event_id    TEXT PRIMARY KEY,
    tenant_id   TEXT,
    event_type  TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Every email sent (the sandbox-mode Outbox page lists them); dedupe_key makes each one once.
CREATE TABLE email_outbox (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    kind       TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    delivery   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT email_outbox_dedupe UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX email_outbox_created_idx ON email_outbox (tenant_id, created_at);
