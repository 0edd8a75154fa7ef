-- The sync engine's tables (issue 5): per-tenant configuration (directions, settings, field
-- mappings, discovered fields, filters), links between Zoho and QBO records, cursors, the log,
-- the scheduler's lease table, backfills and the write journal. Same tables and columns in
-- both dialects; JSON documents are stored as TEXT (serde of the domain types).

-- Sync Direction (domain::pairs::SyncDirections) and the other settings
-- (domain::settings::SyncSettings: interval, conflict policy, inventory accounts, item types).
CREATE TABLE sync_config (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    directions TEXT NOT NULL,
    settings   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A pair's saved mapping (domain::mapping::Mapping) for one QBO entity (Sales Orders can
-- target Invoice or Estimate; each target keeps its own mapping).
CREATE TABLE field_mappings (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pair       TEXT NOT NULL,
    qbo_entity TEXT NOT NULL,
    mapping    TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, pair, qbo_entity)
);

-- "Sync Mappable Fields": the fields read from both systems (domain::fields::FieldCatalogue).
CREATE TABLE field_catalogues (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pair         TEXT NOT NULL,
    qbo_entity   TEXT NOT NULL,
    catalogue    TEXT NOT NULL,
    refreshed_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, pair, qbo_entity)
);

-- A pair's filters for both flows (domain::filters::PairFilters).
CREATE TABLE sync_filters (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pair       TEXT NOT NULL,
    filters    TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, pair)
);

-- One row per pair of records kept in step. The hashes are domain::record::fingerprint of what
-- each side last held (as mapped toward the other side): a change whose hash equals the stored
-- one is our own write coming back (echo) and is skipped.
CREATE TABLE sync_links (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pair           TEXT NOT NULL,
    zoho_id        TEXT NOT NULL,
    qbo_id         TEXT NOT NULL,
    zoho_hash      TEXT NOT NULL,
    qbo_hash       TEXT NOT NULL,
    qbo_sync_token TEXT,
    zoho_modified  TEXT,
    qbo_modified   TEXT,
    -- the record's name, for messages about it ("product 'Widget'")
    display_name   TEXT,
    -- the payload last written to the target, so an update's log row shows before/after
    last_written   TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, pair, zoho_id),
    UNIQUE (tenant_id, pair, qbo_id)
);

-- How far each pair and flow has been read ('zoho_to_qbo' | 'qbo_to_zoho'). `cursor_at` is the
-- source's modified time (millis) of the newest record whose outcome is stored; it moves in
-- the same transaction as that page's links and log rows.
CREATE TABLE sync_cursors (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pair       TEXT NOT NULL,
    flow       TEXT NOT NULL,
    cursor_at  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, pair, flow)
);

-- Every record the engine touched, with its outcome (SPEC §7). `seq` orders rows newest first
-- (ties on created_at are common inside one run).
CREATE TABLE sync_log (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    pair        TEXT NOT NULL,
    flow        TEXT NOT NULL,
    zoho_id     TEXT,
    qbo_id      TEXT,
    record_name TEXT,
    -- 'synced' | 'error' | 'not_synced' | 'not_valid'
    status      TEXT NOT NULL,
    message     TEXT,
    -- what the row offers: 'retry' | 'recreate' (deleted counterpart) | NULL
    action      TEXT,
    details     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- set when a later run dealt with this row (retried, re-created, unlinked)
    resolved_at BIGINT
);
CREATE INDEX sync_log_page_idx ON sync_log (tenant_id, pair, seq);
CREATE INDEX sync_log_status_idx ON sync_log (tenant_id, pair, status, seq);
CREATE INDEX sync_log_zoho_idx ON sync_log (tenant_id, zoho_id);
CREATE INDEX sync_log_qbo_idx ON sync_log (tenant_id, qbo_id);
CREATE INDEX sync_log_time_idx ON sync_log (tenant_id, created_at);

-- Records to sync again on the next run (Retry on a log row, dependencies that failed).
CREATE TABLE sync_retries (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pair         TEXT NOT NULL,
    flow         TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    -- 'retry' | 'recreate'
    kind         TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, pair, flow, source_id)
);

-- QBO batches holding creates whose outcome is not stored yet (the write journal). The batch is
-- saved with its requestid before it is sent; a run that finds one left by a crashed run sends
-- it again with the same requestid, so QBO answers with the first result instead of creating
-- second copies, and links what it created.
CREATE TABLE sync_pending_batches (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    request_id TEXT NOT NULL,
    pair       TEXT NOT NULL,
    flow       TEXT NOT NULL,
    -- JSON: the batch items and, per bId, the source record's id and fingerprint
    batch      TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);

-- The scheduler: one row per tenant. A worker claims a due row by setting lease_owner and
-- lease_until (SKIP LOCKED on Postgres); a crashed worker's lease simply expires.
CREATE TABLE sync_schedule (
    tenant_id        TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    next_run_at      BIGINT NOT NULL,
    -- "Sync now": run as soon as a worker is free
    requested_at     BIGINT,
    lease_owner      TEXT,
    lease_until      BIGINT,
    last_started_at  BIGINT,
    last_finished_at BIGINT,
    -- 'ok' | 'partial' | 'failed' | 'skipped', and a sentence for the UI
    last_outcome     TEXT,
    last_message     TEXT,
    runs             BIGINT NOT NULL DEFAULT 0,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX sync_schedule_due_idx ON sync_schedule (next_run_at);

-- Historical backfills (annual plans): per pair and flow, everything modified since `since`.
CREATE TABLE sync_backfills (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    pair            TEXT NOT NULL,
    flow            TEXT NOT NULL,
    -- the first day, YYYY-MM-DD, and its instant (millis, UTC midnight)
    since           TEXT NOT NULL,
    since_at        BIGINT NOT NULL,
    -- 'queued' | 'running' | 'done' | 'failed'
    status          TEXT NOT NULL,
    -- where the walk resumes after a crash (source modified time, millis) and what it did
    checkpoint_at   BIGINT NOT NULL,
    done            BIGINT NOT NULL DEFAULT 0,
    estimated_total BIGINT,
    message         TEXT,
    requested_at    BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    PRIMARY KEY (tenant_id, pair, flow)
);
