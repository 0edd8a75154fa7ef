//! The scheduler's lease table (ARCHITECTURE "Data"): one row per tenant saying when it runs
//! next. A worker claims one due tenant at a time by writing its name and a lease expiry into
//! the row; on PostgreSQL the candidate row is picked `FOR UPDATE SKIP LOCKED`, on SQLite the
//! guarded UPDATE alone is enough (one writer at a time). A crashed worker's lease expires and
//! the tenant becomes due again.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::db::Db;
use crate::with_pool;

/// How a run ended, for the Schedule tab and the next claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every record has a stored outcome (Error rows included).
    Ok,
    /// The run stopped early (rate limit, an API down); the cursors keep what is left.
    Partial,
    /// Nothing could be done (connection lost, storage error).
    Failed,
}

impl RunOutcome {
    pub fn key(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "ok" => Some(Self::Ok),
            "partial" => Some(Self::Partial),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What the Schedule tab and the home page show.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScheduleStatus {
    pub next_run_at: Option<i64>,
    /// "Sync now" was pressed and no run has picked it up yet.
    pub requested: bool,
    /// A worker holds the tenant right now.
    pub running: bool,
    /// The worker that held the tenant stopped renewing its lease (killed, or cut off from the
    /// database): the run was interrupted and the next worker to claim it resumes it.
    pub interrupted: bool,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    pub last_outcome: Option<RunOutcome>,
    pub last_message: Option<String>,
    pub runs: i64,
}

/// What "Sync now" did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunRequest {
    /// No run was going: one starts as soon as a worker is free.
    Queued,
    /// A run was going: one more starts as soon as it ends.
    AfterCurrentRun,
}

/// A tenant a worker now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub tenant_id: crate::TenantId,
    pub owner: String,
    /// Started by "Sync now" rather than the timer.
    pub requested: bool,
    pub started_at: i64,
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    db: Db,
    clock: Arc<dyn Clock>,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Scheduler {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Puts a tenant on the schedule (due now) unless it is there already.
    pub async fn ensure(&self, tenant_id: &str) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_schedule (tenant_id, next_run_at, updated_at) VALUES ($1, $2, $2) \
                 ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant_id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The integration was switched on: the tenant is due now, whatever its row said (a
    /// schedule saved while inactive had set the first run an interval away).
    pub async fn due_now(&self, tenant_id: &str) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_schedule (tenant_id, next_run_at, updated_at) VALUES ($1, $2, $2) \
                 ON CONFLICT (tenant_id) DO UPDATE SET updated_at = excluded.updated_at, next_run_at = CASE \
                   WHEN sync_schedule.next_run_at > excluded.next_run_at THEN excluded.next_run_at \
                   ELSE sync_schedule.next_run_at END",
            )
            .bind(tenant_id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Puts every tenant whose integration is active on the schedule (due now) unless it is
    /// there already: a worker does this at start-up so tenants activated before the scheduler
    /// existed, or while no worker ran, are picked up. Returns how many were added.
    pub async fn ensure_active_tenants(&self) -> Result<u64, sqlx::Error> {
        let now = self.clock.now_millis();
        let added = with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_schedule (tenant_id, next_run_at, updated_at) \
                 SELECT tenant_id, $1, $1 FROM integration_settings WHERE active = TRUE \
                 ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(added)
    }

    /// "Sync now": the tenant runs as soon as a worker is free (before timer-due tenants).
    /// Pressed while a run goes on, the request is dated after that run's start, so `finish`
    /// keeps it and exactly one more run follows the current one (never a second run at the
    /// same time: the lease holds the tenant). Says which of the two happened, read in the same
    /// statement that made the request, so the answer cannot disagree with what the worker does.
    pub async fn request_run(&self, tenant_id: &str) -> Result<RunRequest, sqlx::Error> {
        let now = self.clock.now_millis();
        let (owner, until): (Option<String>, Option<i64>) = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "INSERT INTO sync_schedule (tenant_id, next_run_at, requested_at, updated_at) VALUES ($1, $2, $2, $2) \
                 ON CONFLICT (tenant_id) DO UPDATE SET requested_at = CASE \
                   WHEN sync_schedule.requested_at IS NULL THEN excluded.requested_at \
                   WHEN sync_schedule.lease_owner IS NOT NULL AND sync_schedule.requested_at <= sync_schedule.last_started_at \
                     THEN CASE WHEN excluded.requested_at > sync_schedule.last_started_at THEN excluded.requested_at \
                          ELSE sync_schedule.last_started_at + 1 END \
                   ELSE sync_schedule.requested_at END, \
                 updated_at = excluded.updated_at \
                 RETURNING lease_owner, lease_until",
            )
            .bind(tenant_id)
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        Ok(
            if owner.is_some() && until.is_some_and(|until| until > now) {
                RunRequest::AfterCurrentRun
            } else {
                RunRequest::Queued
            },
        )
    }

    /// Moves the next timer run to `interval` after the last start (or now when it never ran).
    pub async fn set_interval(
        &self,
        tenant_id: &str,
        interval: Duration,
    ) -> Result<(), sqlx::Error> {
        self.ensure(tenant_id).await?;
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sync_schedule SET next_run_at = COALESCE(last_started_at, $2) + $3, updated_at = $2 \
                 WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .bind(now)
            .bind(millis(interval))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn status(&self, tenant_id: &str) -> Result<ScheduleStatus, sqlx::Error> {
        type Row = (
            i64,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
            i64,
        );
        let row: Option<Row> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT next_run_at, requested_at, lease_owner, lease_until, last_started_at, last_finished_at, \
                 last_outcome, last_message, runs FROM sync_schedule WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?
        });
        let now = self.clock.now_millis();
        Ok(match row {
            None => ScheduleStatus::default(),
            Some((next, requested, owner, until, started, finished, outcome, message, runs)) => {
                let running = owner.is_some() && until.is_some_and(|u| u > now);
                let interrupted = owner.is_some() && !running;
                ScheduleStatus {
                    next_run_at: Some(next),
                    // A request the running run started from is no longer waiting (a crashed
                    // run's request still is: the tenant is due again for it).
                    requested: requested.is_some_and(|at| {
                        !(running && started.is_some_and(|started| at <= started))
                    }),
                    running,
                    interrupted,
                    last_started_at: started,
                    last_finished_at: finished,
                    last_outcome: outcome.as_deref().and_then(RunOutcome::from_key),
                    last_message: message,
                    runs,
                }
            }
        })
    }

    /// Claims one due tenant for `lease`: "Sync now" requests first, then the longest overdue.
    /// Only tenants whose integration is active and whose connections need no reconnect are
    /// considered. `None` when nothing is due.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Claim>, sqlx::Error> {
        let now = self.clock.now_millis();
        let candidate = "SELECT s.tenant_id FROM sync_schedule s \
             JOIN integration_settings i ON i.tenant_id = s.tenant_id AND i.active = TRUE \
             WHERE (s.requested_at IS NOT NULL OR s.next_run_at <= $3) \
             AND (s.lease_until IS NULL OR s.lease_until < $3) \
             AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.tenant_id = s.tenant_id AND c.status = 'needs_reconnect') \
             ORDER BY CASE WHEN s.requested_at IS NULL THEN 1 ELSE 0 END, s.next_run_at, s.tenant_id LIMIT 1";
        let lock = match self.db.backend() {
            crate::Backend::Postgres => " FOR UPDATE OF s SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE sync_schedule SET lease_owner = $1, lease_until = $2, last_started_at = $3, \
             runs = runs + 1, updated_at = $3 \
             WHERE tenant_id = ({candidate}{lock}) AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING tenant_id, requested_at"
        );
        let row: Option<(String, Option<i64>)> = with_pool!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(owner)
                .bind(now + millis(lease))
                .bind(now)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(tenant_id, requested)| Claim {
            tenant_id: tenant_id.into(),
            owner: owner.to_owned(),
            requested: requested.is_some(),
            started_at: now,
        }))
    }

    /// Extends a lease the worker still holds; `false` when it lost it (expired and taken).
    pub async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool, sqlx::Error> {
        let now = self.clock.now_millis();
        let done = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sync_schedule SET lease_until = $3, updated_at = $4 WHERE tenant_id = $1 AND lease_owner = $2",
            )
            .bind(&claim.tenant_id)
            .bind(&claim.owner)
            .bind(now + millis(lease))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Releases the lease, records the outcome and sets the next timer run `next_in` from now.
    /// A "Sync now" pressed while the run was going stays requested.
    pub async fn finish(
        &self,
        claim: &Claim,
        outcome: RunOutcome,
        message: Option<&str>,
        next_in: Duration,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sync_schedule SET lease_owner = NULL, lease_until = NULL, last_finished_at = $3, \
                 last_outcome = $4, last_message = $5, next_run_at = $6, updated_at = $3, \
                 requested_at = CASE WHEN requested_at IS NOT NULL AND requested_at > $7 THEN requested_at ELSE NULL END \
                 WHERE tenant_id = $1 AND lease_owner = $2",
            )
            .bind(&claim.tenant_id)
            .bind(&claim.owner)
            .bind(now)
            .bind(outcome.key())
            .bind(message)
            .bind(now + millis(next_in))
            .bind(claim.started_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
