//! Work beside the live flows: Retry and Re-create requests from the log, and historical
//! backfills taken a bounded slice per run.

use super::flow::{DecideOpts, FlowSide};
use super::pipeline::chunked;
use super::qbo_to_zoho::QboToZoho;
use super::zoho_to_qbo::ZohoToQbo;
#[allow(clippy::wildcard_imports)] // the run's shared types and helpers
use super::*;

impl TenantRun<'_> {
    #[tracing::instrument(name = "retries", skip_all, fields(tenant_id = %self.tenant_id, pair = pair.key(), flow = flow.key()))]
    pub(super) async fn retries(&mut self, pair: ModulePair, flow: Flow) -> Result<(), RunError> {
        let pending = self
            .store()
            .pending_retries(&self.tenant_id, pair, flow)
            .await?;
        for retry in pending {
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
                                unlink: vec![(pair, link.zoho_id.to_string())],
                                ..PageCommit::default()
                            },
                        )
                        .await?;
                }
            }
            let mut commit = match flow {
                Flow::ZohoToQbo => self.retry_one::<ZohoToQbo>(pair, &retry.source_id).await?,
                Flow::QboToZoho => self.retry_one::<QboToZoho>(pair, &retry.source_id).await?,
            };
            commit
                .retries_done
                .push((pair, flow, retry.source_id.clone()));
            self.commit(commit).await?;
        }
        Ok(())
    }

    /// One requested Retry or Re-create: the record read again and synced whatever it looks
    /// like (forced), or a row saying it no longer exists.
    async fn retry_one<F: FlowSide>(
        &mut self,
        pair: ModulePair,
        source_id: &str,
    ) -> Result<PageCommit, RunError> {
        let Some(record) = F::fetch(self, pair, source_id).await? else {
            let mut row = log_row(pair, F::SIDE.flow, LogStatus::NotSynced);
            match F::SIDE.flow {
                Flow::ZohoToQbo => row.zoho_id = Some(source_id.to_owned()),
                Flow::QboToZoho => row.qbo_id = Some(source_id.to_owned()),
            }
            row.message = Some(format!(
                "The {} record no longer exists; nothing to retry.",
                F::SIDE.source_system
            ));
            return Ok(PageCommit {
                logs: vec![row],
                ..PageCommit::default()
            });
        };
        let decided = self
            .decide_page::<F>(pair, vec![record], &DecideOpts::forced())
            .await?;
        F::write(self, pair, decided).await
    }

    /// Works on the first active backfill for a bounded number of pages; returns whether any
    /// backfill is left.
    #[tracing::instrument(name = "backfill", skip_all, fields(tenant_id = %self.tenant_id, pair = tracing::field::Empty, flow = tracing::field::Empty))]
    pub(super) async fn backfill_slice(&mut self) -> Result<bool, RunError> {
        let progress = self.engine.backfills.progress(&self.tenant_id).await?;
        let Some(job) = progress.into_iter().find(|p| p.status.is_active()) else {
            return Ok(false);
        };
        let (pair, flow) = (job.pair, job.flow);
        tracing::Span::current()
            .record("pair", pair.key())
            .record("flow", flow.key());
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
    pub(super) async fn estimate_zoho(&self, pair: ModulePair, since_ms: i64) -> Option<u64> {
        let since = DateTime::<Utc>::from_timestamp_millis(since_ms)?;
        let module = pair.zoho_module().api_name();
        self.zoho.count_modified_since(module, since).await.ok()
    }
}
