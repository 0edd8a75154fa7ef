//! Zoho → QBO: deciding a page of Zoho records (echoes, filters, mapping, conflicts) and
//! writing them to QBO in journaled batches, then recording what QBO accepted.

use super::flow::{ConflictCheck, Fetched, FlowSide, RecordCx, Side, Written, found};
use super::pipeline::{BatchRequest, BatchesInFlight, QboSending, chunked, join_all};
#[allow(clippy::wildcard_imports)] // the run's shared types and helpers
use super::*;

/// What a create whose name QBO already has comes to.
pub(super) enum SameName {
    /// No active record of that name (the duplicate error stands).
    None,
    /// An unlinked record of that name: linked and updated; QBO's answer.
    Adopted(Result<Value, ConnectorError>),
    /// A record of that name linked to another Zoho record: refused, with this message.
    Taken(String),
}

/// The journal of a create batch, as stored: its items (bid and body) and the source record
/// of each (id, fingerprint, modified time, name), for `recover_batches` to link them.
pub(super) fn journal_entry(bids: &[String], chunk: &[Prepared]) -> String {
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
pub(super) fn stamp_zoho_id(payload: &mut Value, setup: &PairSetup, zoho_id: &str) {
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
pub(super) fn agrees_with(payload: &Value, written: &Value) -> bool {
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
pub(super) fn changed_fields(payload: &Value, last_written: Option<&Value>) -> Value {
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

/// Zoho CRM is the source, QuickBooks Online the target.
pub(super) struct ZohoToQbo;

impl FlowSide for ZohoToQbo {
    const SIDE: Side = Side {
        flow: Flow::ZohoToQbo,
        link_by_zoho: true,
        enable_hint: "Zoho → QuickBooks",
        source_system: "Zoho CRM",
        id_at: "/id",
        modified_at: "/Modified_Time",
        field_label: FieldCatalogue::zoho_label,
        map: zoho_to_qbo,
        stored_hash: |link| &link.zoho_hash,
    };

    fn name(record: &Value, _link: Option<&Link>) -> Option<String> {
        zoho_name(record)
    }

    fn row(pair: ModulePair, id: &str, record: &Value, link: Option<&Link>) -> NewLogRow {
        let mut row = log_row(pair, Flow::ZohoToQbo, LogStatus::Error);
        row.zoho_id = Some(id.to_owned());
        row.record_name = zoho_name(record);
        row.qbo_id = link.map(|l| l.qbo_id.to_string());
        // (`details.read` is filled only when the row is kept: most records go on to a write,
        // whose own row is made from the answer.)
        row
    }

    /// Our own write to Zoho coming back. The time alone proves nothing (Zoho's Modified_Time
    /// has whole seconds, so a person's edit in the second after our write has the same
    /// time): it is our echo only when, besides the time, every value we agreed on is still
    /// the one we wrote. Then the record's exact fingerprint is kept, so the next change is
    /// compared with what Zoho holds.
    fn echo(cx: &RecordCx<'_>, mapped: &MappedRecord, hash: &str) -> Option<Link> {
        let link = cx.link?;
        let ours = link.zoho_modified.is_some()
            && link.zoho_modified.as_deref() == cx.modified
            && link
                .last_written
                .as_ref()
                .is_some_and(|written| agrees_with(&mapped.payload, written));
        ours.then(|| Link {
            zoho_hash: hash.to_owned(),
            ..link.clone()
        })
    }

    /// Bi-directional: changed in QBO too since the last sync? The policy decides. (A customer
    /// made inactive — deleted — in QBO is not a competing edit: the write reports the deleted
    /// counterpart.)
    fn conflict(cx: &RecordCx<'_>, row: &NewLogRow) -> ConflictCheck {
        let Some(l) = cx.link else {
            return ConflictCheck::None;
        };
        let Some(qbo_record) = cx.opts.target_changes.get(l.qbo_id.as_str()) else {
            return ConflictCheck::None;
        };
        if qbo_record.get("Active") == Some(&json!(false)) {
            return ConflictCheck::None;
        }
        let setup = &cx.run.pairs[&cx.pair];
        let qbo_mod = qbo_modified(qbo_record);
        let changed_there = qbo_mod != l.qbo_modified
            && qbo_to_zoho(&setup.mapping, cx.pair, &setup.catalogue, qbo_record)
                .map(|m| m.fingerprint() != l.qbo_hash)
                .unwrap_or(true);
        if !changed_there {
            return ConflictCheck::None;
        }
        let policy = cx.run.settings.conflict_policy;
        let winner = policy.winner(cx.modified.unwrap_or(""), qbo_mod.as_deref().unwrap_or(""));
        if winner == System::Qbo {
            let mut row = row.clone();
            row.status = LogStatus::NotSynced;
            row.message = Some(format!(
                "Changed in both systems since the last sync; the QuickBooks Online version was kept ({}). This Zoho version is in Details.",
                policy.label()
            ));
            row.details.read = cx.record.clone();
            row.details.conflict = Some(ConflictRecord {
                policy,
                winner,
                losing_version: cx.record.clone(),
            });
            return ConflictCheck::Lost(Box::new(row));
        }
        ConflictCheck::Won {
            conflict: ConflictRecord {
                policy,
                winner,
                losing_version: qbo_record.clone(),
            },
            fresh_sync_token: text(qbo_record.get("SyncToken")),
        }
    }

    /// New items get the Inventory Settings' accounts; the Zoho id is stamped on the record's
    /// memo where the mapping leaves it free.
    fn finish(cx: &RecordCx<'_>, id: &str, mapped: &mut MappedRecord) -> Result<(), String> {
        if cx.link.is_none() && cx.pair == ModulePair::ProductsItems {
            cx.run
                .settings
                .inventory
                .apply_to_new_item(&mut mapped.payload, &cx.run.today)
                .map_err(|missing| missing.to_string())?;
        }
        stamp_zoho_id(&mut mapped.payload, &cx.run.pairs[&cx.pair], id);
        Ok(())
    }

    async fn fetch(run: &TenantRun<'_>, pair: ModulePair, id: &str) -> Fetched {
        found(run.zoho.get(pair.zoho_module().api_name(), id).await)
    }

    async fn write(run: &mut TenantRun<'_>, pair: ModulePair, page: Decided) -> Written {
        run.write_qbo(pair, page).await
    }
}

impl TenantRun<'_> {
    /// QBO records of a bi-directional pair changed since the QBO cursor, by id: a Zoho change
    /// to one of them is a conflict.
    pub(super) async fn qbo_changes_for_conflicts(
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

    /// Writes decided records to QBO in batches (creates journaled with a requestid first),
    /// and returns the page commit with links and log rows.
    pub(super) async fn write_qbo(
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
    #[tracing::instrument(name = "send_qbo", level = "debug", skip_all, fields(tenant_id = %self.tenant_id, pair = pair.key(), writes = decided.writes.len()))]
    pub(super) async fn send_qbo(
        &mut self,
        pair: ModulePair,
        decided: Decided,
    ) -> Result<QboSending, RunError> {
        let Decided { commit, writes, .. } = decided;
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
    #[tracing::instrument(name = "finish_qbo", level = "debug", skip_all, fields(tenant_id = %self.tenant_id, pair = sending.pair.key()))]
    pub(super) async fn finish_qbo(&mut self, sending: QboSending) -> Result<PageCommit, RunError> {
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
    pub(super) async fn adopt_same_name(
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
        let rows = self
            .qbo
            .find_by_name(entity, name)
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
    pub(super) async fn retry_stale(
        &self,
        entity: &str,
        write: &Prepared,
    ) -> Result<Value, ConnectorError> {
        let link = write.link.as_ref().expect("updates have links");
        let current = self.qbo.read(entity, &link.qbo_id).await?;
        let token = text(current.get("SyncToken")).unwrap_or_else(|| "0".to_owned());
        let changes = changed_fields(&write.payload, link.last_written.as_ref());
        let changes = changes.as_object().cloned().unwrap_or_default();
        self.qbo
            .sparse_update(entity, &link.qbo_id, &token, &changes, None)
            .await
    }

    pub(super) async fn record_qbo_result(
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
            row.qbo_id = Some(link.qbo_id.to_string());
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
                    zoho_id: write.source_id.into(),
                    qbo_id: qbo_id.into(),
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
                row.status = LogStatus::Error;
                row.message = Some(error.plain_message());
                row.action = Some(LogAction::Retry);
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
    #[tracing::instrument(name = "recover_batches", skip_all, fields(tenant_id = %self.tenant_id, pair = pair.key()))]
    pub(super) async fn recover_batches(&mut self, pair: ModulePair) -> Result<(), RunError> {
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
}
