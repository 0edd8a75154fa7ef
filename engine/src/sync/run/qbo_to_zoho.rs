//! QBO → Zoho: QBO changes read by CDC, decided, and written to Zoho (upserts that never
//! land on a record linked to something else), then recorded.

use super::flow::{DecideOpts, Fetched, FlowSide, RecordCx, Screen, Side, Written, found};
use super::pipeline::chunked;
#[allow(clippy::wildcard_imports)] // the run's shared types and helpers
use super::*;

/// QuickBooks Online is the source, Zoho CRM the target.
pub(super) struct QboToZoho;

impl FlowSide for QboToZoho {
    const SIDE: Side = Side {
        flow: Flow::QboToZoho,
        link_by_zoho: false,
        enable_hint: "QuickBooks → Zoho",
        source_system: "QuickBooks Online",
        id_at: "/Id",
        modified_at: "/MetaData/LastUpdatedTime",
        field_label: FieldCatalogue::qbo_label,
        map: qbo_to_zoho,
        stored_hash: |link| &link.qbo_hash,
    };

    fn name(record: &Value, link: Option<&Link>) -> Option<String> {
        qbo_name(record).or_else(|| link.and_then(|l| l.display_name.clone()))
    }

    fn row(pair: ModulePair, id: &str, record: &Value, link: Option<&Link>) -> NewLogRow {
        let mut row = log_row(pair, Flow::QboToZoho, LogStatus::Error);
        row.qbo_id = Some(id.to_owned());
        row.zoho_id = link.map(|l| l.zoho_id.to_string());
        row.record_name = Self::name(record, link);
        row.details.qbo_id = Some(id.to_owned());
        row.details.read = record.clone();
        row
    }

    fn screen(cx: &RecordCx<'_>) -> Screen {
        let (record, link) = (cx.record, cx.link);
        // Name-list records are never deleted in QBO, only made inactive (and renamed).
        let gone = if record.get("Active") == Some(&json!(false)) {
            Some("Deleted (made inactive) in QuickBooks Online; the Zoho CRM record was kept.")
        } else if record.get("status").and_then(Value::as_str) == Some("Deleted") {
            Some("Deleted in QuickBooks Online; the Zoho CRM record was kept.")
        } else {
            None
        };
        if let Some(message) = gone {
            return match link {
                Some(_) => Screen::Log(LogStatus::NotSynced, message.to_owned()),
                None => Screen::Skip { unchanged: false },
            };
        }
        // Unchanged since we wrote or read it: QBO moves the SyncToken on every change, so the
        // same token is the same version (a time of ours proves nothing: a person's edit in
        // the second after our write has the same LastUpdatedTime).
        if !cx.opts.force
            && let Some(l) = link
            && l.qbo_sync_token.is_some()
            && l.qbo_sync_token == text(record.get("SyncToken"))
        {
            return Screen::Skip { unchanged: true };
        }
        if cx.pair == ModulePair::ProductsItems {
            let item_type = record
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("Inventory");
            if !cx.run.settings.item_types.allows(item_type) {
                if link.is_none() && !cx.opts.force {
                    return Screen::Skip { unchanged: false };
                }
                return Screen::Log(
                    LogStatus::NotSynced,
                    format!(
                        "{item_type} items are not synced to Zoho CRM; allow them in Settings → Inventory Settings."
                    ),
                );
            }
        }
        Screen::Go
    }

    /// The QBO id is stamped on the Zoho record when the org has the field (upserts key on it).
    fn finish(cx: &RecordCx<'_>, id: &str, mapped: &mut MappedRecord) -> Result<(), String> {
        if cx.run.pairs[&cx.pair].stamps_qbo_id
            && let Some(object) = mapped.payload.as_object_mut()
        {
            object.insert(ZOHO_QBO_ID_FIELD.into(), json!(id));
        }
        Ok(())
    }

    async fn fetch(run: &TenantRun<'_>, pair: ModulePair, id: &str) -> Fetched {
        found(run.qbo.read(run.pairs[&pair].entity.name(), id).await)
    }

    async fn write(run: &mut TenantRun<'_>, pair: ModulePair, page: Decided) -> Written {
        run.write_zoho(pair, page).await
    }
}

impl TenantRun<'_> {
    #[tracing::instrument(name = "qbo_to_zoho", skip_all, fields(tenant_id = %self.tenant_id, pair = pair.key()))]
    pub(super) async fn qbo_to_zoho_live(&mut self, pair: ModulePair) -> Result<(), RunError> {
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
    pub(super) async fn process_qbo_records(
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
            let decided = self
                .decide_page::<QboToZoho>(pair, chunk, &DecideOpts::live())
                .await?;
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

    #[tracing::instrument(name = "write_zoho", level = "debug", skip_all, fields(tenant_id = %self.tenant_id, pair = pair.key(), writes = decided.writes.len()))]
    pub(super) async fn write_zoho(
        &mut self,
        pair: ModulePair,
        decided: Decided,
    ) -> Result<PageCommit, RunError> {
        let Decided {
            mut commit, writes, ..
        } = decided;
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
    pub(super) async fn refuse_taken_codes(
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

    pub(super) fn record_zoho_result(
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
            row.zoho_id = Some(link.zoho_id.to_string());
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
                    zoho_id: written.id.into(),
                    qbo_id: write.source_id.as_str().into(),
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
                if matches!(error, ConnectorError::NotFound { .. }) && write.link.is_some() {
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
}
