//! One tenant's run (ARCHITECTURE "A record's journey"): for each pair the plan allows,
//! essentials first, each flow in its turn — read what changed since the cursor, filter, map,
//! resolve references (syncing missing dependencies first), write in bulk, and store the page's
//! links, log rows and cursor in one transaction. Both flows share the shape; echo suppression
//! (fingerprints and modified times per link) keeps bi-directional pairs from ping-ponging.

use std::collections::{BTreeMap, HashMap, HashSet};
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
use super::worker::RunReport;
use crate::clock::Clock;
use crate::connections::{ConnectionError, ConnectionStore, Provider};
use crate::connectors::qbo::{BatchItem, BatchOperation, BatchOutcome};
use crate::connectors::zoho::{PageCursor, RecordPage};
use crate::connectors::{ConnectorError, QboApi, ZohoApi};
use crate::db::Db;
use crate::ids::TenantId;

mod flow;
mod pipeline;
mod qbo_to_zoho;
mod references;
mod slices;
mod zoho_to_qbo;

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
    pub async fn run_tenant(&self, tenant_id: &TenantId) -> RunReport {
        let clients = async {
            let qbo: Arc<dyn QboApi> = Arc::new(self.connections.qbo_client(tenant_id).await?);
            let zoho: Arc<dyn ZohoApi> = Arc::new(self.connections.zoho_client(tenant_id).await?);
            Ok::<_, ConnectionError>((qbo, zoho))
        };
        match clients.await {
            Ok((qbo, zoho)) => self.run_tenant_with(tenant_id, qbo, zoho).await,
            Err(error) => {
                self.report(tenant_id, Err(error.into()), RunStats::default())
                    .await
            }
        }
    }

    /// [`Engine::run_tenant`] with the given clients: the real ones, or in unit tests fakes
    /// that answer without HTTP.
    #[tracing::instrument(name = "tenant_run", skip_all, fields(tenant_id = %tenant_id))]
    pub(crate) async fn run_tenant_with(
        &self,
        tenant_id: &str,
        qbo: Arc<dyn QboApi>,
        zoho: Arc<dyn ZohoApi>,
    ) -> RunReport {
        let mut stats = RunStats::default();
        let result = self.run_inner(tenant_id, qbo, zoho, &mut stats).await;
        self.report(tenant_id, result, stats).await
    }

    /// What a run came to, for the scheduler; a connection the remote refused is marked for
    /// reconnecting.
    async fn report(
        &self,
        tenant_id: &str,
        result: Result<bool, RunError>,
        stats: RunStats,
    ) -> RunReport {
        match result {
            Ok(more_work) => RunReport {
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
                    return RunReport {
                        outcome: RunOutcome::Failed,
                        message: Some(error.plain_message()),
                        more_work: false,
                        stats,
                    };
                }
                RunReport {
                    outcome: RunOutcome::Partial,
                    message: Some(error.plain_message()),
                    more_work: error.is_retryable(),
                    stats,
                }
            }
            Err(RunError::Connection(error)) => RunReport {
                outcome: RunOutcome::Failed,
                message: Some(error.to_string()),
                more_work: false,
                stats,
            },
            Err(RunError::Aborted) => RunReport {
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
                RunReport {
                    outcome: RunOutcome::Failed,
                    message: Some("The run could not finish because of a problem on our side; it will be tried again.".to_owned()),
                    more_work: false,
                    stats,
                }
            }
        }
    }

    async fn run_inner(
        &self,
        tenant_id: &str,
        qbo: Arc<dyn QboApi>,
        zoho: Arc<dyn ZohoApi>,
        stats: &mut RunStats,
    ) -> Result<bool, RunError> {
        let directions = self.config.directions(tenant_id).await?;
        let settings = self.config.settings(tenant_id).await?;
        let entitlements = crate::billing::entitlements(&self.db, tenant_id).await?;
        let runnable = entitlements.runnable_pairs(&directions);
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

/// The records of one page, decided but not yet written.
#[derive(Default)]
struct Decided {
    commit: PageCommit,
    writes: Vec<Prepared>,
    /// Records waiting for records they refer to, with those references (synced first).
    waiting: Vec<(Value, Vec<(ModulePair, String)>)>,
}

impl Decided {
    fn absorb(&mut self, other: Decided) {
        self.commit.logs.extend(other.commit.logs);
        self.commit.links.extend(other.commit.links);
        self.writes.extend(other.writes);
        self.waiting.extend(other.waiting);
    }
}

struct TenantRun<'e> {
    engine: &'e Engine,
    tenant_id: String,
    qbo: Arc<dyn QboApi>,
    zoho: Arc<dyn ZohoApi>,
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
}

impl super::worker::TenantRunner for Engine {
    fn run<'a>(
        &'a self,
        claim: &'a super::schedule::Claim,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = RunReport> + Send + 'a>> {
        Box::pin(self.run_tenant(&claim.tenant_id))
    }
}

#[cfg(test)]
mod tests;
