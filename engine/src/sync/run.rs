//! One tenant's run (ARCHITECTURE "A record's journey"): for each pair the plan allows,
//! essentials first, each flow in its turn — read what changed since the cursor, filter, map,
//! resolve references (syncing missing dependencies first), write in bulk, and store the page's
//! links, log rows and cursor in one transaction. Both flows share the shape; echo suppression
//! (fingerprints and modified times per link) keeps bi-directional pairs from ping-ponging.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use domain::fields::FieldCatalogue;
use domain::filters::PairFilters;
use domain::log::{ConflictRecord, LogDetails, LogStatus};
use domain::mapping::{MappedRecord, Mapping, qbo_to_zoho, zoho_fields_to_read, zoho_to_qbo};
use domain::pairs::{Direction, Flow, ModulePair, QboEntity, SyncDirections, System};
use domain::record::{DateValue, fingerprint, idempotency_key};
use domain::settings::SyncSettings;
use serde_json::{Value, json};

use super::backfill::{BackfillStatus, BackfillStore};
use super::config::SyncConfigStore;
use super::log::{LogAction, NewLogRow};
use super::schedule::RunOutcome;
use super::store::{BackfillCheckpoint, Cursor, Link, PageCommit, SyncStore, cursor_key};
use crate::clock::Clock;
use crate::connections::{ConnectionError, ConnectionStore, Provider};
use crate::connectors::qbo::{BatchItem, BatchOperation, BatchOutcome};
use crate::connectors::zoho::{PageCursor, RecordPage};
use crate::connectors::{ConnectorError, QboClient, ZohoClient};
use crate::db::Db;

/// How far back a flow looks the first time it runs. Older records come with Sync Historical
/// Data (annual plans).
pub const INITIAL_LOOKBACK: Duration = Duration::days(1);
/// Cursors are re-read from one second earlier: both APIs stamp whole seconds, and a record
/// changed in the same second as the cursor must not be missed. Re-read records whose values
/// did not change are skipped by their fingerprint.
const CURSOR_OVERLAP_MS: i64 = 1_000;
const QBO_BATCH: usize = 30;
/// Zoho records per page read for QBO: whole batches (6 × 30), so a page never sends a
/// half-empty batch, which under QBO's 40 batches a minute would waste budget.
const ZOHO_PAGE_FOR_QBO: usize = 6 * QBO_BATCH;
/// The most records a Zoho list call returns.
const ZOHO_MAX_PAGE: usize = crate::connectors::zoho::PAGE_SIZE;
const ZOHO_WRITE: usize = 100;
/// Pages a backfill takes per run before letting live runs of other tenants go first.
const BACKFILL_PAGES_PER_RUN: usize = 10;
/// How deep dependency syncing may recurse (an invoice → its customer → …).
const MAX_DEPENDENCY_DEPTH: usize = 3;

/// Where a test can stop a run to simulate a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// The remote write succeeded; the local commit has not happened.
    AfterRemoteWrite { flow: Flow },
    /// A page of a Zoho walk of `pair` arrived (1 is the first), before the next is asked for.
    ZohoPageRead { pair: ModulePair, page: usize },
}

/// A test hook: returns `true` to abort the run at that point (as a crash would).
pub type FaultHook = Arc<dyn Fn(FaultPoint) -> bool + Send + Sync>;

/// What a run did, for the scheduler and the bench.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    pub read: u64,
    pub synced: u64,
    pub errors: u64,
    pub not_valid: u64,
    pub not_synced: u64,
    pub skipped_unchanged: u64,
    pub stages: StageTimes,
}

/// Where a run's wall time went, by stage (`zqsync bench` prints it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// Reading source pages (Zoho lists, QBO changes).
    pub read: std::time::Duration,
    /// Filtering, mapping and resolving references, local link lookups included.
    pub decide: std::time::Duration,
    /// Remote writes (QBO batches, Zoho writes), waits for rate-limit slots included.
    pub write: std::time::Duration,
    /// Local storage: journaling batches and committing pages.
    pub store: std::time::Duration,
}

impl StageTimes {
    pub fn add(&mut self, other: &StageTimes) {
        self.read += other.read;
        self.decide += other.decide;
        self.write += other.write;
        self.store += other.store;
    }
}

#[derive(Debug, Clone)]
pub struct RunSummary {
    pub outcome: RunOutcome,
    pub message: Option<String>,
    /// A backfill (or a throttled remainder) is left: come back soon.
    pub more_work: bool,
    pub stats: RunStats,
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    /// The remote API stopped the flow (rate limit, outage): the cursor keeps what is left.
    #[error("{0}")]
    Remote(ConnectorError),
    #[error("{0}")]
    Connection(#[from] ConnectionError),
    #[error("the run was stopped at a fault point")]
    Aborted,
}

/// The engine: one per process, shared by the workers.
#[derive(Clone)]
pub struct Engine {
    db: Db,
    clock: Arc<dyn Clock>,
    connections: Arc<ConnectionStore>,
    config: SyncConfigStore,
    store: SyncStore,
    backfills: BackfillStore,
    fault: Option<FaultHook>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(db: Db, clock: Arc<dyn Clock>, connections: Arc<ConnectionStore>) -> Self {
        Self {
            config: SyncConfigStore::new(db.clone(), clock.clone()),
            store: SyncStore::new(db.clone(), clock.clone()),
            backfills: BackfillStore::new(db.clone(), clock.clone()),
            db,
            clock,
            connections,
            fault: None,
        }
    }

    /// Installs a fault hook (tests: crash between the remote write and the local commit).
    pub fn with_fault_hook(mut self, hook: FaultHook) -> Self {
        self.fault = Some(hook);
        self
    }

    pub fn store(&self) -> &SyncStore {
        &self.store
    }

    /// Runs one tenant: live changes of every runnable pair, requested retries, then a slice of
    /// any backfill. Never panics on remote trouble: the outcome says what happened.
    pub async fn run_tenant(&self, tenant_id: &str) -> RunSummary {
        let mut stats = RunStats::default();
        let result = self.run_inner(tenant_id, &mut stats).await;
        match result {
            Ok(more_work) => RunSummary {
                outcome: RunOutcome::Ok,
                message: None,
                more_work,
                stats,
            },
            Err(RunError::Remote(error)) => {
                if let ConnectorError::NeedsReconnect { .. } = &error {
                    let provider = match error.remote().api {
                        crate::connectors::error::Api::Zoho
                        | crate::connectors::error::Api::ZohoOAuth => Provider::Zoho,
                        _ => Provider::Qbo,
                    };
                    if let Err(e) = self
                        .connections
                        .mark_needs_reconnect(tenant_id, provider, &error.plain_message())
                        .await
                    {
                        tracing::warn!(tenant_id, error = %e, "could not mark the connection for reconnect");
                    }
                    return RunSummary {
                        outcome: RunOutcome::Failed,
                        message: Some(error.plain_message()),
                        more_work: false,
                        stats,
                    };
                }
                RunSummary {
                    outcome: RunOutcome::Partial,
                    message: Some(error.plain_message()),
                    more_work: error.is_retryable(),
                    stats,
                }
            }
            Err(RunError::Connection(error)) => RunSummary {
                outcome: RunOutcome::Failed,
                message: Some(error.to_string()),
                more_work: false,
                stats,
            },
            Err(RunError::Aborted) => RunSummary {
                outcome: RunOutcome::Failed,
                message: Some(
                    "The run stopped before storing its last page; the next run resumes it."
                        .to_owned(),
                ),
                more_work: true,
                stats,
            },
            Err(error) => {
                tracing::error!(tenant_id, %error, "sync run failed");
                RunSummary {
                    outcome: RunOutcome::Failed,
                    message: Some("The run could not finish because of a problem on our side; it will be tried again.".to_owned()),
                    more_work: false,
                    stats,
                }
            }
        }
    }

    async fn run_inner(&self, tenant_id: &str, stats: &mut RunStats) -> Result<bool, RunError> {
        let directions = self.config.directions(tenant_id).await?;
        let settings = self.config.settings(tenant_id).await?;
        let entitlements = crate::billing::entitlements(&self.db, tenant_id).await?;
        let runnable = entitlements.runnable_pairs(&directions);
        let qbo = self.connections.qbo_client(tenant_id).await?;
        let zoho = self.connections.zoho_client(tenant_id).await?;
        let mut pairs = BTreeMap::new();
        for pair in &runnable {
            let (mapping, _) = self.config.mapping(tenant_id, *pair).await?;
            let (catalogue, _) = self.config.catalogue(tenant_id, *pair).await?;
            let filters = self.config.filters(tenant_id, *pair).await?;
            pairs.insert(
                *pair,
                PairSetup {
                    zoho_module: pair.zoho_module().api_name(),
                    direction: directions.get(*pair),
                    entity: catalogue.qbo_entity,
                    stamps_qbo_id: catalogue
                        .zoho
                        .iter()
                        .any(|f| f.api_name == ZOHO_QBO_ID_FIELD),
                    mapping,
                    catalogue,
                    filters,
                },
            );
        }
        let now = self.clock.now();
        let mut run = TenantRun {
            engine: self,
            tenant_id: tenant_id.to_owned(),
            qbo,
            zoho,
            directions,
            settings,
            runnable,
            pairs,
            now,
            today: now.format("%Y-%m-%d").to_string(),
            stats: RunStats::default(),
            terms: HashMap::new(),
            synced_this_run: HashMap::new(),
            pending_commit: None,
        };
        let result = run.run().await;
        let settled = run.settle_pending().await;
        *stats = run.stats.clone();
        let more = result?;
        settled?;
        Ok(more)
    }
}

/// The Zoho field that holds the QBO id (a unique custom field): Zoho creates upsert on it, so
/// a create retried after a crash updates instead of duplicating.
pub const ZOHO_QBO_ID_FIELD: &str = "QBO_Id";
const PRODUCT_CODE: &str = "Product_Code";
const PRODUCT_NAME: &str = "Product_Name";

/// What to do when a record's unique key (product code, name) is another linked record's.
const UNIQUE_KEY_ADVICE: &str = "The two are different records with the same key: change the key of one of them (a SKU or product code must be unique), then Retry.";

/// Names that are the same to a person: case and surrounding spaces aside.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The Error row of a create refused because its unique key is another record's: nothing
/// was written, and the message names both records.
fn refused_row(pair: ModulePair, flow: Flow, write: &Prepared, message: String) -> NewLogRow {
    let mut row = log_row(pair, flow, LogStatus::Error);
    match flow {
        Flow::ZohoToQbo => row.zoho_id = Some(write.source_id.clone()),
        Flow::QboToZoho => {
            row.qbo_id = Some(write.source_id.clone());
            row.details.qbo_id = Some(write.source_id.clone());
        }
    }
    row.record_name = write.name.clone();
    row.message = Some(message);
    row.action = Some(LogAction::Retry);
    row.details.read = write.read.clone();
    row
}

/// What a create whose name QBO already has comes to.
enum SameName {
    /// No active record of that name (the duplicate error stands).
    None,
    /// An unlinked record of that name: linked and updated; QBO's answer.
    Adopted(Result<Value, ConnectorError>),
    /// A record of that name linked to another Zoho record: refused, with this message.
    Taken(String),
}

impl PairSetup {
    fn catalogue_module(&self) -> &'static str {
        self.zoho_module
    }

    /// The fields a Zoho create upserts on: the QBO id when the org has that field, and for
    /// products the product code (QBO's SKU), which both systems treat as the item's identity.
    fn duplicate_check_fields(&self, pair: ModulePair) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.stamps_qbo_id {
            fields.push(ZOHO_QBO_ID_FIELD);
        }
        let has = |name: &str| self.catalogue.zoho.iter().any(|f| f.api_name == name);
        if pair == ModulePair::ProductsItems
            && (has(PRODUCT_CODE) || self.catalogue.zoho.is_empty())
        {
            fields.push(PRODUCT_CODE);
        }
        fields
    }
}

struct PairSetup {
    zoho_module: &'static str,
    direction: Direction,
    entity: QboEntity,
    mapping: Mapping,
    catalogue: FieldCatalogue,
    filters: PairFilters,
    stamps_qbo_id: bool,
}

/// A record ready to write.
struct Prepared {
    source_id: String,
    name: Option<String>,
    source_modified: Option<String>,
    source_hash: String,
    read: Value,
    payload: Value,
    notes: Vec<String>,
    link: Option<Link>,
    conflict: Option<ConflictRecord>,
    /// The fresh target record (conflicts): its SyncToken beats the stored one.
    fresh_sync_token: Option<String>,
    /// Mapped fields left out of the write on purpose (an adopted item keeps its stock and
    /// accounts): neither the log nor the link may claim they were written.
    left_out: Vec<String>,
}

/// A Zoho record that passed the filters and mapped, its references not yet resolved.
struct Candidate {
    zoho_id: String,
    name: Option<String>,
    modified: Option<String>,
    link: Option<Link>,
    row: NewLogRow,
    record: Value,
    mapped: MappedRecord,
    hash: String,
    conflict: Option<ConflictRecord>,
    fresh_sync_token: Option<String>,
}

/// The records of one page, decided but not yet written.
struct Decided {
    commit: PageCommit,
    writes: Vec<Prepared>,
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

struct TenantRun<'e> {
    engine: &'e Engine,
    tenant_id: String,
    qbo: QboClient,
    zoho: ZohoClient,
    directions: SyncDirections,
    settings: SyncSettings,
    runnable: Vec<ModulePair>,
    pairs: BTreeMap<ModulePair, PairSetup>,
    now: DateTime<Utc>,
    today: String,
    stats: RunStats,
    /// QBO Term ids by name, looked up once per run.
    terms: HashMap<String, Option<String>>,
    /// (pair, flow, source id) written in this run, with the source's modified time (millis)
    /// then: a dependency synced first is not synced again when its own page comes, unless it
    /// changed since.
    synced_this_run: HashMap<(ModulePair, Flow, String), Option<i64>>,
    /// A page's commit still being written while the next page is read and decided (see
    /// `commit_in_background`); settled before any other write.
    pending_commit: Option<tokio::task::JoinHandle<Result<(), sqlx::Error>>>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A source timestamp in milliseconds (cursors and checkpoints are millis; `DateValue`
/// counts seconds).
fn millis_of(time: Option<&str>) -> Option<i64> {
    DateValue::parse(time?).map(|d| d.instant_or_midnight().saturating_mul(1000))
}

fn zoho_name(record: &Value) -> Option<String> {
    for key in [
        "Account_Name",
        "Product_Name",
        "Vendor_Name",
        "Subject",
        "Full_Name",
        "Last_Name",
    ] {
        if let Some(name) = text(record.get(key)) {
            return Some(name);
        }
    }
    None
}

fn qbo_name(record: &Value) -> Option<String> {
    for key in ["DisplayName", "Name", "DocNumber"] {
        if let Some(name) = text(record.get(key)) {
            return Some(name);
        }
    }
    text(record.get("Id")).map(|id| format!("#{id}"))
}

/// A Zoho record's cursor entry: its id and a fingerprint of it as read (Zoho keeps no version).
fn zoho_cursor_key(record: &Value) -> Option<String> {
    Some(cursor_key(&text(record.get("id"))?, &fingerprint(record)))
}

/// A QBO record's cursor entry: its id and SyncToken.
fn qbo_cursor_key(record: &Value) -> Option<String> {
    Some(cursor_key(
        &text(record.get("Id"))?,
        &text(record.get("SyncToken")).unwrap_or_default(),
    ))
}

fn qbo_modified(record: &Value) -> Option<String> {
    text(record.pointer("/MetaData/LastUpdatedTime"))
}

fn log_row(pair: ModulePair, flow: Flow, status: LogStatus) -> NewLogRow {
    NewLogRow {
        pair,
        flow,
        zoho_id: None,
        qbo_id: None,
        record_name: None,
        status,
        message: None,
        action: None,
        details: LogDetails::default(),
    }
}

impl TenantRun<'_> {
    fn store(&self) -> &SyncStore {
        &self.engine.store
    }

    fn fault(&self, point: FaultPoint) -> Result<(), RunError> {
        match &self.engine.fault {
            Some(hook) if hook(point) => Err(RunError::Aborted),
            _ => Ok(()),
        }
    }

    /// Whether this version of a record was written in this run already: the same modified
    /// time or an older one (a page read before its dependency sync fetched it anew).
    fn synced_already(
        &self,
        pair: ModulePair,
        flow: Flow,
        id: &str,
        modified: Option<&str>,
    ) -> bool {
        match self.synced_this_run.get(&(pair, flow, id.to_owned())) {
            None => false,
            Some(synced) => match (millis_of(modified), synced) {
                (Some(at), Some(synced)) => at <= *synced,
                _ => true,
            },
        }
    }

    /// Whether a record read is a newer version of one written in this run: the link that
    /// write made must be stored before it is decided.
    fn changed_since_synced(&self, pair: ModulePair, flow: Flow, record: &Value) -> bool {
        let (id, modified) = match flow {
            Flow::ZohoToQbo => (text(record.get("id")), text(record.get("Modified_Time"))),
            Flow::QboToZoho => (text(record.get("Id")), qbo_modified(record)),
        };
        id.is_some_and(|id| {
            self.synced_this_run.contains_key(&(pair, flow, id.clone()))
                && !self.synced_already(pair, flow, &id, modified.as_deref())
        })
    }

    fn count_outcomes(&mut self, commit: &PageCommit) {
        for row in &commit.logs {
            match row.status {
                LogStatus::Synced => self.stats.synced += 1,
                LogStatus::Error => self.stats.errors += 1,
                LogStatus::NotValid => self.stats.not_valid += 1,
                LogStatus::NotSynced => self.stats.not_synced += 1,
            }
        }
    }

    async fn commit(&mut self, commit: PageCommit) -> Result<(), RunError> {
        self.settle_pending().await?;
        self.count_outcomes(&commit);
        let started = Instant::now();
        self.store().commit(&self.tenant_id, commit).await?;
        self.stats.stages.store += started.elapsed();
        Ok(())
    }

    /// Starts storing a walked page (its links, log rows and cursor or checkpoint, still one
    /// transaction) and returns at once, so the database writes it while the next page is read
    /// from Zoho and decided. That is safe because deciding the next page needs none of it:
    /// a record of this page that comes again unchanged is in `synced_this_run` and skipped; a
    /// newer version of it makes `decide_zoho` settle this commit first, for its link; and every
    /// other write (a dependency's page, a journal, the next commit) settles it first. A crash
    /// meanwhile loses nothing the serial order would not: the page's creates are journaled.
    async fn commit_in_background(&mut self, commit: PageCommit) -> Result<(), RunError> {
        self.settle_pending().await?;
        self.count_outcomes(&commit);
        let store = self.store().clone();
        let tenant_id = self.tenant_id.clone();
        self.pending_commit = Some(tokio::spawn(async move {
            store.commit(&tenant_id, commit).await
        }));
        Ok(())
    }

    /// Waits for the page commit started by `commit_in_background`, if any.
    async fn settle_pending(&mut self) -> Result<(), RunError> {
        let Some(pending) = self.pending_commit.take() else {
            return Ok(());
        };
        let started = Instant::now();
        let result = match pending.await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // Only a runtime shutting down cancels it; the transaction did not commit.
            Err(_) => return Err(RunError::Aborted),
        };
        self.stats.stages.store += started.elapsed();
        result.map_err(Into::into)
    }

    /// Returns whether work is left for a later run (a backfill not finished).
    async fn run(&mut self) -> Result<bool, RunError> {
        let pairs: Vec<ModulePair> = self.runnable.clone();
        for pair in &pairs {
            let direction = self.pairs[pair].direction;
            if direction.includes(Flow::ZohoToQbo) {
                self.recover_batches(*pair).await?;
                self.zoho_to_qbo_live(*pair).await?;
            }
            if direction.includes(Flow::QboToZoho)
                && self.directions.pair_for_qbo_entity(self.pairs[pair].entity) == Some(*pair)
            {
                self.qbo_to_zoho_live(*pair).await?;
            }
            for flow in direction.flows() {
                self.retries(*pair, flow).await?;
            }
        }
        self.backfill_slice().await
    }

    // ----------------------------------------------------------------------------------
    // Zoho → QBO

    async fn zoho_to_qbo_live(&mut self, pair: ModulePair) -> Result<(), RunError> {
        let cursor = self.live_cursor(pair, Flow::ZohoToQbo).await?;
        self.walk_zoho(pair, cursor, None, true).await.map(|_| ())
    }

    /// Where a live flow resumes: the stored cursor, or a day back the first time.
    async fn live_cursor(&self, pair: ModulePair, flow: Flow) -> Result<Cursor, RunError> {
        Ok(self
            .store()
            .cursor(&self.tenant_id, pair, flow)
            .await?
            .unwrap_or_else(|| Cursor {
                at: (self.now - INITIAL_LOOKBACK).timestamp_millis(),
                ids: Vec::new(),
            }))
    }

    /// Walks Zoho records of `pair` modified since `start` (records it covers are skipped).
    /// `page_budget` limits pages (backfills); `live` stores the cursor. Returns (records seen,
    /// newest modified, finished).
    async fn walk_zoho(
        &mut self,
        pair: ModulePair,
        start: Cursor,
        page_budget: Option<usize>,
        live: bool,
    ) -> Result<(u64, Option<i64>, bool), RunError> {
        let walked = self.walk_zoho_pages(pair, start, page_budget, live).await;
        let settled = self.settle_pending().await;
        let walked = walked?;
        settled?;
        Ok(walked)
    }

    async fn walk_zoho_pages(
        &mut self,
        pair: ModulePair,
        start: Cursor,
        page_budget: Option<usize>,
        live: bool,
    ) -> Result<(u64, Option<i64>, bool), RunError> {
        let setup = &self.pairs[&pair];
        let module = pair.zoho_module().api_name();
        let mut fields =
            zoho_fields_to_read(&setup.mapping, pair, setup.filters.get(Flow::ZohoToQbo));
        fields.truncate(domain::mapping::ZOHO_MAX_FIELDS_PER_READ);
        let mut mark = start.clone();
        let conflicts = if setup.direction == Direction::Bidirectional {
            self.qbo_changes_for_conflicts(pair).await?
        } else {
            HashMap::new()
        };
        let zoho = self.zoho.clone();
        let now = self.now;
        let read_page = |since_ms: i64, cursor: PageCursor, per_page: usize| {
            let zoho = zoho.clone();
            let fields = fields.clone();
            let since = DateTime::<Utc>::from_timestamp_millis(since_ms).unwrap_or(now);
            PageRead(tokio::spawn(async move {
                let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
                zoho.list_page_of(module, &field_refs, Some(since), &cursor, per_page)
                    .await
            }))
        };
        // Pages are read by modified time, not by offset: each query starts a second before the
        // newest record of the page before (Zoho stamps whole seconds) and what this walk
        // dealt with is skipped. Offsets would shift under a record changed or deleted behind
        // the walk, and the record that slid back over the page boundary would never be read.
        // Only where more than a page of records share that second does the walk go on by
        // page within the same query.
        let mut query_since = start.at - CURSOR_OVERLAP_MS;
        let mut query_per_page = ZOHO_PAGE_FOR_QBO;
        let mut reading = read_page(query_since, PageCursor::Page(1), query_per_page);
        let mut seen = 0u64;
        let mut newest = None;
        let mut pages = 0usize;
        // The previous page's writes, in flight while this page is decided.
        let mut sending: Option<(QboSending, PageEnd)> = None;
        loop {
            let started = Instant::now();
            let page = match reading.wait().await {
                Ok(page) => page,
                Err(error) => return self.stop_walk(sending, error).await,
            };
            self.stats.stages.read += started.elapsed();
            pages += 1;
            if let Err(error) = self.fault(FaultPoint::ZohoPageRead { pair, page: pages }) {
                return self.stop_walk(sending, error).await;
            }
            let more_allowed = page_budget.is_none_or(|b| pages < b);
            let page_newest = page
                .records
                .iter()
                .filter_map(|r| millis_of(r.get("Modified_Time").and_then(Value::as_str)))
                .max();
            // The next page is read while this one is decided, written and stored.
            if let Some(next) = page.next.clone().filter(|_| more_allowed) {
                reading = match page_newest.map(|at| at - CURSOR_OVERLAP_MS) {
                    Some(since) if since > query_since => {
                        // The records of that last second come again and are skipped: ask for
                        // as many more, so a page still fills whole batches.
                        let again = page
                            .records
                            .iter()
                            .filter(|r| {
                                millis_of(r.get("Modified_Time").and_then(Value::as_str))
                                    .is_some_and(|at| at > since)
                            })
                            .count();
                        query_since = since;
                        query_per_page = (ZOHO_PAGE_FOR_QBO + again).min(ZOHO_MAX_PAGE);
                        read_page(query_since, PageCursor::Page(1), query_per_page)
                    }
                    // Page numbers count in the query's own page size.
                    _ => read_page(query_since, next, query_per_page),
                };
            }
            newest = newest.max(page_newest);
            // Only the records of the page's last second can be stored in the cursor, so only
            // they get their version computed.
            let last_second = page
                .records
                .iter()
                .filter_map(|r| millis_of(r.get("Modified_Time").and_then(Value::as_str)))
                .max();
            let modified: Vec<(String, i64)> = page
                .records
                .iter()
                .filter_map(|r| {
                    let at = millis_of(r.get("Modified_Time").and_then(Value::as_str))?;
                    let key = if Some(at) == last_second {
                        zoho_cursor_key(r)?
                    } else {
                        text(r.get("id"))?
                    };
                    Some((key, at))
                })
                .collect();
            // A record of the page being written that comes again (changed meanwhile, or
            // re-read at the cursor's overlap) waits for that page's outcome: deciding it now
            // would not see the link about to be made, and would create it twice.
            let in_flight: HashSet<&str> = sending
                .iter()
                .flat_map(|(previous, _)| previous.source_ids())
                .collect();
            let (records, waiting): (Vec<Value>, Vec<Value>) = page
                .records
                .into_iter()
                .filter(|r| {
                    let at = millis_of(r.get("Modified_Time").and_then(Value::as_str));
                    !mark.covers(at, || zoho_cursor_key(r).unwrap_or_default())
                })
                .partition(|r| {
                    r.get("id")
                        .and_then(Value::as_str)
                        .is_none_or(|id| !in_flight.contains(id))
                });
            drop(in_flight);
            // (Records read again at a query's overlap are not counted twice.)
            seen += (records.len() + waiting.len()) as u64;
            mark = mark.advance(&modified);
            let started = Instant::now();
            let decided = self.decide_zoho(pair, records, &conflicts, false, 0).await;
            self.stats.stages.decide += started.elapsed();
            let mut decided = match decided {
                Ok(decided) => decided,
                Err(error) => return self.stop_walk(sending, error).await,
            };
            let mut previous = match sending.take() {
                Some((previous, end)) => Some((self.finish_qbo(previous).await?, end)),
                None => None,
            };
            if !waiting.is_empty() {
                // A newer version of a record just written is decided against the link that
                // write made: the page's commit goes first.
                if waiting
                    .iter()
                    .any(|r| self.changed_since_synced(pair, Flow::ZohoToQbo, r))
                    && let Some((commit, end)) = previous.take()
                {
                    self.commit_page(pair, commit, end).await?;
                }
                let started = Instant::now();
                let more = self
                    .decide_zoho(pair, waiting, &conflicts, false, 0)
                    .await?;
                self.stats.stages.decide += started.elapsed();
                decided.commit.logs.extend(more.commit.logs);
                decided.writes.extend(more.writes);
            }
            let end = if live {
                PageEnd::Cursor(mark.clone())
            } else if let Some(at) = page_newest {
                let end = PageEnd::Checkpoint { at, done: seen };
                seen = 0;
                end
            } else {
                PageEnd::Nothing
            };
            // This page's creates are journaled before the previous page's commit starts, so
            // that commit has the whole next page's decide to run in.
            let this = self.send_qbo(pair, decided).await;
            if let Some((commit, end)) = previous {
                self.commit_page(pair, commit, end).await?;
            }
            sending = Some((this?, end));
            let finished = match page.next {
                Some(_) if more_allowed => continue,
                Some(_) => (seen, newest, false),
                None => (seen, newest, true),
            };
            if let Some((last, end)) = sending.take() {
                let commit = self.finish_qbo(last).await?;
                self.commit_page(pair, commit, end).await?;
            }
            return Ok(finished);
        }
    }

    /// Stores a walked page with where the walk got to: the live cursor or the backfill's
    /// checkpoint move in the page's own transaction.
    async fn commit_page(
        &mut self,
        pair: ModulePair,
        mut commit: PageCommit,
        end: PageEnd,
    ) -> Result<(), RunError> {
        match end {
            PageEnd::Cursor(mark) => commit.cursor = Some((pair, Flow::ZohoToQbo, mark)),
            PageEnd::Checkpoint { at, done } => {
                commit.backfill = Some(BackfillCheckpoint {
                    pair,
                    flow: Flow::ZohoToQbo,
                    at,
                    done,
                });
            }
            PageEnd::Nothing => {}
        }
        self.commit_in_background(commit).await
    }

    /// A walk that fails stores the page already sent before it returns the error: its writes
    /// happened, and their links and log rows are worth keeping.
    async fn stop_walk<T>(
        &mut self,
        sending: Option<(QboSending, PageEnd)>,
        error: RunError,
    ) -> Result<T, RunError> {
        if let Some((previous, end)) = sending {
            let pair = previous.pair;
            let commit = self.finish_qbo(previous).await?;
            self.commit_page(pair, commit, end).await?;
        }
        Err(error)
    }

    /// QBO records of a bi-directional pair changed since the QBO cursor, by id: a Zoho change
    /// to one of them is a conflict.
    async fn qbo_changes_for_conflicts(
        &mut self,
        pair: ModulePair,
    ) -> Result<HashMap<String, Value>, RunError> {
        let cursor = self.live_cursor(pair, Flow::QboToZoho).await?;
        let since = DateTime::<Utc>::from_timestamp_millis(cursor.at - CURSOR_OVERLAP_MS)
            .unwrap_or(self.now);
        let entity = self.pairs[&pair].entity.name();
        let changes = self
            .qbo
            .changes_since(&[entity], since, self.now)
            .await
            .map_err(RunError::Remote)?;
        Ok(changes
            .by_entity
            .get(entity)
            .into_iter()
            .flatten()
            .filter_map(|r| Some((text(r.get("Id"))?, r.clone())))
            .collect())
    }

    /// Filters, maps and resolves a page of Zoho records; rows that stop here get their log
    /// row in the returned commit, the rest are returned as writes.
    fn decide_zoho<'a>(
        &'a mut self,
        pair: ModulePair,
        records: Vec<Value>,
        qbo_changed: &'a HashMap<String, Value>,
        force: bool,
        depth: usize,
    ) -> BoxFut<'a, Result<Decided, RunError>> {
        Box::pin(async move {
            let flow = Flow::ZohoToQbo;
            // A newer version of a record written earlier in this run needs that write's link,
            // which may still be in the page commit being stored.
            if force
                || records
                    .iter()
                    .any(|r| self.changed_since_synced(pair, flow, r))
            {
                self.settle_pending().await?;
            }
            let ids: Vec<String> = records.iter().filter_map(|r| text(r.get("id"))).collect();
            let links = self
                .store()
                .links(&self.tenant_id, pair, true, &ids)
                .await?;
            let mut decided = Decided {
                commit: PageCommit::default(),
                writes: Vec::new(),
            };
            let mut candidates = Vec::with_capacity(records.len());
            for record in records {
                self.stats.read += 1;
                let Some(zoho_id) = text(record.get("id")) else {
                    continue;
                };
                let modified = text(record.get("Modified_Time"));
                if !force && self.synced_already(pair, flow, &zoho_id, modified.as_deref()) {
                    continue;
                }
                let name = zoho_name(&record);
                let link = links.get(&zoho_id).cloned();
                let mut row = log_row(pair, flow, LogStatus::Error);
                row.zoho_id = Some(zoho_id.clone());
                row.record_name = name.clone();
                row.qbo_id = link.as_ref().map(|l| l.qbo_id.clone());
                // (`details.read` is filled only when the row is kept: most records go on to
                // a write, whose own row is made from the answer.)
                let setup = &self.pairs[&pair];
                let outcome = setup
                    .filters
                    .get(flow)
                    .evaluate_labelled(&record, |field| setup.catalogue.zoho_label(field));
                if !outcome.passed {
                    row.status = LogStatus::NotValid;
                    row.message = Some(
                        outcome
                            .reason
                            .unwrap_or_else(|| "The record does not pass the filters.".to_owned()),
                    );
                    row.details.read = record;
                    decided.commit.logs.push(row);
                    continue;
                }
                let mapped = match zoho_to_qbo(&setup.mapping, pair, &setup.catalogue, &record) {
                    Ok(mapped) => mapped,
                    Err(error) => {
                        row.message = Some(format!(
                            "The record could not be mapped: {error}. Fix the value in Zoho CRM or the mapping, then Retry."
                        ));
                        row.action = Some(LogAction::Retry);
                        row.details.read = record;
                        decided.commit.logs.push(row);
                        continue;
                    }
                };
                let hash = mapped.fingerprint();
                if !force
                    && let Some(l) = &link
                    && l.zoho_hash == hash
                {
                    self.stats.skipped_unchanged += 1;
                    continue;
                }
                // Our own write to Zoho coming back. The time alone proves nothing (Zoho's
                // Modified_Time has whole seconds, so a person's edit in the second after our
                // write has the same time): it is our echo only when, besides the time, every
                // value we agreed on is still the one we wrote. Then the record's exact
                // fingerprint is kept, so the next change is compared with what Zoho holds.
                if !force
                    && let Some(l) = &link
                    && l.zoho_modified.is_some()
                    && l.zoho_modified == modified
                    && l.last_written
                        .as_ref()
                        .is_some_and(|written| agrees_with(&mapped.payload, written))
                {
                    self.stats.skipped_unchanged += 1;
                    decided.commit.links.push(Link {
                        zoho_hash: hash,
                        ..l.clone()
                    });
                    continue;
                }
                // Bi-directional: changed in QBO too since the last sync?
                let mut conflict = None;
                let mut fresh_sync_token = None;
                // (A customer made inactive — deleted — in QBO is not a competing edit: the
                // write below reports the deleted counterpart.)
                if let Some(l) = &link
                    && let Some(qbo_record) = qbo_changed.get(&l.qbo_id)
                    && qbo_record.get("Active") != Some(&json!(false))
                {
                    let qbo_mod = qbo_modified(qbo_record);
                    let changed_there = qbo_mod != l.qbo_modified
                        && qbo_to_zoho(&setup.mapping, pair, &setup.catalogue, qbo_record)
                            .map(|m| m.fingerprint() != l.qbo_hash)
                            .unwrap_or(true);
                    if changed_there {
                        let policy = self.settings.conflict_policy;
                        let winner = policy.winner(
                            modified.as_deref().unwrap_or(""),
                            qbo_mod.as_deref().unwrap_or(""),
                        );
                        if winner == System::Qbo {
                            row.status = LogStatus::NotSynced;
                            row.message = Some(format!(
                                "Changed in both systems since the last sync; the QuickBooks Online version was kept ({}). This Zoho version is in Details.",
                                policy.label()
                            ));
                            row.details.read = record.clone();
                            row.details.conflict = Some(ConflictRecord {
                                policy,
                                winner,
                                losing_version: record,
                            });
                            decided.commit.logs.push(row);
                            continue;
                        }
                        fresh_sync_token = text(qbo_record.get("SyncToken"));
                        conflict = Some(ConflictRecord {
                            policy,
                            winner,
                            losing_version: qbo_record.clone(),
                        });
                    }
                }
                candidates.push(Candidate {
                    zoho_id,
                    name,
                    modified,
                    link,
                    row,
                    record,
                    mapped,
                    hash,
                    conflict,
                    fresh_sync_token,
                });
            }
            // The links of every reference of the page in one lookup per pair, not one per record.
            let mut prefetched = self
                .reference_ids(candidates.iter().map(|c| &c.mapped), true, &HashMap::new())
                .await?;
            for candidate in candidates {
                let Candidate {
                    zoho_id,
                    name,
                    modified,
                    link,
                    mut row,
                    record,
                    mut mapped,
                    hash,
                    conflict,
                    fresh_sync_token,
                } = candidate;
                // Synced meanwhile as another record's dependency.
                if !force && self.synced_already(pair, flow, &zoho_id, modified.as_deref()) {
                    continue;
                }
                // References: customers, products on lines, vendors, terms.
                if let Err(message) = self
                    .resolve_for_qbo(&mut mapped, depth, &mut prefetched)
                    .await?
                {
                    row.message = Some(format!(
                        "{message}. Sync it first (enable its module Zoho → QuickBooks), then Retry."
                    ));
                    row.action = Some(LogAction::Retry);
                    row.details.read = record;
                    decided.commit.logs.push(row);
                    continue;
                }
                if link.is_none()
                    && pair == ModulePair::ProductsItems
                    && let Err(missing) = self
                        .settings
                        .inventory
                        .apply_to_new_item(&mut mapped.payload, &self.today)
                {
                    row.message = Some(missing.to_string());
                    row.action = Some(LogAction::Retry);
                    row.details.read = record;
                    decided.commit.logs.push(row);
                    continue;
                }
                stamp_zoho_id(&mut mapped.payload, &self.pairs[&pair], &zoho_id);
                decided.writes.push(Prepared {
                    source_id: zoho_id,
                    name,
                    source_modified: modified,
                    source_hash: hash,
                    read: record,
                    payload: mapped.payload,
                    notes: mapped.notes,
                    link,
                    conflict,
                    fresh_sync_token,
                    left_out: Vec::new(),
                });
            }
            Ok(decided)
        })
    }

    /// The target ids of a payload's linked references (`known`: ids this page already
    /// resolved). A reference whose record is not linked yet is synced first when its pair runs
    /// in `flow`, a few levels deep at most; what that links is added to `known`.
    async fn linked_references(
        &mut self,
        flow: Flow,
        mapped: &MappedRecord,
        depth: usize,
        known: &mut HashMap<(ModulePair, String), String>,
    ) -> Result<HashMap<(ModulePair, String), String>, RunError> {
        let mut ids = self
            .reference_ids(std::iter::once(mapped), flow == Flow::ZohoToQbo, known)
            .await?;
        let missing: Vec<(ModulePair, String)> = mapped
            .references
            .iter()
            .filter_map(|r| Some((r.linked_pair?, r.source_id.clone()?)))
            .filter(|key| !ids.contains_key(key))
            .collect();
        for (dep_pair, dep_id) in missing {
            let runs_that_way = self.runnable.contains(&dep_pair)
                && self
                    .pairs
                    .get(&dep_pair)
                    .is_some_and(|s| s.direction.includes(flow));
            if depth >= MAX_DEPENDENCY_DEPTH || !runs_that_way {
                continue;
            }
            let synced = match flow {
                Flow::ZohoToQbo => {
                    self.sync_zoho_dependency(dep_pair, &dep_id, depth + 1)
                        .await?
                }
                Flow::QboToZoho => {
                    self.sync_qbo_dependency(dep_pair, &dep_id, depth + 1)
                        .await?
                }
            };
            if let Some(target_id) = synced {
                known.insert((dep_pair, dep_id.clone()), target_id.clone());
                ids.insert((dep_pair, dep_id), target_id);
            }
        }
        Ok(ids)
    }

    /// Resolves the references of a Zoho → QBO payload (terms by name). `Ok(Err(message))`
    /// names what is missing.
    async fn resolve_for_qbo(
        &mut self,
        mapped: &mut MappedRecord,
        depth: usize,
        known: &mut HashMap<(ModulePair, String), String>,
    ) -> Result<Result<(), String>, RunError> {
        let ids = self
            .linked_references(Flow::ZohoToQbo, mapped, depth, known)
            .await?;
        // Terms are looked up by name.
        for reference in mapped.references.clone() {
            if reference.linked_pair.is_none()
                && let Some(name) = &reference.name
                && !self.terms.contains_key(name)
            {
                let id = self.lookup_qbo_term(name).await?;
                self.terms.insert(name.clone(), id);
            }
        }
        let terms = self.terms.clone();
        let result = mapped.resolve(|r| match (r.linked_pair, &r.source_id) {
            (Some(p), Some(id)) => ids.get(&(p, id.clone())).cloned(),
            _ => r
                .name
                .as_ref()
                .and_then(|n| terms.get(n).cloned().flatten()),
        });
        Ok(result.map_err(|unresolved| unresolved.to_string()))
    }

    /// The linked counterparts of payloads' references: (pair, source id) → target id, from
    /// `known` where it has them, else from the links (one lookup per pair).
    async fn reference_ids<'m>(
        &self,
        mapped: impl Iterator<Item = &'m MappedRecord>,
        zoho_source: bool,
        known: &HashMap<(ModulePair, String), String>,
    ) -> Result<HashMap<(ModulePair, String), String>, RunError> {
        let mut out = HashMap::new();
        let mut wanted: BTreeMap<ModulePair, Vec<String>> = BTreeMap::new();
        for r in mapped.flat_map(|m| m.references.iter()) {
            if let (Some(p), Some(id)) = (r.linked_pair, &r.source_id) {
                let key = (p, id.clone());
                if let Some(target) = known.get(&key) {
                    out.insert(key, target.clone());
                } else if !out.contains_key(&key) {
                    wanted.entry(p).or_default().push(id.clone());
                }
            }
        }
        for (p, mut ids) in wanted {
            ids.sort();
            ids.dedup();
            let linked = self
                .store()
                .linked_ids(&self.tenant_id, p, zoho_source, &ids)
                .await?;
            out.extend(linked.into_iter().map(|(id, target)| ((p, id), target)));
        }
        Ok(out)
    }

    async fn lookup_qbo_term(&self, name: &str) -> Result<Option<String>, RunError> {
        let escaped = name.replace('\'', "\\'");
        let rows = self
            .qbo
            .query_page(
                &format!("SELECT * FROM Term WHERE Name = '{escaped}'"),
                1,
                10,
            )
            .await
            .map_err(RunError::Remote)?;
        Ok(rows.first().and_then(|r| text(r.get("Id"))))
    }

    /// Syncs one Zoho record of `pair` now (a dependency); returns its QBO id when linked.
    fn sync_zoho_dependency<'a>(
        &'a mut self,
        pair: ModulePair,
        zoho_id: &'a str,
        depth: usize,
    ) -> BoxFut<'a, Result<Option<String>, RunError>> {
        Box::pin(async move {
            let module = pair.zoho_module().api_name();
            let record = match self.zoho.get(module, zoho_id).await {
                Ok(record) => record,
                Err(ConnectorError::NotFound { .. }) => return Ok(None),
                Err(error) => return Err(RunError::Remote(error)),
            };
            let decided = self
                .decide_zoho(pair, vec![record], &HashMap::new(), false, depth)
                .await?;
            let commit = self.write_qbo(pair, decided).await?;
            self.commit(commit).await?;
            let links = self
                .store()
                .links(&self.tenant_id, pair, true, &[zoho_id.to_owned()])
                .await?;
            Ok(links.get(zoho_id).map(|l| l.qbo_id.clone()))
        })
    }

    /// Writes decided records to QBO in batches (creates journaled with a requestid first),
    /// and returns the page commit with links and log rows.
    async fn write_qbo(
        &mut self,
        pair: ModulePair,
        decided: Decided,
    ) -> Result<PageCommit, RunError> {
        let sending = self.send_qbo(pair, decided).await?;
        self.finish_qbo(sending).await
    }

    /// Journals a page's creates (one transaction, before anything is sent) and starts sending
    /// all its batches, creates and updates, within the realm's concurrency and pacing. The
    /// sends run as a task of their own, so the next page can be decided meanwhile;
    /// `finish_qbo` takes the answers.
    async fn send_qbo(
        &mut self,
        pair: ModulePair,
        decided: Decided,
    ) -> Result<QboSending, RunError> {
        let Decided { commit, writes } = decided;
        let entity = self.pairs[&pair].entity.name();
        let (creates, updates): (Vec<Prepared>, Vec<Prepared>) =
            writes.into_iter().partition(|w| w.link.is_none());
        let mut requests: Vec<BatchRequest> = Vec::new();
        let mut create_chunks = Vec::new();
        let mut journal = Vec::new();
        for mut chunk in chunked(creates, QBO_BATCH) {
            let bids: Vec<String> = (0..chunk.len()).map(|i| format!("c{i}")).collect();
            let mut key_parts: Vec<String> = vec![
                self.tenant_id.clone(),
                pair.key().to_owned(),
                "create".to_owned(),
            ];
            key_parts.extend(
                chunk
                    .iter()
                    .map(|w| format!("{}={}", w.source_id, w.source_hash)),
            );
            let parts: Vec<&str> = key_parts.iter().map(String::as_str).collect();
            let request_id = idempotency_key(&parts);
            journal.push((request_id.clone(), journal_entry(&bids, &chunk)));
            // The payloads travel in the batch and come back with its answer (`finish_qbo`).
            let items: Vec<BatchItem> = chunk
                .iter_mut()
                .zip(bids)
                .map(|(w, bid)| BatchItem {
                    bid,
                    operation: BatchOperation::Create,
                    entity: entity.to_owned(),
                    body: std::mem::take(&mut w.payload),
                })
                .collect();
            requests.push((items, Some(request_id.clone())));
            create_chunks.push((chunk, request_id));
        }
        let update_chunks = chunked(updates, QBO_BATCH);
        for chunk in &update_chunks {
            let items: Vec<BatchItem> = chunk
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let link = w.link.as_ref().expect("updates have links");
                    let mut body = changed_fields(&w.payload, link.last_written.as_ref());
                    if let Some(object) = body.as_object_mut() {
                        object.insert("Id".into(), json!(link.qbo_id));
                        object.insert(
                            "SyncToken".into(),
                            json!(
                                w.fresh_sync_token
                                    .clone()
                                    .or_else(|| link.qbo_sync_token.clone())
                                    .unwrap_or_else(|| "0".to_owned())
                            ),
                        );
                        object.insert("sparse".into(), json!(true));
                    }
                    BatchItem {
                        bid: format!("u{i}"),
                        operation: BatchOperation::Update,
                        entity: entity.to_owned(),
                        body,
                    }
                })
                .collect();
            requests.push((items, None));
        }
        if !journal.is_empty() {
            self.settle_pending().await?;
            let started = Instant::now();
            self.store()
                .journal_batches(&self.tenant_id, pair, Flow::ZohoToQbo, &journal)
                .await?;
            self.stats.stages.store += started.elapsed();
        }
        drop(journal);
        let qbo = self.qbo.clone();
        let answers = BatchesInFlight(tokio::spawn(async move {
            let answers = join_all(
                requests
                    .iter()
                    .map(|(items, request_id)| qbo.batch(items, request_id.as_deref()))
                    .collect(),
            )
            .await;
            (requests, answers)
        }));
        Ok(QboSending {
            pair,
            commit,
            creates: create_chunks,
            updates: update_chunks,
            answers,
        })
    }

    /// Waits for the batches `send_qbo` started and records their outcomes (links, log rows)
    /// in the page commit it returns.
    async fn finish_qbo(&mut self, sending: QboSending) -> Result<PageCommit, RunError> {
        let QboSending {
            pair,
            mut commit,
            creates,
            updates,
            mut answers,
        } = sending;
        let entity = self.pairs[&pair].entity.name();
        let started = Instant::now();
        let (requests, answers) = answers.wait().await?;
        self.stats.stages.write += started.elapsed();
        // The creates' payloads come back from their batches.
        let mut creates = creates;
        for ((chunk, _), (items, _)) in creates.iter_mut().zip(requests) {
            for (write, item) in chunk.iter_mut().zip(items) {
                write.payload = item.body;
            }
        }
        let mut answered = Vec::with_capacity(answers.len());
        for answer in answers {
            answered.push(answer.map_err(RunError::Remote)?);
        }
        self.fault(FaultPoint::AfterRemoteWrite {
            flow: Flow::ZohoToQbo,
        })?;
        let mut answered = answered.into_iter();
        for ((chunk, request_id), outcomes) in creates.into_iter().zip(answered.by_ref()) {
            for (mut write, outcome) in chunk.into_iter().zip(outcomes) {
                let result = match outcome.result {
                    Err(error @ ConnectorError::Duplicate { .. }) => {
                        match self.adopt_same_name(pair, entity, &mut write).await? {
                            SameName::Adopted(result) => result,
                            SameName::Taken(message) => {
                                commit.logs.push(refused_row(
                                    pair,
                                    Flow::ZohoToQbo,
                                    &write,
                                    message,
                                ));
                                continue;
                            }
                            SameName::None => Err(error),
                        }
                    }
                    other => other,
                };
                self.record_qbo_result(pair, write, result, &mut commit)
                    .await?;
            }
            commit.settled_batches.push(request_id);
        }
        for (chunk, outcomes) in updates.into_iter().zip(answered) {
            for (write, outcome) in chunk.into_iter().zip(outcomes) {
                let result = match outcome.result {
                    Err(ConnectorError::StaleObject { .. }) => {
                        self.retry_stale(entity, &write).await
                    }
                    other => other,
                };
                self.record_qbo_result(pair, write, result, &mut commit)
                    .await?;
            }
        }
        Ok(commit)
    }

    /// A new name-list record (customer, vendor, item) whose name QBO already has: QBO names
    /// are unique, so the existing record is the same thing — link it (when it is active and
    /// not linked to another Zoho record) and update it, instead of failing.
    async fn adopt_same_name(
        &mut self,
        pair: ModulePair,
        entity: &str,
        write: &mut Prepared,
    ) -> Result<SameName, RunError> {
        let key = if entity == "Item" {
            "Name"
        } else {
            "DisplayName"
        };
        let Some(name) = write.payload.get(key).and_then(Value::as_str) else {
            return Ok(SameName::None);
        };
        let escaped = name.replace('\\', "\\\\").replace('\'', "\\'");
        let rows = self
            .qbo
            .query_page(
                &format!("SELECT * FROM {entity} WHERE {key} = '{escaped}'"),
                1,
                10,
            )
            .await
            .map_err(RunError::Remote)?;
        let Some(existing) = rows
            .into_iter()
            .find(|r| r.get("Active") != Some(&json!(false)))
        else {
            return Ok(SameName::None);
        };
        let Some(qbo_id) = text(existing.get("Id")) else {
            return Ok(SameName::None);
        };
        // A write never re-points a link: a record linked to another Zoho record is not ours.
        if let Some(other) = self
            .store()
            .links(&self.tenant_id, pair, false, std::slice::from_ref(&qbo_id))
            .await?
            .remove(&qbo_id)
        {
            return Ok(SameName::Taken(format!(
                "Not written: QuickBooks Online already has a record named '{name}' ({qbo_id}), and it is linked to Zoho CRM record {}. {}",
                other.zoho_id, UNIQUE_KEY_ADVICE
            )));
        }
        let token = text(existing.get("SyncToken")).unwrap_or_else(|| "0".to_owned());
        let name = name.to_owned();
        // An existing item keeps its type, stock and accounts (QuickBooks keeps the stock of an
        // item it already tracks); only the other mapped fields are updated. What is left out
        // is said so, and neither the log nor the link claims it was written.
        if entity == "Item"
            && let Some(payload) = write.payload.as_object_mut()
        {
            for kept in [
                "Type",
                "TrackQtyOnHand",
                "InvStartDate",
                "QtyOnHand",
                "IncomeAccountRef",
                "ExpenseAccountRef",
                "AssetAccountRef",
            ] {
                if payload.remove(kept).is_some() {
                    write.left_out.push(kept.to_owned());
                }
            }
        }
        write.notes.push(format!("QuickBooks Online already had a record named '{name}'; it was linked and updated instead of creating a second one."));
        if !write.left_out.is_empty() {
            write.notes.push(format!(
                "The existing item's {} were kept as QuickBooks Online had them.",
                write.left_out.join(", ")
            ));
        }
        let changes = write.payload.as_object().cloned().unwrap_or_default();
        Ok(SameName::Adopted(
            self.qbo
                .sparse_update(entity, &qbo_id, &token, &changes, None)
                .await,
        ))
    }

    /// Stale SyncToken: re-read the QBO record and re-apply the mapped fields once.
    async fn retry_stale(&self, entity: &str, write: &Prepared) -> Result<Value, ConnectorError> {
        let link = write.link.as_ref().expect("updates have links");
        let current = self.qbo.read(entity, &link.qbo_id).await?;
        let token = text(current.get("SyncToken")).unwrap_or_else(|| "0".to_owned());
        let changes = changed_fields(&write.payload, link.last_written.as_ref());
        let changes = changes.as_object().cloned().unwrap_or_default();
        self.qbo
            .sparse_update(entity, &link.qbo_id, &token, &changes, None)
            .await
    }

    async fn record_qbo_result(
        &mut self,
        pair: ModulePair,
        mut write: Prepared,
        result: Result<Value, ConnectorError>,
        commit: &mut PageCommit,
    ) -> Result<(), RunError> {
        let flow = Flow::ZohoToQbo;
        let mut row = log_row(pair, flow, LogStatus::Synced);
        row.zoho_id = Some(write.source_id.clone());
        row.record_name = write.name.clone();
        let before = write.link.as_ref().and_then(|l| l.last_written.as_ref());
        if let Some(link) = &write.link {
            row.qbo_id = Some(link.qbo_id.clone());
        }
        // What was sent: an update sends only the fields changed since the last write.
        let sent = match &write.link {
            Some(link) => changed_fields(&write.payload, link.last_written.as_ref()),
            None => std::mem::take(&mut write.payload),
        };
        row.details.read = std::mem::take(&mut write.read);
        row.details.notes = std::mem::take(&mut write.notes);
        row.details.left_out = std::mem::take(&mut write.left_out);
        row.details.conflict = write.conflict.clone();
        match result {
            Ok(saved) if saved.get("Active") == Some(&json!(false)) && write.link.is_some() => {
                row.status = LogStatus::Error;
                row.message = Some("The QuickBooks Online record was deleted (made inactive). Re-create it, or unlink this record.".to_owned());
                row.action = Some(LogAction::Recreate);
            }
            Ok(saved) => {
                // The log and the link hold what QBO accepted (its answer, at the paths sent),
                // never values that were not written; fields this write did not send keep
                // the values agreed before.
                let taken = domain::record::accepted(&sent, &saved);
                if let Some(before) = before {
                    row.details.changes = domain::log::changes(before, &taken);
                }
                let last_written = match (before, &taken) {
                    (Some(Value::Object(before)), Value::Object(taken)) => {
                        let mut agreed = before.clone();
                        agreed.extend(taken.iter().map(|(k, v)| (k.clone(), v.clone())));
                        Value::Object(agreed)
                    }
                    _ => taken.clone(),
                };
                row.details.written = taken;
                let qbo_id = text(saved.get("Id")).unwrap_or_default();
                let setup = &self.pairs[&pair];
                let qbo_hash = qbo_to_zoho(&setup.mapping, pair, &setup.catalogue, &saved)
                    .map(|m| m.fingerprint())
                    .unwrap_or_default();
                row.qbo_id = Some(qbo_id.clone());
                row.details.qbo_id = Some(qbo_id.clone());
                if let Some(conflict) = &write.conflict {
                    row.message = Some(format!(
                        "Changed in both systems since the last sync; the Zoho CRM version was written ({}). The QuickBooks version it replaced is in Details.",
                        conflict.policy.label()
                    ));
                }
                self.synced_this_run.insert(
                    (pair, flow, write.source_id.clone()),
                    millis_of(write.source_modified.as_deref()),
                );
                commit.links.push(Link {
                    pair,
                    zoho_id: write.source_id,
                    qbo_id,
                    zoho_hash: write.source_hash,
                    qbo_hash,
                    qbo_sync_token: text(saved.get("SyncToken")),
                    zoho_modified: write.source_modified,
                    qbo_modified: qbo_modified(&saved),
                    display_name: write.name,
                    last_written: Some(last_written),
                });
            }
            Err(ConnectorError::NotFound { .. }) if write.link.is_some() => {
                row.status = LogStatus::Error;
                row.message = Some("The QuickBooks Online record was deleted. Re-create it, or unlink this record.".to_owned());
                row.action = Some(LogAction::Recreate);
            }
            Err(error) if error.is_retryable() => return Err(RunError::Remote(error)),
            Err(error @ ConnectorError::NeedsReconnect { .. }) => {
                return Err(RunError::Remote(error));
            }
            Err(error) => {
                let deleted = error.remote().code.as_deref() == Some("610");
                row.status = LogStatus::Error;
                if deleted && write.link.is_some() {
                    row.message = Some("The QuickBooks Online record was deleted. Re-create it, or unlink this record.".to_owned());
                    row.action = Some(LogAction::Recreate);
                } else {
                    row.message = Some(error.plain_message());
                    row.action = Some(LogAction::Retry);
                }
            }
        }
        if row.status != LogStatus::Synced {
            // Nothing was accepted: the row shows what the write tried (its status says so).
            row.details.written = sent;
        }
        commit.logs.push(row);
        Ok(())
    }

    /// A crashed run left journaled batches: send each again with its requestid (QBO answers
    /// with the first result, creating nothing new) and store the links.
    async fn recover_batches(&mut self, pair: ModulePair) -> Result<(), RunError> {
        let pending = self
            .store()
            .pending_batches(&self.tenant_id, pair, Flow::ZohoToQbo)
            .await?;
        if pending.is_empty() {
            return Ok(());
        }
        let entity = self.pairs[&pair].entity.name();
        for (request_id, journal) in pending {
            let items: Vec<BatchItem> = journal["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| BatchItem {
                    bid: i["bid"].as_str().unwrap_or_default().to_owned(),
                    operation: BatchOperation::Create,
                    entity: entity.to_owned(),
                    body: i["body"].clone(),
                })
                .collect();
            let sources: Vec<Value> = journal["sources"].as_array().cloned().unwrap_or_default();
            let outcomes = self
                .qbo
                .batch(&items, Some(&request_id))
                .await
                .map_err(RunError::Remote)?;
            let mut commit = PageCommit::default();
            for ((item, source), outcome) in items.iter().zip(sources).zip(outcomes) {
                let write = Prepared {
                    source_id: text(source.get("id")).unwrap_or_default(),
                    name: text(source.get("name")),
                    source_modified: text(source.get("modified")),
                    source_hash: text(source.get("hash")).unwrap_or_default(),
                    read: Value::Null,
                    payload: item.body.clone(),
                    notes: vec!["Recovered after an interrupted run: QuickBooks returned the record created then.".to_owned()],
                    link: None,
                    conflict: None,
                    fresh_sync_token: None,
                    left_out: Vec::new(),
                };
                self.record_qbo_result(pair, write, outcome.result, &mut commit)
                    .await?;
            }
            commit.settled_batches.push(request_id);
            self.commit(commit).await?;
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------------
    // QBO → Zoho

    async fn qbo_to_zoho_live(&mut self, pair: ModulePair) -> Result<(), RunError> {
        let cursor = self.live_cursor(pair, Flow::QboToZoho).await?;
        let since = DateTime::<Utc>::from_timestamp_millis(cursor.at - CURSOR_OVERLAP_MS)
            .unwrap_or(self.now);
        let entity = self.pairs[&pair].entity.name();
        let mut changes = self
            .qbo
            .changes_since(&[entity], since, self.now)
            .await
            .map_err(RunError::Remote)?;
        let mut records = changes.by_entity.remove(entity).unwrap_or_default();
        records.sort_by_key(|r| millis_of(qbo_modified(r).as_deref()).unwrap_or(0));
        self.process_qbo_records(pair, records, Some(cursor)).await
    }

    /// Syncs QBO records oldest first, one Zoho write (≤100) per stored page. With a cursor
    /// (live runs) records it covers are skipped and it advances with each page.
    async fn process_qbo_records(
        &mut self,
        pair: ModulePair,
        records: Vec<Value>,
        cursor: Option<Cursor>,
    ) -> Result<(), RunError> {
        let mut mark = cursor.clone();
        for chunk in chunked(records, ZOHO_WRITE) {
            let modified: Vec<(String, i64)> = chunk
                .iter()
                .filter_map(|r| Some((qbo_cursor_key(r)?, millis_of(qbo_modified(r).as_deref())?)))
                .collect();
            let chunk: Vec<Value> = chunk
                .into_iter()
                .filter(|r| {
                    cursor.as_ref().is_none_or(|c| {
                        !c.covers(millis_of(qbo_modified(r).as_deref()), || {
                            qbo_cursor_key(r).unwrap_or_default()
                        })
                    })
                })
                .collect();
            let decided = self.decide_qbo(pair, chunk, false, 0).await?;
            let mut commit = self.write_zoho(pair, decided).await?;
            if let Some(current) = &mark {
                let next = current.advance(&modified);
                commit.cursor = Some((pair, Flow::QboToZoho, next.clone()));
                mark = Some(next);
            }
            self.commit(commit).await?;
        }
        Ok(())
    }

    fn decide_qbo<'a>(
        &'a mut self,
        pair: ModulePair,
        records: Vec<Value>,
        force: bool,
        depth: usize,
    ) -> BoxFut<'a, Result<Decided, RunError>> {
        Box::pin(async move {
            let flow = Flow::QboToZoho;
            // A newer version of a record written earlier in this run needs that write's link,
            // which may still be in the page commit being stored.
            if force
                || records
                    .iter()
                    .any(|r| self.changed_since_synced(pair, flow, r))
            {
                self.settle_pending().await?;
            }
            let ids: Vec<String> = records.iter().filter_map(|r| text(r.get("Id"))).collect();
            let links = self
                .store()
                .links(&self.tenant_id, pair, false, &ids)
                .await?;
            let mut decided = Decided {
                commit: PageCommit::default(),
                writes: Vec::new(),
            };
            for record in records {
                self.stats.read += 1;
                let Some(qbo_id) = text(record.get("Id")) else {
                    continue;
                };
                let modified = qbo_modified(&record);
                if !force && self.synced_already(pair, flow, &qbo_id, modified.as_deref()) {
                    continue;
                }
                let link = links.get(&qbo_id).cloned();
                let mut row = log_row(pair, flow, LogStatus::Error);
                row.qbo_id = Some(qbo_id.clone());
                row.zoho_id = link.as_ref().map(|l| l.zoho_id.clone());
                row.record_name = qbo_name(&record)
                    .or_else(|| link.as_ref().and_then(|l| l.display_name.clone()));
                row.details.qbo_id = Some(qbo_id.clone());
                row.details.read = record.clone();
                // Name-list records are never deleted in QBO, only made inactive (and renamed).
                if record.get("Active") == Some(&json!(false)) {
                    if link.is_some() {
                        row.status = LogStatus::NotSynced;
                        row.message = Some(
                            "Deleted (made inactive) in QuickBooks Online; the Zoho CRM record was kept.".to_owned(),
                        );
                        decided.commit.logs.push(row);
                    }
                    continue;
                }
                if record.get("status").and_then(Value::as_str) == Some("Deleted") {
                    if link.is_some() {
                        row.status = LogStatus::NotSynced;
                        row.message = Some(
                            "Deleted in QuickBooks Online; the Zoho CRM record was kept."
                                .to_owned(),
                        );
                        decided.commit.logs.push(row);
                    }
                    continue;
                }
                // Unchanged since we wrote or read it: QBO moves the SyncToken on every change,
                // so the same token is the same version (a time of ours proves nothing: a
                // person's edit in the second after our write has the same LastUpdatedTime).
                if !force
                    && let Some(l) = &link
                    && l.qbo_sync_token.is_some()
                    && l.qbo_sync_token == text(record.get("SyncToken"))
                {
                    self.stats.skipped_unchanged += 1;
                    continue;
                }
                if pair == ModulePair::ProductsItems {
                    let item_type = record
                        .get("Type")
                        .and_then(Value::as_str)
                        .unwrap_or("Inventory");
                    if !self.settings.item_types.allows(item_type) {
                        if link.is_none() && !force {
                            continue;
                        }
                        row.status = LogStatus::NotSynced;
                        row.message = Some(format!(
                            "{item_type} items are not synced to Zoho CRM; allow them in Settings → Inventory Settings."
                        ));
                        decided.commit.logs.push(row);
                        continue;
                    }
                }
                let setup = &self.pairs[&pair];
                let outcome = setup
                    .filters
                    .get(flow)
                    .evaluate_labelled(&record, |field| setup.catalogue.qbo_label(field));
                if !outcome.passed {
                    row.status = LogStatus::NotValid;
                    row.message = Some(
                        outcome
                            .reason
                            .unwrap_or_else(|| "The record does not pass the filters.".to_owned()),
                    );
                    decided.commit.logs.push(row);
                    continue;
                }
                let mut mapped = match qbo_to_zoho(&setup.mapping, pair, &setup.catalogue, &record)
                {
                    Ok(mapped) => mapped,
                    Err(error) => {
                        row.message = Some(format!(
                            "The record could not be mapped: {error}. Fix the value in QuickBooks Online or the mapping, then Retry."
                        ));
                        row.action = Some(LogAction::Retry);
                        decided.commit.logs.push(row);
                        continue;
                    }
                };
                let hash = mapped.fingerprint();
                if !force
                    && let Some(l) = &link
                    && l.qbo_hash == hash
                {
                    self.stats.skipped_unchanged += 1;
                    continue;
                }
                if let Err(message) = self.resolve_for_zoho(&mut mapped, depth).await? {
                    row.message = Some(format!(
                        "{message}. Sync it first (enable its module QuickBooks → Zoho), then Retry."
                    ));
                    row.action = Some(LogAction::Retry);
                    decided.commit.logs.push(row);
                    continue;
                }
                let stamps = self.pairs[&pair].stamps_qbo_id;
                if stamps && let Some(object) = mapped.payload.as_object_mut() {
                    object.insert(ZOHO_QBO_ID_FIELD.into(), json!(qbo_id));
                }
                decided.writes.push(Prepared {
                    source_id: qbo_id,
                    name: row.record_name.clone(),
                    source_modified: modified,
                    source_hash: hash,
                    read: record,
                    payload: mapped.payload,
                    notes: mapped.notes,
                    link,
                    conflict: None,
                    fresh_sync_token: None,
                    left_out: Vec::new(),
                });
            }
            Ok(decided)
        })
    }

    async fn resolve_for_zoho(
        &mut self,
        mapped: &mut MappedRecord,
        depth: usize,
    ) -> Result<Result<(), String>, RunError> {
        let ids = self
            .linked_references(Flow::QboToZoho, mapped, depth, &mut HashMap::new())
            .await?;
        let result = mapped.resolve(|r| match (r.linked_pair, &r.source_id) {
            (Some(p), Some(id)) => ids.get(&(p, id.clone())).cloned(),
            _ => None,
        });
        Ok(result.map_err(|unresolved| unresolved.to_string()))
    }

    fn sync_qbo_dependency<'a>(
        &'a mut self,
        pair: ModulePair,
        qbo_id: &'a str,
        depth: usize,
    ) -> BoxFut<'a, Result<Option<String>, RunError>> {
        Box::pin(async move {
            let entity = self.pairs[&pair].entity.name();
            let record = match self.qbo.read(entity, qbo_id).await {
                Ok(record) => record,
                Err(ConnectorError::NotFound { .. }) => return Ok(None),
                Err(error) => return Err(RunError::Remote(error)),
            };
            let decided = self.decide_qbo(pair, vec![record], false, depth).await?;
            let commit = self.write_zoho(pair, decided).await?;
            self.commit(commit).await?;
            let links = self
                .store()
                .links(&self.tenant_id, pair, false, &[qbo_id.to_owned()])
                .await?;
            Ok(links.get(qbo_id).map(|l| l.zoho_id.clone()))
        })
    }

    async fn write_zoho(
        &mut self,
        pair: ModulePair,
        decided: Decided,
    ) -> Result<PageCommit, RunError> {
        let Decided { mut commit, writes } = decided;
        let module = pair.zoho_module().api_name();
        let duplicate_check = self.pairs[&pair].duplicate_check_fields(pair);
        let (creates, updates): (Vec<Prepared>, Vec<Prepared>) =
            writes.into_iter().partition(|w| w.link.is_none());
        let creates = if duplicate_check.contains(&PRODUCT_CODE) {
            self.refuse_taken_codes(pair, creates, &mut commit).await?
        } else {
            creates
        };
        if !creates.is_empty() {
            let records: Vec<Value> = creates.iter().map(|w| w.payload.clone()).collect();
            // Upserting on the QBO id makes a create retried after a crash an update; on the
            // product code, a product both systems already had is linked, not duplicated.
            let results = if duplicate_check.is_empty() {
                self.zoho.insert(module, &records).await
            } else {
                self.zoho.upsert(module, &records, &duplicate_check).await
            }
            .map_err(RunError::Remote)?;
            self.fault(FaultPoint::AfterRemoteWrite {
                flow: Flow::QboToZoho,
            })?;
            // A write never re-points a link: an upsert that landed on a Zoho record linked to
            // another QBO record (a race past `refuse_taken_codes`) is reported, not linked.
            let landed: Vec<String> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|w| w.id.clone()))
                .collect();
            let linked = self
                .store()
                .links(&self.tenant_id, pair, true, &landed)
                .await?;
            for (write, result) in creates.into_iter().zip(results) {
                let result = match result {
                    Ok(written)
                        if linked
                            .get(&written.id)
                            .is_some_and(|l| l.qbo_id != write.source_id) =>
                    {
                        let other = &linked[&written.id];
                        commit.logs.push(refused_row(
                            pair,
                            Flow::QboToZoho,
                            &write,
                            format!(
                                "Zoho CRM matched this record to its record {}, which is already linked to QuickBooks Online record {} ({}); the link was not changed. {}",
                                written.id,
                                other.display_name.as_deref().unwrap_or("unnamed"),
                                other.qbo_id,
                                UNIQUE_KEY_ADVICE
                            ),
                        ));
                        continue;
                    }
                    other => other,
                };
                self.record_zoho_result(pair, &write, result, &mut commit)?;
            }
        }
        if !updates.is_empty() {
            let records: Vec<Value> = updates
                .iter()
                .map(|w| {
                    let mut body = w.payload.clone();
                    if let (Some(object), Some(link)) = (body.as_object_mut(), &w.link) {
                        object.insert("id".into(), json!(link.zoho_id));
                    }
                    body
                })
                .collect();
            let results = self
                .zoho
                .update(module, &records)
                .await
                .map_err(RunError::Remote)?;
            self.fault(FaultPoint::AfterRemoteWrite {
                flow: Flow::QboToZoho,
            })?;
            for (write, result) in updates.into_iter().zip(results) {
                self.record_zoho_result(pair, &write, result, &mut commit)?;
            }
        }
        Ok(commit)
    }

    /// Creates keyed on the product code: a Zoho product that already has the code is what the
    /// upsert would overwrite. When it is linked to another QBO item, the create is refused (an
    /// Error row naming both records; nothing is written to it). When it is not linked, it is
    /// adopted only if the rest agrees (our own earlier create, by its QBO id, or the same
    /// name); otherwise refused as well.
    async fn refuse_taken_codes(
        &mut self,
        pair: ModulePair,
        creates: Vec<Prepared>,
        commit: &mut PageCommit,
    ) -> Result<Vec<Prepared>, RunError> {
        let code_of = |w: &Prepared| {
            w.payload
                .get(PRODUCT_CODE)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|code| !code.is_empty())
                .map(str::to_owned)
        };
        let mut codes: Vec<String> = creates.iter().filter_map(code_of).collect();
        codes.sort();
        codes.dedup();
        if codes.is_empty() {
            return Ok(creates);
        }
        let module = pair.zoho_module().api_name();
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        let holders = self
            .zoho
            .find_by_values(module, PRODUCT_CODE, &codes)
            .await
            .map_err(RunError::Remote)?;
        let holder_ids: Vec<String> = holders.iter().filter_map(|h| text(h.get("id"))).collect();
        let linked = self
            .store()
            .links(&self.tenant_id, pair, true, &holder_ids)
            .await?;
        let mut kept: Vec<Prepared> = Vec::with_capacity(creates.len());
        for mut write in creates {
            let Some(code) = code_of(&write) else {
                kept.push(write);
                continue;
            };
            // Two new items of one page with one code would both land on one Zoho product.
            if let Some(first) = kept
                .iter()
                .find(|k| code_of(k).as_deref() == Some(code.as_str()))
            {
                let message = format!(
                    "Not written: QuickBooks Online item '{}' ({}) has the same SKU {code}. {}",
                    first.name.as_deref().unwrap_or("unnamed"),
                    first.source_id,
                    UNIQUE_KEY_ADVICE
                );
                commit
                    .logs
                    .push(refused_row(pair, Flow::QboToZoho, &write, message));
                continue;
            }
            let same_code: Vec<&Value> = holders
                .iter()
                .filter(|h| {
                    h.get(PRODUCT_CODE)
                        .and_then(Value::as_str)
                        .is_some_and(|c| c.trim() == code)
                })
                .collect();
            let Some(first) = same_code.first() else {
                kept.push(write);
                continue;
            };
            let holder_name = |h: &Value| {
                h.get(PRODUCT_NAME)
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed")
                    .to_owned()
            };
            // Our own create, stamped with this QBO id (a crash before its link was stored):
            // the upsert on the QBO id updates it.
            if same_code.iter().any(|h| {
                text(h.get(ZOHO_QBO_ID_FIELD)).as_deref() == Some(write.source_id.as_str())
            }) {
                kept.push(write);
                continue;
            }
            if let Some((holder, other)) = same_code.iter().find_map(|h| {
                text(h.get("id"))
                    .and_then(|id| linked.get(&id))
                    .map(|link| (*h, link))
            }) {
                let message = format!(
                    "Not written: QuickBooks Online item '{}' has SKU {code}, but Zoho CRM product '{}' ({}) already has that product code and is linked to QuickBooks Online item '{}' ({}). {}",
                    write.name.as_deref().unwrap_or("unnamed"),
                    holder_name(holder),
                    text(holder.get("id")).unwrap_or_default(),
                    other.display_name.as_deref().unwrap_or("unnamed"),
                    other.qbo_id,
                    UNIQUE_KEY_ADVICE
                );
                commit
                    .logs
                    .push(refused_row(pair, Flow::QboToZoho, &write, message));
                continue;
            }
            let name = write.payload.get(PRODUCT_NAME).and_then(Value::as_str);
            let agrees =
                same_code.len() == 1 && name.is_some_and(|n| same_name(n, &holder_name(first)));
            if agrees {
                write.notes.push(format!(
                    "Zoho CRM already had product '{}' with product code {code}; it was linked and updated instead of creating a second one.",
                    holder_name(first)
                ));
                kept.push(write);
            } else {
                let message = format!(
                    "Not written: QuickBooks Online item '{}' has SKU {code}, which Zoho CRM product '{}' ({}) already has under another name, so that product was neither linked nor changed. If they are the same product, give them the same name; if not, give them different codes. Then Retry.",
                    write.name.as_deref().unwrap_or("unnamed"),
                    holder_name(first),
                    text(first.get("id")).unwrap_or_default()
                );
                commit
                    .logs
                    .push(refused_row(pair, Flow::QboToZoho, &write, message));
            }
        }
        Ok(kept)
    }

    fn record_zoho_result(
        &mut self,
        pair: ModulePair,
        write: &Prepared,
        result: Result<crate::connectors::zoho::Written, ConnectorError>,
        commit: &mut PageCommit,
    ) -> Result<(), RunError> {
        let flow = Flow::QboToZoho;
        let mut row = log_row(pair, flow, LogStatus::Synced);
        row.qbo_id = Some(write.source_id.clone());
        row.record_name = write.name.clone();
        row.details.qbo_id = Some(write.source_id.clone());
        row.details.read = write.read.clone();
        row.details.written = write.payload.clone();
        row.details.notes = write.notes.clone();
        if let Some(link) = &write.link {
            row.zoho_id = Some(link.zoho_id.clone());
        }
        match result {
            Ok(written) => {
                let setup = &self.pairs[&pair];
                // What the Zoho record now holds, as mapped toward QBO: its fingerprint, and the
                // QBO-side values both systems now agree on (`last_written` is always kept in
                // QBO's shape, so a later Zoho → QBO update sends only what changed).
                let mut as_read = write.payload.clone();
                if let Some(object) = as_read.as_object_mut() {
                    object.insert("id".into(), json!(written.id));
                }
                let agreed = zoho_to_qbo(&setup.mapping, pair, &setup.catalogue, &as_read).ok();
                let zoho_hash = agreed
                    .as_ref()
                    .map(MappedRecord::fingerprint)
                    .unwrap_or_default();
                let agreed = agreed.map(|m| m.payload);
                if let (Some(before), Some(after)) = (
                    write.link.as_ref().and_then(|l| l.last_written.as_ref()),
                    agreed.as_ref(),
                ) {
                    row.details.changes = domain::log::changes(before, after);
                }
                row.zoho_id = Some(written.id.clone());
                commit.links.push(Link {
                    pair,
                    zoho_id: written.id,
                    qbo_id: write.source_id.clone(),
                    zoho_hash,
                    qbo_hash: write.source_hash.clone(),
                    qbo_sync_token: text(write.read.get("SyncToken"))
                        .or_else(|| write.link.as_ref().and_then(|l| l.qbo_sync_token.clone())),
                    zoho_modified: written.modified_time,
                    qbo_modified: write.source_modified.clone(),
                    display_name: write.name.clone(),
                    last_written: agreed,
                });
                self.synced_this_run.insert(
                    (pair, flow, write.source_id.clone()),
                    millis_of(write.source_modified.as_deref()),
                );
            }
            Err(error) if error.is_retryable() => return Err(RunError::Remote(error)),
            Err(error @ ConnectorError::NeedsReconnect { .. }) => {
                return Err(RunError::Remote(error));
            }
            Err(error) => {
                row.status = LogStatus::Error;
                let gone = matches!(error, ConnectorError::NotFound { .. })
                    || (write.link.is_some()
                        && error.remote().code.as_deref() == Some("INVALID_DATA")
                        && error.remote().raw.contains("\"id\""));
                if gone && write.link.is_some() {
                    row.message = Some(
                        "The Zoho CRM record was deleted. Re-create it, or unlink this record."
                            .to_owned(),
                    );
                    row.action = Some(LogAction::Recreate);
                } else {
                    row.message = Some(error.plain_message());
                    row.action = Some(LogAction::Retry);
                }
            }
        }
        commit.logs.push(row);
        Ok(())
    }

    // ----------------------------------------------------------------------------------
    // Retries and backfills

    async fn retries(&mut self, pair: ModulePair, flow: Flow) -> Result<(), RunError> {
        let pending = self
            .store()
            .pending_retries(&self.tenant_id, pair, flow)
            .await?;
        for retry in pending {
            let mut commit = PageCommit::default();
            if retry.recreate {
                let by_zoho = flow == Flow::ZohoToQbo;
                let links = self
                    .store()
                    .links(
                        &self.tenant_id,
                        pair,
                        by_zoho,
                        std::slice::from_ref(&retry.source_id),
                    )
                    .await?;
                if let Some(link) = links.get(&retry.source_id) {
                    self.store()
                        .commit(
                            &self.tenant_id,
                            PageCommit {
                                unlink: vec![(pair, link.zoho_id.clone())],
                                ..PageCommit::default()
                            },
                        )
                        .await?;
                }
            }
            match flow {
                Flow::ZohoToQbo => {
                    let module = pair.zoho_module().api_name();
                    match self.zoho.get(module, &retry.source_id).await {
                        Ok(record) => {
                            let decided = self
                                .decide_zoho(pair, vec![record], &HashMap::new(), true, 0)
                                .await?;
                            commit = self.write_qbo(pair, decided).await?;
                        }
                        Err(ConnectorError::NotFound { .. }) => {
                            let mut row = log_row(pair, flow, LogStatus::NotSynced);
                            row.zoho_id = Some(retry.source_id.clone());
                            row.message = Some(
                                "The Zoho CRM record no longer exists; nothing to retry."
                                    .to_owned(),
                            );
                            commit.logs.push(row);
                        }
                        Err(error) => return Err(RunError::Remote(error)),
                    }
                }
                Flow::QboToZoho => {
                    let entity = self.pairs[&pair].entity.name();
                    match self.qbo.read(entity, &retry.source_id).await {
                        Ok(record) => {
                            let decided = self.decide_qbo(pair, vec![record], true, 0).await?;
                            commit = self.write_zoho(pair, decided).await?;
                        }
                        Err(ConnectorError::NotFound { .. }) => {
                            let mut row = log_row(pair, flow, LogStatus::NotSynced);
                            row.qbo_id = Some(retry.source_id.clone());
                            row.message = Some(
                                "The QuickBooks Online record no longer exists; nothing to retry."
                                    .to_owned(),
                            );
                            commit.logs.push(row);
                        }
                        Err(error) => return Err(RunError::Remote(error)),
                    }
                }
            }
            commit
                .retries_done
                .push((pair, flow, retry.source_id.clone()));
            self.commit(commit).await?;
        }
        Ok(())
    }

    /// Works on the first active backfill for a bounded number of pages; returns whether any
    /// backfill is left.
    async fn backfill_slice(&mut self) -> Result<bool, RunError> {
        let progress = self.engine.backfills.progress(&self.tenant_id).await?;
        let Some(job) = progress.into_iter().find(|p| p.status.is_active()) else {
            return Ok(false);
        };
        let (pair, flow) = (job.pair, job.flow);
        let allowed = self.runnable.contains(&pair)
            && self
                .pairs
                .get(&pair)
                .is_some_and(|s| s.direction.includes(flow));
        if !allowed {
            self.engine
                .backfills
                .finish(
                    &self.tenant_id,
                    pair,
                    flow,
                    BackfillStatus::Failed,
                    Some("The module is disabled or not in your plan any more."),
                )
                .await?;
            return self
                .engine
                .backfills
                .has_active(&self.tenant_id)
                .await
                .map_err(Into::into);
        }
        match flow {
            Flow::ZohoToQbo => {
                if job.estimated_total.is_none() {
                    let total = self.estimate_zoho(pair, job.checkpoint_at).await;
                    self.engine
                        .backfills
                        .checkpoint(&self.tenant_id, pair, flow, job.checkpoint_at, 0, total)
                        .await?;
                }
                let (_, _, finished) = self
                    .walk_zoho(
                        pair,
                        Cursor {
                            at: job.checkpoint_at,
                            ids: Vec::new(),
                        },
                        Some(BACKFILL_PAGES_PER_RUN),
                        false,
                    )
                    .await?;
                if finished {
                    self.engine
                        .backfills
                        .finish(&self.tenant_id, pair, flow, BackfillStatus::Done, None)
                        .await?;
                }
            }
            Flow::QboToZoho => {
                let since =
                    DateTime::<Utc>::from_timestamp_millis(job.checkpoint_at - CURSOR_OVERLAP_MS)
                        .unwrap_or(self.now);
                let entity = self.pairs[&pair].entity.name();
                let mut records = self
                    .qbo
                    .updated_since_by_query(entity, since)
                    .await
                    .map_err(RunError::Remote)?;
                records.sort_by_key(|r| millis_of(qbo_modified(r).as_deref()).unwrap_or(0));
                let total = records.len() as u64;
                self.engine
                    .backfills
                    .checkpoint(
                        &self.tenant_id,
                        pair,
                        flow,
                        job.checkpoint_at,
                        0,
                        Some(job.done + total),
                    )
                    .await?;
                let budget = BACKFILL_PAGES_PER_RUN * ZOHO_WRITE;
                let finished = records.len() <= budget;
                records.truncate(budget);
                for chunk in chunked(records, ZOHO_WRITE) {
                    let newest = chunk
                        .iter()
                        .filter_map(|r| millis_of(qbo_modified(r).as_deref()))
                        .max();
                    let n = chunk.len() as u64;
                    self.process_qbo_records(pair, chunk, None).await?;
                    if let Some(at) = newest {
                        self.engine
                            .backfills
                            .checkpoint(&self.tenant_id, pair, flow, at, n, None)
                            .await?;
                    }
                }
                if finished {
                    self.engine
                        .backfills
                        .finish(&self.tenant_id, pair, flow, BackfillStatus::Done, None)
                        .await?;
                }
            }
        }
        self.engine
            .backfills
            .has_active(&self.tenant_id)
            .await
            .map_err(Into::into)
    }

    /// How many Zoho records a backfill will walk (Zoho's record count API); `None` when Zoho
    /// cannot say, and the progress bar then shows records done only.
    async fn estimate_zoho(&self, pair: ModulePair, since_ms: i64) -> Option<u64> {
        let since = DateTime::<Utc>::from_timestamp_millis(since_ms)?;
        let module = pair.zoho_module().api_name();
        self.zoho.count_modified_since(module, since).await.ok()
    }
}

/// A Zoho page being read by a task of its own; dropped unread (the walk failed), the read is
/// stopped.
struct PageRead(tokio::task::JoinHandle<Result<RecordPage, ConnectorError>>);

impl PageRead {
    async fn wait(&mut self) -> Result<RecordPage, RunError> {
        match (&mut self.0).await {
            Ok(page) => page.map_err(RunError::Remote),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(RunError::Aborted),
        }
    }
}

impl Drop for PageRead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where a walked page leaves its flow, stored with the page's outcomes.
enum PageEnd {
    /// A live flow: the cursor after the page.
    Cursor(Cursor),
    /// A backfill: the newest modified time of the page, and how many records it read.
    Checkpoint { at: i64, done: u64 },
    /// A page with no dated records: nothing moves.
    Nothing,
}

/// A page's QBO writes on their way (`send_qbo`): the creates in chunks with their journaled
/// requestids, the updates in chunks, and the task sending them all.
struct QboSending {
    pair: ModulePair,
    /// The rows decided before writing (Not Valid, errors); the writes' rows join them.
    commit: PageCommit,
    creates: Vec<(Vec<Prepared>, String)>,
    updates: Vec<Vec<Prepared>>,
    answers: BatchesInFlight,
}

impl QboSending {
    /// The source records being written.
    fn source_ids(&self) -> impl Iterator<Item = &str> {
        self.creates
            .iter()
            .map(|(chunk, _)| chunk)
            .chain(&self.updates)
            .flatten()
            .map(|w| w.source_id.as_str())
    }
}

/// The answers of a page's batches, in the order they were sent. Dropped unanswered (the run
/// failed or was cancelled), the task is stopped: its creates are journaled, so the next run
/// recovers them as it would after a crash.
struct BatchesInFlight(tokio::task::JoinHandle<(Vec<BatchRequest>, Vec<BatchAnswer>)>);

/// A batch's items, and the requestid of a create batch.
type BatchRequest = (Vec<BatchItem>, Option<String>);

type BatchAnswer = Result<Vec<BatchOutcome>, ConnectorError>;

impl BatchesInFlight {
    async fn wait(&mut self) -> Result<(Vec<BatchRequest>, Vec<BatchAnswer>), RunError> {
        match (&mut self.0).await {
            Ok(answers) => Ok(answers),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(RunError::Aborted),
        }
    }
}

impl Drop for BatchesInFlight {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The journal of a create batch, as stored: its items (bid and body) and the source record
/// of each (id, fingerprint, modified time, name), for `recover_batches` to link them.
fn journal_entry(bids: &[String], chunk: &[Prepared]) -> String {
    #[derive(serde::Serialize)]
    struct Item<'a> {
        bid: &'a str,
        body: &'a Value,
    }
    #[derive(serde::Serialize)]
    struct Source<'a> {
        hash: &'a str,
        id: &'a str,
        modified: &'a Option<String>,
        name: &'a Option<String>,
    }
    #[derive(serde::Serialize)]
    struct Entry<'a> {
        items: Vec<Item<'a>>,
        sources: Vec<Source<'a>>,
    }
    let entry = Entry {
        items: bids
            .iter()
            .zip(chunk)
            .map(|(bid, w)| Item {
                bid,
                body: &w.payload,
            })
            .collect(),
        sources: chunk
            .iter()
            .map(|w| Source {
                hash: &w.source_hash,
                id: &w.source_id,
                modified: &w.source_modified,
                name: &w.name,
            })
            .collect(),
    };
    serde_json::to_string(&entry).expect("a journal entry serializes")
}

/// Writes the Zoho id into a memo field of the QBO record when the mapping leaves it free
/// (transactions: the private note; customers and vendors: notes), as the original product's
/// hidden ZOHOMODULEID fields do, so links can be rebuilt from QuickBooks alone.
fn stamp_zoho_id(payload: &mut Value, setup: &PairSetup, zoho_id: &str) {
    let field = match setup.entity {
        QboEntity::Invoice | QboEntity::Estimate | QboEntity::PurchaseOrder => "PrivateNote",
        QboEntity::Customer | QboEntity::Vendor => "Notes",
        _ => return,
    };
    if setup.mapping.get(field).is_some() {
        return;
    }
    if let Some(object) = payload.as_object_mut() {
        let module = setup.catalogue_module();
        object.insert(
            field.to_owned(),
            json!(format!("Zoho CRM {module} {zoho_id}")),
        );
    }
}

/// Whether every field of `written` (what was last written, in QBO's shape) has the same value
/// in `payload` (a record as mapped now): the values we wrote are all still there.
fn agrees_with(payload: &Value, written: &Value) -> bool {
    let (Some(now), Some(then)) = (payload.as_object(), written.as_object()) else {
        return false;
    };
    then.iter().all(|(key, value)| {
        now.get(key)
            .is_some_and(|current| fingerprint(current) == fingerprint(value))
    })
}

/// The top-level fields of `payload` that differ from what was last written: a sparse update
/// sends only those, so a field changed on the other side meanwhile is not overwritten with an
/// unchanged value (and a deleted record's renamed name is not put back). Everything when there
/// is nothing to compare with, or when nothing differs.
fn changed_fields(payload: &Value, last_written: Option<&Value>) -> Value {
    let (Some(new), Some(Value::Object(old))) = (payload.as_object(), last_written) else {
        return payload.clone();
    };
    let changed: serde_json::Map<String, Value> = new
        .iter()
        .filter(|(key, value)| {
            old.get(*key)
                .is_none_or(|before| fingerprint(before) != fingerprint(value))
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if changed.is_empty() {
        payload.clone()
    } else {
        Value::Object(changed)
    }
}

/// Polls futures together and returns their outputs in order (a page's QBO batches).
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(size);
    for item in items {
        current.push(item);
        if current.len() == size {
            out.push(std::mem::replace(&mut current, Vec::with_capacity(size)));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl super::worker::TenantRunner for Engine {
    fn run<'a>(
        &'a self,
        claim: &'a super::schedule::Claim,
    ) -> Pin<Box<dyn Future<Output = super::worker::RunReport> + Send + 'a>> {
        Box::pin(async move {
            let summary = self.run_tenant(&claim.tenant_id).await;
            tracing::info!(
                tenant_id = %claim.tenant_id,
                outcome = summary.outcome.key(),
                read = summary.stats.read,
                synced = summary.stats.synced,
                errors = summary.stats.errors,
                "sync run finished"
            );
            super::worker::RunReport {
                outcome: summary.outcome,
                message: summary.message,
                more_work: summary.more_work,
            }
        })
    }
}
