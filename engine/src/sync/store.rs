//! Links, cursors and the write journal, and the one transaction per page that stores a page's
//! outcome: its links, its log rows, the journal entries it settled and the advanced cursor.

use crate::ids::{QboId, ZohoId};
use std::collections::HashMap;
use std::sync::Arc;

use domain::pairs::{Flow, ModulePair};
use serde_json::Value;

use super::log::{NewLogRow, next_seq};
use crate::clock::Clock;
use crate::db::{BeginWrite, Db};
use crate::with_pool;

/// A Zoho record and its QBO counterpart.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub pair: ModulePair,
    pub zoho_id: ZohoId,
    pub qbo_id: QboId,
    /// Fingerprint of the Zoho record's mapped values as last synced (either way).
    pub zoho_hash: String,
    /// Fingerprint of the QBO record's mapped values as last synced.
    pub qbo_hash: String,
    pub qbo_sync_token: Option<String>,
    pub zoho_modified: Option<String>,
    pub qbo_modified: Option<String>,
    pub display_name: Option<String>,
    /// What was last written to the target (before/after in the next update's log row).
    pub last_written: Option<Value>,
}

/// Everything one page changes, stored in one transaction.
#[derive(Debug, Default)]
pub struct PageCommit {
    pub links: Vec<Link>,
    /// Links to forget: (pair, zoho_id).
    pub unlink: Vec<(ModulePair, String)>,
    pub logs: Vec<NewLogRow>,
    /// The cursor to store for (pair, flow). `None` leaves the cursor (dependencies, retries).
    pub cursor: Option<(ModulePair, Flow, Cursor)>,
    /// Journal batches whose outcome is now stored.
    pub settled_batches: Vec<String>,
    /// Retries done: (pair, flow, source id).
    pub retries_done: Vec<(ModulePair, Flow, String)>,
    /// A backfill page: its checkpoint moves with its outcomes.
    pub backfill: Option<BackfillCheckpoint>,
}

/// Where a backfill resumes after this page, and how many records the page read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackfillCheckpoint {
    pub pair: ModulePair,
    pub flow: Flow,
    pub at: i64,
    pub done: u64,
}

impl PageCommit {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
            && self.unlink.is_empty()
            && self.logs.is_empty()
            && self.cursor.is_none()
            && self.settled_batches.is_empty()
            && self.retries_done.is_empty()
            && self.backfill.is_none()
    }
}

/// How far a flow has read: the source modified time (millis) of the newest record whose
/// outcome is stored, and the records modified exactly then, each as `id#version` (QBO's
/// SyncToken, or a fingerprint of a Zoho record as read). The version matters: a change made
/// in the same second as the one stored has the same time, and only its version tells it apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub ids: Vec<String>,
}

/// A record's entry in [`Cursor::ids`].
pub fn cursor_key(id: &str, version: &str) -> String {
    format!("{id}#{version}")
}

impl Cursor {
    /// Whether a record read again (reads start a second early) was dealt with already: older
    /// than the cursor, or at its second in the same version. `key` gives the record's
    /// [`cursor_key`]; it is asked for only at the cursor's second. (Entries stored before
    /// versions were kept are bare ids and match by id.)
    pub fn covers(&self, modified_at: Option<i64>, key: impl FnOnce() -> String) -> bool {
        match modified_at {
            Some(at) if at < self.at => true,
            Some(at) if at == self.at => {
                let key = key();
                let id = key.split_once('#').map_or(key.as_str(), |(id, _)| id);
                self.ids
                    .iter()
                    .any(|stored| *stored == key || (!stored.contains('#') && stored == id))
            }
            _ => false,
        }
    }

    /// The cursor after a page: `modified` holds each stored record's (key, modified time).
    pub fn advance(&self, modified: &[(String, i64)]) -> Cursor {
        let Some(newest) = modified.iter().map(|(_, at)| *at).max() else {
            return self.clone();
        };
        if newest < self.at {
            return self.clone();
        }
        let mut ids: Vec<String> = if newest == self.at {
            self.ids.clone()
        } else {
            Vec::new()
        };
        for (id, at) in modified {
            if *at == newest && !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        Cursor { at: newest, ids }
    }
}

/// A retry requested from a log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRetry {
    pub pair: ModulePair,
    pub flow: Flow,
    pub source_id: String,
    /// Re-create a deleted counterpart (forget the link first).
    pub recreate: bool,
}

#[derive(Debug, Clone)]
pub struct SyncStore {
    db: Db,
    clock: Arc<dyn Clock>,
}

type LinkRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const LINK_COLUMNS: &str = "pair, zoho_id, qbo_id, zoho_hash, qbo_hash, qbo_sync_token, zoho_modified, qbo_modified, display_name, last_written";

fn link(row: LinkRow) -> Option<Link> {
    let (
        pair,
        zoho_id,
        qbo_id,
        zoho_hash,
        qbo_hash,
        qbo_sync_token,
        zoho_modified,
        qbo_modified,
        display_name,
        last_written,
    ) = row;
    Some(Link {
        pair: ModulePair::from_key(&pair).ok()?,
        zoho_id: zoho_id.into(),
        qbo_id: qbo_id.into(),
        zoho_hash,
        qbo_hash,
        qbo_sync_token,
        zoho_modified,
        qbo_modified,
        display_name,
        last_written: last_written.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SyncStore {
    /// The placeholders of one row of a multi-row statement, `count` parameters numbered from
    /// `from`: `$n` on PostgreSQL; on SQLite plain `?`, bound in the order they appear, which
    /// SQLite finds without searching the statement's parameter names (numbered ones cost a
    /// scan of all of them for each bind).
    fn row_params(&self, from: usize, count: usize) -> String {
        match self.db {
            Db::Sqlite(_) => vec!["?"; count].join(", "),
            Db::Postgres(_) => placeholders(from, count),
        }
    }

    fn rows_per_statement(&self) -> usize {
        match self.db {
            Db::Sqlite(_) => SQLITE_ROWS_PER_STATEMENT,
            Db::Postgres(_) => POSTGRES_ROWS_PER_STATEMENT,
        }
    }

    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Links of `pair` whose Zoho id (`by_zoho`) or QBO id is among `ids`, keyed by that id.
    pub async fn links(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        by_zoho: bool,
        ids: &[String],
    ) -> Result<HashMap<String, Link>, sqlx::Error> {
        let mut out = HashMap::new();
        let column = if by_zoho { "zoho_id" } else { "qbo_id" };
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {LINK_COLUMNS} FROM sync_links WHERE tenant_id = $1 AND pair = $2 AND {column} IN ({})",
                placeholders(3, chunk.len())
            );
            let rows: Vec<LinkRow> = with_pool!(&self.db, pool => {
                let mut query = sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(tenant_id)
                    .bind(pair.key());
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await?
            });
            for link in rows.into_iter().filter_map(link) {
                let key = if by_zoho {
                    link.zoho_id.to_string()
                } else {
                    link.qbo_id.to_string()
                };
                out.insert(key, link);
            }
        }
        Ok(out)
    }

    /// The counterpart ids of `ids` (Zoho ids when `by_zoho`, else QBO ids) linked in `pair`:
    /// what resolving references needs, without reading whole links.
    pub async fn linked_ids(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        by_zoho: bool,
        ids: &[String],
    ) -> Result<HashMap<String, String>, sqlx::Error> {
        let mut out = HashMap::with_capacity(ids.len());
        let (column, other) = if by_zoho {
            ("zoho_id", "qbo_id")
        } else {
            ("qbo_id", "zoho_id")
        };
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {column}, {other} FROM sync_links WHERE tenant_id = $1 AND pair = $2 AND {column} IN ({})",
                placeholders(3, chunk.len())
            );
            let rows: Vec<(String, String)> = with_pool!(&self.db, pool => {
                let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                    .bind(tenant_id)
                    .bind(pair.key());
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Every link of a tenant (tests and the consistency checks of the property test).
    pub async fn all_links(&self, tenant_id: &str) -> Result<Vec<Link>, sqlx::Error> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM sync_links WHERE tenant_id = $1 ORDER BY pair, zoho_id"
        );
        let rows: Vec<LinkRow> = with_pool!(&self.db, pool => {
            sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(sql.clone())).bind(tenant_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().filter_map(link).collect())
    }

    /// Starts `flows` at `at` (Unix millis): their next live read takes only records created or
    /// changed from then on. Unlike a page's cursor this may move back (the user chose to
    /// copy the last days too) as well as forward (from now on).
    pub async fn start_flows_at(
        &self,
        tenant_id: &str,
        flows: &[(ModulePair, Flow)],
        at: i64,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for (pair, flow) in flows {
                sqlx::query(
                    "INSERT INTO sync_cursors (tenant_id, pair, flow, cursor_at, ids_at_cursor, updated_at) VALUES ($1, $2, $3, $4, '[]', $5) \
                     ON CONFLICT (tenant_id, pair, flow) DO UPDATE SET cursor_at = excluded.cursor_at, \
                     ids_at_cursor = excluded.ids_at_cursor, updated_at = excluded.updated_at",
                )
                .bind(tenant_id)
                .bind(pair.key())
                .bind(flow.key())
                .bind(at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn cursor(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        flow: Flow,
    ) -> Result<Option<Cursor>, sqlx::Error> {
        let row: Option<(i64, String)> = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT cursor_at, ids_at_cursor FROM sync_cursors WHERE tenant_id = $1 AND pair = $2 AND flow = $3")
                .bind(tenant_id)
                .bind(pair.key())
                .bind(flow.key())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(at, ids)| Cursor {
            at,
            ids: serde_json::from_str(&ids).unwrap_or_default(),
        }))
    }

    /// Journals batches before they are sent, in one transaction: (request id, batch).
    pub async fn journal_batches(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        flow: Flow,
        batches: &[(String, String)],
    ) -> Result<(), sqlx::Error> {
        if batches.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in batches.chunks(self.rows_per_statement()) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|n| format!("({})", self.row_params(1 + n * 6, 6)))
                    .collect();
                let sql = format!(
                    "INSERT INTO sync_pending_batches (tenant_id, request_id, pair, flow, batch, started_at) \
                     VALUES {} ON CONFLICT (tenant_id, request_id) DO NOTHING",
                    values.join(", ")
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (request_id, batch) in chunk {
                    query = query
                        .bind(tenant_id)
                        .bind(request_id)
                        .bind(pair.key())
                        .bind(flow.key())
                        .bind(batch)
                        .bind(now);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Batches a crashed run sent without storing their outcome.
    pub async fn pending_batches(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        flow: Flow,
    ) -> Result<Vec<(String, Value)>, sqlx::Error> {
        let rows: Vec<(String, String)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT request_id, batch FROM sync_pending_batches WHERE tenant_id = $1 AND pair = $2 AND flow = $3 \
                 ORDER BY started_at",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(flow.key())
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(id, text)| Some((id, serde_json::from_str(&text).ok()?)))
            .collect())
    }

    /// Retries requested from log rows for this pair and flow.
    pub async fn pending_retries(
        &self,
        tenant_id: &str,
        pair: ModulePair,
        flow: Flow,
    ) -> Result<Vec<PendingRetry>, sqlx::Error> {
        let rows: Vec<(String, String)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT source_id, kind FROM sync_retries WHERE tenant_id = $1 AND pair = $2 AND flow = $3 ORDER BY requested_at",
            )
            .bind(tenant_id)
            .bind(pair.key())
            .bind(flow.key())
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(source_id, kind)| PendingRetry {
                pair,
                flow,
                source_id,
                recreate: kind == "recreate",
            })
            .collect())
    }

    /// Stores a page's outcome atomically. Rows go in as multi-row statements: with SQLite each
    /// statement is a round trip to the connection's thread, and a page has hundreds of rows.
    pub async fn commit(&self, tenant_id: &str, page: PageCommit) -> Result<(), sqlx::Error> {
        if page.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_millis();
        let links = last_link_per_record(page.links);
        let logs = log_rows(page.logs, now);
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for (pair, zoho_id) in &page.unlink {
                sqlx::query("DELETE FROM sync_links WHERE tenant_id = $1 AND pair = $2 AND zoho_id = $3")
                    .bind(tenant_id)
                    .bind(pair.key())
                    .bind(zoho_id)
                    .execute(&mut *tx)
                    .await?;
            }
            for chunk in links.chunks(self.rows_per_statement()) {
                // A QBO id now linked to another Zoho record (re-created counterpart) frees the old
                // link. One lookup per pair, so it runs on the (tenant, pair, qbo_id) index.
                let mut pairs: Vec<ModulePair> = chunk.iter().map(|l| l.pair).collect();
                pairs.sort();
                pairs.dedup();
                for pair in pairs {
                    let qbo_ids: Vec<&str> = chunk
                        .iter()
                        .filter(|l| l.pair == pair)
                        .map(|l| l.qbo_id.as_str())
                        .collect();
                    let sql = format!(
                        "SELECT zoho_id, qbo_id FROM sync_links WHERE tenant_id = $1 AND pair = $2 AND qbo_id IN ({})",
                        placeholders(3, qbo_ids.len())
                    );
                    let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
                        .bind(tenant_id)
                        .bind(pair.key());
                    for qbo_id in &qbo_ids {
                        query = query.bind(*qbo_id);
                    }
                    let existing = query.fetch_all(&mut *tx).await?;
                    for (zoho_id, qbo_id) in existing {
                        let superseded = chunk.iter().any(|l| {
                            l.pair == pair && l.qbo_id == qbo_id && l.zoho_id != zoho_id
                        });
                        if superseded {
                            sqlx::query("DELETE FROM sync_links WHERE tenant_id = $1 AND pair = $2 AND zoho_id = $3")
                                .bind(tenant_id)
                                .bind(pair.key())
                                .bind(&zoho_id)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                }
                let values: Vec<String> = (0..chunk.len())
                    .map(|n| format!("({})", self.row_params(1 + n * 13, 13)))
                    .collect();
                let sql = format!(
                    "INSERT INTO sync_links (tenant_id, pair, zoho_id, qbo_id, zoho_hash, qbo_hash, qbo_sync_token, \
                     zoho_modified, qbo_modified, display_name, last_written, created_at, updated_at) VALUES {} \
                     ON CONFLICT (tenant_id, pair, zoho_id) DO UPDATE SET qbo_id = excluded.qbo_id, \
                     zoho_hash = excluded.zoho_hash, qbo_hash = excluded.qbo_hash, qbo_sync_token = excluded.qbo_sync_token, \
                     zoho_modified = excluded.zoho_modified, qbo_modified = excluded.qbo_modified, \
                     display_name = excluded.display_name, last_written = excluded.last_written, updated_at = excluded.updated_at",
                    values.join(", ")
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for link in chunk {
                    query = query
                        .bind(tenant_id)
                        .bind(link.pair.key())
                        .bind(&link.zoho_id)
                        .bind(&link.qbo_id)
                        .bind(&link.zoho_hash)
                        .bind(&link.qbo_hash)
                        .bind(&link.qbo_sync_token)
                        .bind(&link.zoho_modified)
                        .bind(&link.qbo_modified)
                        .bind(&link.display_name)
                        .bind(link.last_written.as_ref().map(Value::to_string))
                        .bind(now)
                        .bind(now);
                }
                query.execute(&mut *tx).await?;
            }
            // A newer outcome settles the record's older Error rows (no more Retry on them);
            // the page's own rows are settled in memory (`log_rows`).
            for ((pair, flow, column), ids) in settling(&logs) {
                for chunk in ids.chunks(500) {
                    let sql = format!(
                        "UPDATE sync_log SET resolved_at = $1 WHERE tenant_id = $2 AND pair = $3 AND flow = $4 \
                         AND {column} IN ({}) AND status = 'error' AND resolved_at IS NULL",
                        placeholders(5, chunk.len())
                    );
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(now)
                        .bind(tenant_id)
                        .bind(pair.key())
                        .bind(flow.key());
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.execute(&mut *tx).await?;
                }
            }
            for chunk in logs.chunks(self.rows_per_statement()) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|n| format!("({})", self.row_params(1 + n * 14, 14)))
                    .collect();
                let sql = format!(
                    "INSERT INTO sync_log (id, tenant_id, seq, pair, flow, zoho_id, qbo_id, record_name, status, message, \
                     action, details, created_at, resolved_at) VALUES {}",
                    values.join(", ")
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (row, seq, resolved_at) in chunk {
                    query = query
                        .bind(uuid::Uuid::now_v7().to_string())
                        .bind(tenant_id)
                        .bind(*seq)
                        .bind(row.pair.key())
                        .bind(row.flow.key())
                        .bind(&row.zoho_id)
                        .bind(&row.qbo_id)
                        .bind(&row.record_name)
                        .bind(row.status.key())
                        .bind(&row.message)
                        .bind(row.action.map(|a| a.key()))
                        .bind(serde_json::to_string(&row.details).unwrap_or_else(|_| "{}".to_owned()))
                        .bind(now)
                        .bind(*resolved_at);
                }
                query.execute(&mut *tx).await?;
            }
            if let Some((pair, flow, cursor)) = &page.cursor {
                // A cursor never moves back.
                sqlx::query(
                    "INSERT INTO sync_cursors (tenant_id, pair, flow, cursor_at, ids_at_cursor, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, pair, flow) DO UPDATE SET \
                     ids_at_cursor = CASE WHEN excluded.cursor_at >= sync_cursors.cursor_at THEN excluded.ids_at_cursor ELSE sync_cursors.ids_at_cursor END, \
                     cursor_at = CASE WHEN excluded.cursor_at > sync_cursors.cursor_at THEN excluded.cursor_at ELSE sync_cursors.cursor_at END, \
                     updated_at = excluded.updated_at",
                )
                .bind(tenant_id)
                .bind(pair.key())
                .bind(flow.key())
                .bind(cursor.at)
                .bind(serde_json::to_string(&cursor.ids).unwrap_or_else(|_| "[]".to_owned()))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(checkpoint) = &page.backfill {
                sqlx::query(
                    "UPDATE sync_backfills SET status = 'running', checkpoint_at = $4, done = done + $5, \
                     started_at = COALESCE(started_at, $6) WHERE tenant_id = $1 AND pair = $2 AND flow = $3",
                )
                .bind(tenant_id)
                .bind(checkpoint.pair.key())
                .bind(checkpoint.flow.key())
                .bind(checkpoint.at)
                .bind(i64::try_from(checkpoint.done).unwrap_or(i64::MAX))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for request_id in &page.settled_batches {
                sqlx::query("DELETE FROM sync_pending_batches WHERE tenant_id = $1 AND request_id = $2")
                    .bind(tenant_id)
                    .bind(request_id)
                    .execute(&mut *tx)
                    .await?;
            }
            for (pair, flow, source_id) in &page.retries_done {
                sqlx::query("DELETE FROM sync_retries WHERE tenant_id = $1 AND pair = $2 AND flow = $3 AND source_id = $4")
                    .bind(tenant_id)
                    .bind(pair.key())
                    .bind(flow.key())
                    .bind(source_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

/// Rows per multi-row statement on SQLite. (Its rows take plain `?` parameters: numbered ones
/// are looked up by a scan of the statement's parameter names, and a 600-parameter statement
/// cost ~180,000 comparisons to bind.)
const SQLITE_ROWS_PER_STATEMENT: usize = 60;
/// On PostgreSQL each statement is a round trip, so a page's rows go in one or two (at 14
/// parameters a row, far under its 65,535-parameter limit).
const POSTGRES_ROWS_PER_STATEMENT: usize = 200;

/// One link per Zoho record and per QBO id, the later winning, as if stored one by one.
fn last_link_per_record(links: Vec<Link>) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::with_capacity(links.len());
    for link in links {
        out.retain(|l| {
            !(l.pair == link.pair && (l.zoho_id == link.zoho_id || l.qbo_id == link.qbo_id))
        });
        out.push(link);
    }
    out
}

/// The record a log row settles older Error rows of, in the same flow: (pair, flow, id
/// column, id). (A deletion noticed one way does not settle a failed write the other way.)
fn settles(row: &NewLogRow) -> Option<(ModulePair, Flow, &'static str, &str)> {
    if row.status == domain::log::LogStatus::Error {
        return None;
    }
    match (&row.zoho_id, &row.qbo_id, row.flow) {
        (Some(z), _, Flow::ZohoToQbo) => Some((row.pair, row.flow, "zoho_id", z.as_str())),
        (_, Some(q), Flow::QboToZoho) => Some((row.pair, row.flow, "qbo_id", q.as_str())),
        _ => None,
    }
}

/// The ids whose stored Error rows this page settles, by pair and column.
fn settling(
    logs: &[(NewLogRow, i64, Option<i64>)],
) -> HashMap<(ModulePair, Flow, &'static str), Vec<&str>> {
    let mut out: HashMap<(ModulePair, Flow, &'static str), Vec<&str>> = HashMap::new();
    for (row, _, _) in logs {
        if let Some((pair, flow, column, id)) = settles(row) {
            out.entry((pair, flow, column)).or_default().push(id);
        }
    }
    out
}

/// The page's rows with their sequence numbers, and `resolved_at` set on an Error row that a
/// later row of the same page settles.
fn log_rows(rows: Vec<NewLogRow>, now: i64) -> Vec<(NewLogRow, i64, Option<i64>)> {
    let mut out: Vec<(NewLogRow, i64, Option<i64>)> = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some((pair, flow, column, id)) = settles(&row) {
            for (earlier, _, resolved_at) in &mut out {
                let same = earlier.status == domain::log::LogStatus::Error
                    && earlier.pair == pair
                    && earlier.flow == flow
                    && match column {
                        "zoho_id" => earlier.zoho_id.as_deref() == Some(id),
                        _ => earlier.qbo_id.as_deref() == Some(id),
                    };
                if same && resolved_at.is_none() {
                    *resolved_at = Some(now);
                }
            }
        }
        let seq = next_seq(now);
        out.push((row, seq, None));
    }
    out
}
