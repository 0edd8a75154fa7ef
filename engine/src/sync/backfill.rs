//! Historical backfills (Settings → Sync Historical Data, annual plans): per pair and flow,
//! every record modified since a day. The run works through them after its live work, a few
//! pages at a time, saving a checkpoint after each page so a crash resumes where it stopped.

use std::sync::Arc;

use domain::pairs::{Flow, ModulePair};
use domain::record::DateValue;
use domain::settings::BackfillPlan;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::db::{BeginWrite, Db};
use crate::with_pool;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackfillStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl BackfillStatus {
    pub fn key(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "queued" => Some(Self::Queued),
            "running" => Some(Self::Running),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

/// One backfill as the UI shows it (a progress bar: done of estimated_total).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillProgress {
    pub pair: ModulePair,
    pub flow: Flow,
    pub since: String,
    pub status: BackfillStatus,
    pub done: u64,
    /// Unknown until the first page has been read.
    pub estimated_total: Option<u64>,
    pub message: Option<String>,
    pub requested_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Where the walk resumes (source modified time, millis).
    pub checkpoint_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("Enter the start date as YYYY-MM-DD (\"{0}\" is not a date).")]
    BadDate(String),
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
}

#[derive(Debug, Clone)]
pub struct BackfillStore {
    db: Db,
    clock: Arc<dyn Clock>,
}

pub(crate) fn flow_from_key(key: &str) -> Option<Flow> {
    match key {
        "zoho_to_qbo" => Some(Flow::ZohoToQbo),
        "qbo_to_zoho" => Some(Flow::QboToZoho),
        _ => None,
    }
}

type Row = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
);

impl BackfillStore {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Queues checked plans (domain::settings::BackfillRequest::check_all). Submitting a pair
    /// again restarts it from its (new) first day: backfills are repeatable.
    pub async fn queue(
        &self,
        tenant_id: &str,
        plans: &[BackfillPlan],
    ) -> Result<(), BackfillError> {
        let now = self.clock.now_millis();
        let mut rows = Vec::new();
        for plan in plans {
            // Milliseconds, as checkpoints are (`DateValue` counts seconds).
            let since_at = DateValue::parse(&plan.since)
                .map(|d| d.instant_or_midnight().saturating_mul(1000))
                .ok_or_else(|| BackfillError::BadDate(plan.since.clone()))?;
            for flow in &plan.flows {
                rows.push((plan.pair, *flow, plan.since.clone(), since_at));
            }
        }
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for (pair, flow, since, since_at) in &rows {
                sqlx::query(
                    "INSERT INTO sync_backfills (tenant_id, pair, flow, since, since_at, status, checkpoint_at, \
                     done, estimated_total, message, requested_at, started_at, finished_at) \
                     VALUES ($1, $2, $3, $4, $5, 'queued', $5, 0, NULL, NULL, $6, NULL, NULL) \
                     ON CONFLICT (tenant_id, pair, flow) DO UPDATE SET since = excluded.since, \
                     since_at = excluded.since_at, status = 'queued', checkpoint_at = excluded.checkpoint_at, \
                     done = 0, estimated_total = NULL, message = NULL, requested_at = excluded.requested_at, \
                     started_at = NULL, finished_at = NULL",
                )
                .bind(tenant_id)
                .bind(pair.key())
                .bind(flow.key())
                .bind(since)
                .bind(since_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every backfill of the tenant, in pair order.
    pub async fn progress(&self, tenant_id: &str) -> Result<Vec<BackfillProgress>, sqlx::Error> {
        let rows: Vec<Row> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT pair, flow, since, status, done, checkpoint_at, estimated_total, message, requested_at, \
                 started_at, finished_at, since_at FROM sync_backfills WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        let mut out: Vec<BackfillProgress> = rows
            .into_iter()
            .filter_map(
                |(
                    pair,
                    flow,
                    since,
                    status,
                    done,
                    checkpoint_at,
                    total,
                    message,
                    requested_at,
                    started_at,
                    finished_at,
                    _,
                )| {
                    Some(BackfillProgress {
                        pair: ModulePair::from_key(&pair).ok()?,
                        flow: flow_from_key(&flow)?,
                        since,
                        status: BackfillStatus::from_key(&status)?,
                        done: u64::try_from(done).unwrap_or(0),
                        estimated_total: total.and_then(|t| u64::try_from(t).ok()),
                        message,
                        requested_at,
                        started_at,
                        finished_at,
                        checkpoint_at,
                    })
                },
            )
            .collect();
        out.sort_by_key(|p| (ModulePair::ALL.iter().position(|q| *q == p.pair), p.flow));
        Ok(out)
    }

    /// Whether any backfill is queued or running (the scheduler brings such tenants back soon).
    pub async fn has_active(&self, tenant_id: &str) -> Result<bool, sqlx::Error> {
        let (n,): (i64,) = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM sync_backfills WHERE tenant_id = $1 AND status IN ('queued', 'running')",
            )
            .bind(tenant_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    /// Saves a page's progress: the new checkpoint and the records done.
    pub async fn checkpoint(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        flow: Flow,
        checkpoint_at: i64,
        done_more: u64,
        estimated_total: Option<u64>,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sync_backfills SET status = 'running', checkpoint_at = $4, done = done + $5, \
                 estimated_total = COALESCE($6, estimated_total), started_at = COALESCE(started_at, $7) \
                 WHERE tenant_id = $1 AND pair = $2 AND flow = $3",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(flow.key())
            .bind(checkpoint_at)
            .bind(i64::try_from(done_more).unwrap_or(i64::MAX))
            .bind(estimated_total.map(|t| i64::try_from(t).unwrap_or(i64::MAX)))
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn finish(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        flow: Flow,
        status: BackfillStatus,
        message: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sync_backfills SET status = $4, message = $5, finished_at = $6, \
                 started_at = COALESCE(started_at, $6) WHERE tenant_id = $1 AND pair = $2 AND flow = $3",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(flow.key())
            .bind(status.key())
            .bind(message)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
