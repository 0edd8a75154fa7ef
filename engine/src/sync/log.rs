//! The sync log (SPEC §7): one row per record the engine touched. Rows are written by the run
//! (in the same transaction as the page's links and cursor, see `store::commit_page`); this
//! module reads them for the Logs page, its CSV export and the home page's hourly chart.

use crate::ids::TenantId;
use std::sync::atomic::{AtomicI64, Ordering};

use domain::log::{LogDetails, LogStatus};
use domain::pairs::{Flow, ModulePair};
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::with_pool;

/// What a log row offers besides Details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogAction {
    /// Sync the record again on the next run.
    Retry,
    /// The counterpart was deleted: create it again, or unlink.
    Recreate,
}

impl LogAction {
    pub fn key(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::Recreate => "recreate",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "retry" => Some(Self::Retry),
            "recreate" => Some(Self::Recreate),
            _ => None,
        }
    }
}

/// A row about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLogRow {
    pub pair: ModulePair,
    pub flow: Flow,
    pub zoho_id: Option<String>,
    pub qbo_id: Option<String>,
    pub record_name: Option<String>,
    pub status: LogStatus,
    pub message: Option<String>,
    pub action: Option<LogAction>,
    pub details: LogDetails,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: String,
    pub pair: ModulePair,
    pub flow: Flow,
    pub zoho_id: Option<String>,
    pub qbo_id: Option<String>,
    pub record_name: Option<String>,
    pub status: LogStatus,
    pub message: Option<String>,
    pub action: Option<LogAction>,
    pub details: LogDetails,
    /// Millis since the epoch (UTC); the page shows it in the user's local time.
    pub created_at: i64,
    /// Set once a later run dealt with the row (retried, re-created, unlinked).
    pub resolved_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LogQuery {
    pub pair: Option<ModulePair>,
    pub status: Option<LogStatus>,
    /// A Zoho or QBO id (exact), or text found in the record name or message.
    pub search: Option<String>,
    /// 0-based.
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub rows: Vec<LogEntry>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// Records synced and failed in one hour (the home page chart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    /// Start of the hour, millis.
    pub hour_start: i64,
    pub synced: u64,
    /// Error rows (Not Valid and Not Synced are not failures of the sync).
    pub failed: u64,
}

pub const MAX_PER_PAGE: u32 = 200;
/// The CSV export's cap, so one click cannot stream a million rows through one request.
pub const MAX_EXPORT_ROWS: u32 = 50_000;

static LAST_SEQ: AtomicI64 = AtomicI64::new(0);

/// The next ordering key: microsecond-ish time, strictly increasing within the process (rows of
/// one run share a millisecond).
pub(crate) fn next_seq(now_millis: i64) -> i64 {
    let candidate = now_millis.saturating_mul(1000);
    let mut last = LAST_SEQ.load(Ordering::Relaxed);
    loop {
        let next = candidate.max(last + 1);
        match LAST_SEQ.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<i64>,
);

const COLUMNS: &str = "id, pair, flow, zoho_id, qbo_id, record_name, status, message, action, details, created_at, resolved_at";

fn entry(row: Row) -> Option<LogEntry> {
    let (
        id,
        pair,
        flow,
        zoho_id,
        qbo_id,
        record_name,
        status,
        message,
        action,
        details,
        created_at,
        resolved_at,
    ) = row;
    Some(LogEntry {
        id,
        pair: ModulePair::from_key(&pair).ok()?,
        flow: match flow.as_str() {
            "zoho_to_qbo" => Flow::ZohoToQbo,
            "qbo_to_zoho" => Flow::QboToZoho,
            _ => return None,
        },
        zoho_id,
        qbo_id,
        record_name,
        status: LogStatus::from_key(&status)?,
        message,
        action: action.as_deref().and_then(LogAction::from_key),
        details: serde_json::from_str(&details).unwrap_or_default(),
        created_at,
        resolved_at,
    })
}

#[derive(Debug, Clone)]
pub struct LogStore {
    db: Db,
}

/// The WHERE clause and its text binds for a query ($1 is the tenant).
fn conditions(query: &LogQuery) -> (String, Vec<String>) {
    let mut clause = String::from("tenant_id = $1");
    let mut binds = Vec::new();
    if let Some(pair) = query.pair {
        binds.push(pair.key().to_owned());
        clause.push_str(&format!(" AND pair = ${}", binds.len() + 1));
    }
    if let Some(status) = query.status {
        binds.push(status.key().to_owned());
        clause.push_str(&format!(" AND status = ${}", binds.len() + 1));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        binds.push(search.to_owned());
        let exact = binds.len() + 1;
        let escaped = search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        binds.push(format!("%{escaped}%"));
        let like = binds.len() + 1;
        clause.push_str(&format!(
            " AND (zoho_id = ${exact} OR qbo_id = ${exact} \
             OR LOWER(COALESCE(record_name, '')) LIKE ${like} ESCAPE '\\' \
             OR LOWER(COALESCE(message, '')) LIKE ${like} ESCAPE '\\')"
        ));
    }
    (clause, binds)
}

impl LogStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// One page, newest first.
    pub async fn list(&self, tenant_id: &str, query: &LogQuery) -> Result<LogPage, sqlx::Error> {
        let per_page = query.per_page.clamp(1, MAX_PER_PAGE);
        let (clause, binds) = conditions(query);
        let count_sql = format!("SELECT COUNT(*) FROM sync_log WHERE {clause}");
        let rows_sql = format!(
            "SELECT {COLUMNS} FROM sync_log WHERE {clause} ORDER BY seq DESC LIMIT {per_page} OFFSET {}",
            u64::from(query.page) * u64::from(per_page)
        );
        let (total, rows): (i64, Vec<Row>) = with_pool!(&self.db, pool => {
            let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql.clone())).bind(tenant_id);
            let mut select = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(rows_sql.clone())).bind(tenant_id);
            for bind in &binds {
                count = count.bind(bind);
                select = select.bind(bind);
            }
            (count.fetch_one(pool).await?.0, select.fetch_all(pool).await?)
        });
        Ok(LogPage {
            rows: rows.into_iter().filter_map(entry).collect(),
            total: u64::try_from(total).unwrap_or(0),
            page: query.page,
            per_page,
        })
    }

    /// Every row of a query, newest first, up to [`MAX_EXPORT_ROWS`] (the CSV export).
    pub async fn export(
        &self,
        tenant_id: &str,
        query: &LogQuery,
    ) -> Result<Vec<LogEntry>, sqlx::Error> {
        let (clause, binds) = conditions(query);
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_log WHERE {clause} ORDER BY seq DESC LIMIT {MAX_EXPORT_ROWS}"
        );
        let rows: Vec<Row> = with_pool!(&self.db, pool => {
            let mut select = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).bind(tenant_id);
            for bind in &binds {
                select = select.bind(bind);
            }
            select.fetch_all(pool).await?
        });
        Ok(rows.into_iter().filter_map(entry).collect())
    }

    pub async fn get(
        &self,
        tenant_id: &TenantId,
        id: &str,
    ) -> Result<Option<LogEntry>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM sync_log WHERE tenant_id = $1 AND id = $2");
        let row: Option<Row> = with_pool!(&self.db, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).bind(tenant_id).bind(id).fetch_optional(pool).await?
        });
        Ok(row.and_then(entry))
    }

    /// Synced and failed rows per hour for the 24 hours before `now` (oldest first, 24 buckets,
    /// empty hours included).
    pub async fn hourly(
        &self,
        tenant_id: &str,
        now_millis: i64,
    ) -> Result<Vec<HourCount>, sqlx::Error> {
        const HOUR: i64 = 3_600_000;
        let last_hour = now_millis - now_millis.rem_euclid(HOUR);
        let first = last_hour - 23 * HOUR;
        let rows: Vec<(i64, String)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT created_at, status FROM sync_log WHERE tenant_id = $1 AND created_at >= $2 \
                 AND status IN ('synced', 'error')",
            )
            .bind(tenant_id)
            .bind(first)
            .fetch_all(pool)
            .await?
        });
        let mut buckets: Vec<HourCount> = (0..24)
            .map(|i| HourCount {
                hour_start: first + i * HOUR,
                synced: 0,
                failed: 0,
            })
            .collect();
        for (at, status) in rows {
            let index = usize::try_from((at - first) / HOUR).unwrap_or(usize::MAX);
            if let Some(bucket) = buckets.get_mut(index) {
                if status == "synced" {
                    bucket.synced += 1;
                } else {
                    bucket.failed += 1;
                }
            }
        }
        Ok(buckets)
    }

    /// How many rows of each status a pair has (for tests and summaries).
    pub async fn count(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        status: LogStatus,
    ) -> Result<u64, sqlx::Error> {
        let (n,): (i64,) = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM sync_log WHERE tenant_id = $1 AND pair = $2 AND status = $3")
                .bind(tenant_id)
                .bind(pair.key())
                .bind(status.key())
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
