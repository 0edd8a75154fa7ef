//! What a user asks of a log row (SPEC §7, §6 "deleted counterpart"): Retry an Error row,
//! Re-create a record whose counterpart was deleted, or Unlink it. Retry and Re-create queue the
//! record's source id in `sync_retries` and ask the scheduler for a run; the run takes the queue
//! with [`RetryStore::pending`] and reports each record with [`RetryStore::done`]. Unlink acts at
//! once: the link goes, so the record's next change creates a new counterpart.

use crate::ids::TenantId;
use std::sync::Arc;

use domain::pairs::{Flow, ModulePair};
use serde::{Deserialize, Serialize};

use super::log::LogAction;
use super::schedule::Scheduler;
use crate::clock::Clock;
use crate::db::{BeginWrite, Db};
use crate::with_pool;

/// A record queued to sync again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryQueued {
    pub pair: ModulePair,
    pub flow: Flow,
    /// The record's id in the flow's source system (Zoho for Zoho → QuickBooks).
    pub source_id: String,
    /// `Retry` syncs it as usual; `Recreate` creates a new counterpart for a deleted one.
    pub kind: LogAction,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("That log entry was not found. Reload the Logs page and try again.")]
    NotFound,
    #[error(
        "This log entry has nothing to retry: only Error entries (and records whose counterpart was deleted) can be synced again."
    )]
    NothingToRetry,
    #[error(
        "This log entry was already dealt with by a later sync. Look at the newest entry of the record instead."
    )]
    AlreadyResolved,
    #[error(
        "Only a record whose counterpart was deleted can be unlinked; use Retry for other errors."
    )]
    NotUnlinkable,
    #[error(
        "This log entry does not name the record to sync, so it cannot be retried. Change the record in its system and the next sync picks it up."
    )]
    NoRecordId,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl RetryError {
    /// Whether the message is for the user (the rest are our faults).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Self::Db(_))
    }
}

/// The parts of a log row the actions need.
struct ActionRow {
    pair: ModulePair,
    flow: Flow,
    zoho_id: Option<String>,
    qbo_id: Option<String>,
    action: Option<LogAction>,
    resolved: bool,
}

impl ActionRow {
    fn source_id(&self) -> Option<&str> {
        match self.flow {
            Flow::ZohoToQbo => self.zoho_id.as_deref(),
            Flow::QboToZoho => self.qbo_id.as_deref(),
        }
        .filter(|id| !id.is_empty())
    }
}

fn flow_from_key(key: &str) -> Option<Flow> {
    Flow::ALL.into_iter().find(|f| f.key() == key)
}

/// The column of `sync_log` holding a flow's source id (never user input).
fn source_column(flow: Flow) -> &'static str {
    match flow {
        Flow::ZohoToQbo => "zoho_id",
        Flow::QboToZoho => "qbo_id",
    }
}

#[derive(Debug, Clone)]
pub struct RetryStore {
    db: Db,
    clock: Arc<dyn Clock>,
    scheduler: Scheduler,
}

impl RetryStore {
    pub fn new(db: Db, clock: Arc<dyn Clock>, scheduler: Scheduler) -> Self {
        Self {
            db,
            clock,
            scheduler,
        }
    }

    async fn action_row(&self, tenant_id: &str, log_id: &str) -> Result<ActionRow, RetryError> {
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let row: Option<Row> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT pair, flow, zoho_id, qbo_id, action, resolved_at FROM sync_log \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(log_id)
            .fetch_optional(pool)
            .await?
        });
        let (pair, flow, zoho_id, qbo_id, action, resolved_at) = row.ok_or(RetryError::NotFound)?;
        Ok(ActionRow {
            pair: ModulePair::from_key(&pair).map_err(|_| RetryError::NotFound)?,
            flow: flow_from_key(&flow).ok_or(RetryError::NotFound)?,
            zoho_id,
            qbo_id,
            action: action.as_deref().and_then(LogAction::from_key),
            resolved: resolved_at.is_some(),
        })
    }

    /// Retry (or Re-create) the record of a log row: queues it and asks for a run now. Asking
    /// twice keeps one queue entry (the newest request).
    pub async fn request_retry(
        &self,
        tenant_id: &TenantId,
        log_id: &str,
    ) -> Result<RetryQueued, RetryError> {
        let row = self.action_row(tenant_id, log_id).await?;
        let kind = row.action.ok_or(RetryError::NothingToRetry)?;
        if row.resolved {
            return Err(RetryError::AlreadyResolved);
        }
        let source_id = row.source_id().ok_or(RetryError::NoRecordId)?.to_owned();
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_retries (tenant_id, pair, flow, source_id, kind, requested_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, pair, flow, source_id) DO UPDATE SET kind = excluded.kind, \
                 requested_at = excluded.requested_at",
            )
            .bind(tenant_id)
            .bind(row.pair.key())
            .bind(row.flow.key())
            .bind(&source_id)
            .bind(kind.key())
            .bind(now)
            .execute(pool)
            .await?;
        });
        self.scheduler.request_run(tenant_id).await?;
        Ok(RetryQueued {
            pair: row.pair,
            flow: row.flow,
            source_id,
            kind,
        })
    }

    /// Unlink a record whose counterpart was deleted: forgets the link (so its next change
    /// creates a new counterpart), drops a queued Re-create of it, and marks its open rows of
    /// that flow dealt with.
    pub async fn unlink(&self, tenant_id: &TenantId, log_id: &str) -> Result<(), RetryError> {
        let row = self.action_row(tenant_id, log_id).await?;
        if row.action != Some(LogAction::Recreate) {
            return Err(RetryError::NotUnlinkable);
        }
        if row.resolved {
            return Err(RetryError::AlreadyResolved);
        }
        let source_id = row.source_id().ok_or(RetryError::NoRecordId)?.to_owned();
        // The link is keyed by the Zoho id; a QuickBooks → Zoho row may carry only the QBO id,
        // which is unique per pair too.
        let (link_column, link_id) = match row.zoho_id.as_deref().filter(|id| !id.is_empty()) {
            Some(zoho_id) => ("zoho_id", zoho_id.to_owned()),
            None => ("qbo_id", source_id.clone()),
        };
        let delete_link = format!(
            "DELETE FROM sync_links WHERE tenant_id = $1 AND pair = $2 AND {link_column} = $3"
        );
        let resolve_rows = format!(
            "UPDATE sync_log SET resolved_at = $5 WHERE tenant_id = $1 AND pair = $2 AND flow = $3 \
             AND {} = $4 AND action IS NOT NULL AND resolved_at IS NULL",
            source_column(row.flow)
        );
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sqlx::AssertSqlSafe(delete_link.clone()))
                .bind(tenant_id)
                .bind(row.pair.key())
                .bind(&link_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM sync_retries WHERE tenant_id = $1 AND pair = $2 AND flow = $3 AND source_id = $4",
            )
            .bind(tenant_id)
            .bind(row.pair.key())
            .bind(row.flow.key())
            .bind(&source_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(resolve_rows.clone()))
                .bind(tenant_id)
                .bind(row.pair.key())
                .bind(row.flow.key())
                .bind(&source_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // The row itself, even when its source id column is empty on this side.
            sqlx::query("UPDATE sync_log SET resolved_at = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(log_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The queue of a tenant, oldest request first (rows naming an unknown pair or flow, which
    /// only a newer version could have written, are left alone).
    pub async fn pending(&self, tenant_id: &str) -> Result<Vec<RetryQueued>, sqlx::Error> {
        let rows: Vec<(String, String, String, String)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT pair, flow, source_id, kind FROM sync_retries WHERE tenant_id = $1 \
                 ORDER BY requested_at, pair, flow, source_id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(pair, flow, source_id, kind)| {
                Some(RetryQueued {
                    pair: ModulePair::from_key(&pair).ok()?,
                    flow: flow_from_key(&flow)?,
                    source_id,
                    kind: LogAction::from_key(&kind)?,
                })
            })
            .collect())
    }

    /// The run dealt with a queued record: takes it off the queue and marks the record's open
    /// rows (those offering Retry or Re-create) of that flow resolved. Call it before storing
    /// the record's new outcome row, so a new Error row stays open and offers Retry again.
    pub async fn done(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        flow: Flow,
        source_id: &str,
    ) -> Result<(), sqlx::Error> {
        let resolve_rows = format!(
            "UPDATE sync_log SET resolved_at = $5 WHERE tenant_id = $1 AND pair = $2 AND flow = $3 \
             AND {} = $4 AND action IS NOT NULL AND resolved_at IS NULL",
            source_column(flow)
        );
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "DELETE FROM sync_retries WHERE tenant_id = $1 AND pair = $2 AND flow = $3 AND source_id = $4",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(flow.key())
            .bind(source_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(resolve_rows.clone()))
                .bind(tenant_id)
                .bind(pair.key())
                .bind(flow.key())
                .bind(source_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
