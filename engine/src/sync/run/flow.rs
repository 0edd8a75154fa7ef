//! One decide skeleton for both directions. A page of source records goes through the same
//! steps whichever way it flows — already written this run, the source's own verdict (deleted,
//! inactive, unchanged), filters, mapping, our own write coming back, conflicts, references,
//! the direction's last touches — and comes out as log rows and writes. A direction
//! ([`FlowSide`]) supplies only what differs: how to read its records, how to map them, what
//! its echo looks like, and how to write a decided page and record the answers.
//!
//! Dependencies are a pass, not a recursion: a record whose customer or product is not linked
//! yet (and whose pair runs that way) waits while those records are synced, as small pages of
//! their own through this same path, deepest first; then it is decided again.

use std::collections::BTreeSet;
use std::future::Future;

#[allow(clippy::wildcard_imports)] // the run's shared types and helpers
use super::*;

/// A record's verdict before it is mapped.
pub(super) enum Screen {
    /// Go on to the filters.
    Go,
    /// Nothing to do, nothing to log; `unchanged` counts it as skipped unchanged.
    Skip { unchanged: bool },
    /// Stops here with this status and message.
    Log(LogStatus, String),
}

/// What a record's references came to.
pub(super) enum Resolved {
    /// Every reference has its target id in the payload.
    Done,
    /// Records it refers to are not linked yet but their pairs run this way: sync them first.
    Waits(Vec<(ModulePair, String)>),
    /// What is missing, in words.
    Missing(String),
}

/// How a page is decided.
#[derive(Clone, Copy)]
pub(super) struct DecideOpts<'a> {
    /// Retry / Re-create: decide even what looks unchanged or written already.
    pub(super) force: bool,
    /// Records of a bi-directional pair changed on the target side since its cursor, by target
    /// id (conflicts; empty where the direction has none).
    pub(super) target_changes: &'a HashMap<String, Value>,
}

impl DecideOpts<'static> {
    pub(super) fn live() -> Self {
        static NONE: std::sync::LazyLock<HashMap<String, Value>> =
            std::sync::LazyLock::new(HashMap::new);
        DecideOpts {
            force: false,
            target_changes: &NONE,
        }
    }

    pub(super) fn forced() -> Self {
        DecideOpts {
            force: true,
            ..Self::live()
        }
    }
}

/// What a conflict check came to.
pub(super) enum ConflictCheck {
    None,
    /// The target side wins: this row (Not Synced, with the losing version) and nothing else.
    Lost(Box<NewLogRow>),
    /// The source side wins over a target change: write with the fresh SyncToken.
    Won {
        conflict: ConflictRecord,
        fresh_sync_token: Option<String>,
    },
}

/// `domain::mapping::zoho_to_qbo` or `qbo_to_zoho`.
pub(super) type MapFn = fn(
    &Mapping,
    ModulePair,
    &FieldCatalogue,
    &Value,
) -> Result<MappedRecord, domain::mapping::MappingError>;

/// A direction's fixed facts.
pub(super) struct Side {
    pub(super) flow: Flow,
    /// Links are looked up by the source side's id.
    pub(super) link_by_zoho: bool,
    /// The end of a "sync it first" message: which module to enable, which way.
    pub(super) enable_hint: &'static str,
    /// Where a value that does not map is fixed.
    pub(super) source_system: &'static str,
    /// JSON pointers to a source record's id and modified time.
    pub(super) id_at: &'static str,
    pub(super) modified_at: &'static str,
    /// The label of a source field (filters' messages name fields as people see them).
    pub(super) field_label: fn(&FieldCatalogue, &str) -> Option<String>,
    /// Maps a source record toward the target.
    pub(super) map: MapFn,
    /// The fingerprint the link keeps of this side.
    pub(super) stored_hash: fn(&Link) -> &str,
}

impl Side {
    pub(super) fn id(&self, record: &Value) -> Option<String> {
        text(record.pointer(self.id_at))
    }

    pub(super) fn modified(&self, record: &Value) -> Option<String> {
        text(record.pointer(self.modified_at))
    }
}

/// One source record being decided, as the direction's hooks see it.
pub(super) struct RecordCx<'a> {
    pub(super) run: &'a TenantRun<'a>,
    pub(super) pair: ModulePair,
    pub(super) record: &'a Value,
    pub(super) link: Option<&'a Link>,
    pub(super) modified: Option<&'a str>,
    pub(super) opts: &'a DecideOpts<'a>,
}

/// A source record read by id: `None` when it no longer exists.
pub(super) type Fetched = Result<Option<Value>, RunError>;
/// A written page: its links and log rows, to commit.
pub(super) type Written = Result<PageCommit, RunError>;

/// What a direction supplies to the skeleton: its facts, and hooks where it differs.
pub(super) trait FlowSide: Sized + Send + Sync + 'static {
    const SIDE: Side;

    /// The record's name for the log (the link's display name when the record has none).
    fn name(record: &Value, link: Option<&Link>) -> Option<String>;
    /// A new log row for the record (Error until decided otherwise).
    fn row(pair: ModulePair, id: &str, record: &Value, link: Option<&Link>) -> NewLogRow;
    /// The source side's own verdict before mapping: deleted, inactive, unchanged, gated.
    fn screen(_cx: &RecordCx<'_>) -> Screen {
        Screen::Go
    }
    /// Our own write coming back, told apart from a person's change: the link refreshed to
    /// store, if it is our echo (`screen` may have told it by a version already).
    fn echo(_cx: &RecordCx<'_>, _mapped: &MappedRecord, _hash: &str) -> Option<Link> {
        None
    }
    /// A change on both sides since the last sync (one direction decides them for both).
    fn conflict(_cx: &RecordCx<'_>, _row: &NewLogRow) -> ConflictCheck {
        ConflictCheck::None
    }
    /// The direction's last touches on a payload whose references resolved (inventory
    /// accounts of a new item, the ids stamped on the other side); `Err` stops it there.
    fn finish(cx: &RecordCx<'_>, id: &str, mapped: &mut MappedRecord) -> Result<(), String>;
    /// Reads one source record by id (a dependency, a retry).
    fn fetch(
        run: &TenantRun<'_>,
        pair: ModulePair,
        id: &str,
    ) -> impl Future<Output = Fetched> + Send;
    /// Writes a decided page and records the answers in the page commit.
    fn write(
        run: &mut TenantRun<'_>,
        pair: ModulePair,
        page: Decided,
    ) -> impl Future<Output = Written> + Send;
}

/// A record that passed its screen, the filters and mapping, its references not yet resolved.
struct Candidate {
    id: String,
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

impl TenantRun<'_> {
    fn record_cx<'a>(
        &'a self,
        pair: ModulePair,
        record: &'a Value,
        link: Option<&'a Link>,
        modified: Option<&'a str>,
        opts: &'a DecideOpts<'a>,
    ) -> RecordCx<'a> {
        RecordCx {
            run: self,
            pair,
            record,
            link,
            modified,
            opts,
        }
    }

    /// Decides a page, dependencies first: records waiting for records not linked yet are
    /// decided again once those are synced.
    #[tracing::instrument(name = "decide_page", level = "debug", skip_all, fields(tenant_id = %self.tenant_id, pair = pair.key(), flow = F::SIDE.flow.key(), records = records.len()))]
    pub(super) async fn decide_page<F: FlowSide>(
        &mut self,
        pair: ModulePair,
        records: Vec<Value>,
        opts: &DecideOpts<'_>,
    ) -> Result<Decided, RunError> {
        let mut decided = self.decide::<F>(pair, records, opts, true).await?;
        if decided.waiting.is_empty() {
            return Ok(decided);
        }
        let (records, needs) = split_waiting(std::mem::take(&mut decided.waiting));
        self.sync_dependencies::<F>(needs).await?;
        let again = self.decide::<F>(pair, records, opts, false).await?;
        decided.absorb(again);
        Ok(decided)
    }

    /// Syncs the records `needs` names (and what they need in turn, a few levels deep), each
    /// level as small pages through the same path, the deepest first.
    #[tracing::instrument(name = "dependencies", skip_all, fields(tenant_id = %self.tenant_id, flow = F::SIDE.flow.key(), wanted = needs.len()))]
    async fn sync_dependencies<F: FlowSide>(
        &mut self,
        needs: BTreeSet<(ModulePair, String)>,
    ) -> Result<(), RunError> {
        // The records of each level that wait for the next level, to be decided again once it
        // is synced.
        let mut waiting_levels: Vec<(ModulePair, Vec<Value>)> = Vec::new();
        let mut wanted = needs;
        for _ in 0..MAX_DEPENDENCY_DEPTH {
            if wanted.is_empty() {
                break;
            }
            let mut next = BTreeSet::new();
            for (pair, ids) in by_pair(std::mem::take(&mut wanted)) {
                let mut records = Vec::with_capacity(ids.len());
                for id in &ids {
                    if let Some(record) = F::fetch(self, pair, id).await? {
                        records.push(record);
                    }
                }
                let mut decided = self
                    .decide::<F>(pair, records, &DecideOpts::live(), true)
                    .await?;
                let (held, more) = split_waiting(std::mem::take(&mut decided.waiting));
                let commit = F::write(self, pair, decided).await?;
                self.commit(commit).await?;
                if !held.is_empty() {
                    next.extend(more);
                    waiting_levels.push((pair, held));
                }
            }
            wanted = next;
        }
        while let Some((pair, records)) = waiting_levels.pop() {
            let decided = self
                .decide::<F>(pair, records, &DecideOpts::live(), false)
                .await?;
            let commit = F::write(self, pair, decided).await?;
            self.commit(commit).await?;
        }
        Ok(())
    }

    /// Decides a page of source records of `pair`: each ends as a log row, a write, or
    /// nothing (unchanged); with `defer`, a record whose references can be synced first waits
    /// in `Decided::waiting`.
    async fn decide<F: FlowSide>(
        &mut self,
        pair: ModulePair,
        records: Vec<Value>,
        opts: &DecideOpts<'_>,
        defer: bool,
    ) -> Result<Decided, RunError> {
        let side = &F::SIDE;
        let flow = side.flow;
        // A newer version of a record written earlier in this run needs that write's link,
        // which may still be in the page commit being stored.
        if opts.force
            || records
                .iter()
                .any(|r| self.changed_since_synced(pair, flow, r))
        {
            self.settle_pending().await?;
        }
        let ids: Vec<String> = records.iter().filter_map(|r| side.id(r)).collect();
        let links = self
            .store()
            .links(&self.tenant_id, pair, side.link_by_zoho, &ids)
            .await?;
        let mut decided = Decided::default();
        let mut candidates = Vec::with_capacity(records.len());
        for record in records {
            self.stats.read += 1;
            let Some(id) = side.id(&record) else {
                continue;
            };
            let modified = side.modified(&record);
            if !opts.force && self.synced_already(pair, flow, &id, modified.as_deref()) {
                continue;
            }
            let link = links.get(&id).cloned();
            let mut row = F::row(pair, &id, &record, link.as_ref());
            let cx = self.record_cx(pair, &record, link.as_ref(), modified.as_deref(), opts);
            match F::screen(&cx) {
                Screen::Go => {}
                Screen::Skip { unchanged } => {
                    if unchanged {
                        self.stats.skipped_unchanged += 1;
                    }
                    continue;
                }
                Screen::Log(status, message) => {
                    decided.commit.logs.push(kept(row, status, message, record));
                    continue;
                }
            }
            let setup = &self.pairs[&pair];
            let outcome = setup
                .filters
                .get(flow)
                .evaluate_labelled(&record, |field| (side.field_label)(&setup.catalogue, field));
            if !outcome.passed {
                let reason = outcome
                    .reason
                    .unwrap_or_else(|| "The record does not pass the filters.".to_owned());
                decided
                    .commit
                    .logs
                    .push(kept(row, LogStatus::NotValid, reason, record));
                continue;
            }
            let mapped = match (side.map)(&setup.mapping, pair, &setup.catalogue, &record) {
                Ok(mapped) => mapped,
                Err(error) => {
                    row.action = Some(LogAction::Retry);
                    let message = format!(
                        "The record could not be mapped: {error}. Fix the value in {} or the mapping, then Retry.",
                        side.source_system
                    );
                    decided
                        .commit
                        .logs
                        .push(kept(row, LogStatus::Error, message, record));
                    continue;
                }
            };
            let hash = mapped.fingerprint();
            let cx = self.record_cx(pair, &record, link.as_ref(), modified.as_deref(), opts);
            if !opts.force
                && let Some(l) = &link
            {
                if (side.stored_hash)(l) == hash {
                    self.stats.skipped_unchanged += 1;
                    continue;
                }
                if let Some(refreshed) = F::echo(&cx, &mapped, &hash) {
                    self.stats.skipped_unchanged += 1;
                    decided.commit.links.push(refreshed);
                    continue;
                }
            }
            let (conflict, fresh_sync_token) = match F::conflict(&cx, &row) {
                ConflictCheck::None => (None, None),
                ConflictCheck::Lost(row) => {
                    decided.commit.logs.push(*row);
                    continue;
                }
                ConflictCheck::Won {
                    conflict,
                    fresh_sync_token,
                } => (Some(conflict), fresh_sync_token),
            };
            candidates.push(Candidate {
                name: F::name(&record, link.as_ref()),
                id,
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
        let mut known = self
            .reference_ids(candidates.iter().map(|c| &c.mapped), flow, &HashMap::new())
            .await?;
        for candidate in candidates {
            let Candidate {
                id,
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
            if !opts.force && self.synced_already(pair, flow, &id, modified.as_deref()) {
                continue;
            }
            match self.resolve(flow, &mut mapped, &mut known, defer).await? {
                Resolved::Done => {}
                Resolved::Waits(needs) => {
                    decided.waiting.push((record, needs));
                    continue;
                }
                Resolved::Missing(message) => {
                    row.action = Some(LogAction::Retry);
                    let message = format!(
                        "{message}. Sync it first (enable its module {}), then Retry.",
                        side.enable_hint
                    );
                    decided
                        .commit
                        .logs
                        .push(kept(row, LogStatus::Error, message, record));
                    continue;
                }
            }
            let cx = self.record_cx(pair, &record, link.as_ref(), modified.as_deref(), opts);
            if let Err(message) = F::finish(&cx, &id, &mut mapped) {
                row.action = Some(LogAction::Retry);
                decided
                    .commit
                    .logs
                    .push(kept(row, LogStatus::Error, message, record));
                continue;
            }
            decided.writes.push(Prepared {
                source_id: id,
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
    }
}

/// A record read by id: `None` when it no longer exists.
pub(super) fn found(read: Result<Value, ConnectorError>) -> Result<Option<Value>, RunError> {
    match read {
        Ok(record) => Ok(Some(record)),
        Err(ConnectorError::NotFound { .. }) => Ok(None),
        Err(error) => Err(RunError::Remote(error)),
    }
}

/// A row that stops a record: its status and message, and what was read.
fn kept(mut row: NewLogRow, status: LogStatus, message: String, record: Value) -> NewLogRow {
    row.status = status;
    row.message = Some(message);
    if row.details.read.is_null() {
        row.details.read = record;
    }
    row
}

/// Waiting records and the references they wait for.
fn split_waiting(
    waiting: Vec<(Value, Vec<(ModulePair, String)>)>,
) -> (Vec<Value>, BTreeSet<(ModulePair, String)>) {
    let mut needs = BTreeSet::new();
    let records = waiting
        .into_iter()
        .map(|(record, wants)| {
            needs.extend(wants);
            record
        })
        .collect();
    (records, needs)
}

fn by_pair(needs: BTreeSet<(ModulePair, String)>) -> BTreeMap<ModulePair, Vec<String>> {
    let mut out: BTreeMap<ModulePair, Vec<String>> = BTreeMap::new();
    for (pair, id) in needs {
        out.entry(pair).or_default().push(id);
    }
    out
}
