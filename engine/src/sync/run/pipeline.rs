//! The Zoho → QBO walk as a pipeline: the next Zoho page is read while this one is decided,
//! a page's QBO batches are in flight while the next is decided, and a page's commit runs in
//! the background; the walk's end (cursor or backfill checkpoint) moves in the page's commit.

use super::flow::DecideOpts;
use super::zoho_to_qbo::ZohoToQbo;
#[allow(clippy::wildcard_imports)] // the run's shared types and helpers
use super::*;
use std::future::Future;
use std::pin::Pin;

/// A Zoho page being read by a task of its own; dropped unread (the walk failed), the read is
/// stopped.
pub(super) struct PageRead(pub(super) tokio::task::JoinHandle<Result<RecordPage, ConnectorError>>);

impl PageRead {
    pub(super) async fn wait(&mut self) -> Result<RecordPage, RunError> {
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
pub(super) enum PageEnd {
    /// A live flow: the cursor after the page.
    Cursor(Cursor),
    /// A backfill: the newest modified time of the page, and how many records it read.
    Checkpoint { at: i64, done: u64 },
    /// A page with no dated records: nothing moves.
    Nothing,
}

/// A page's QBO writes on their way (`send_qbo`): the creates in chunks with their journaled
/// requestids, the updates in chunks, and the task sending them all.
pub(super) struct QboSending {
    pub(super) pair: ModulePair,
    /// The rows decided before writing (Not Valid, errors); the writes' rows join them.
    pub(super) commit: PageCommit,
    pub(super) creates: Vec<(Vec<Prepared>, String)>,
    pub(super) updates: Vec<Vec<Prepared>>,
    pub(super) answers: BatchesInFlight,
}

impl QboSending {
    /// The source records being written.
    pub(super) fn source_ids(&self) -> impl Iterator<Item = &str> {
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
pub(super) struct BatchesInFlight(
    pub(super) tokio::task::JoinHandle<(Vec<BatchRequest>, Vec<BatchAnswer>)>,
);

/// A batch's items, and the requestid of a create batch.
pub(super) type BatchRequest = (Vec<BatchItem>, Option<String>);

pub(super) type BatchAnswer = Result<Vec<BatchOutcome>, ConnectorError>;

impl BatchesInFlight {
    pub(super) async fn wait(&mut self) -> Result<(Vec<BatchRequest>, Vec<BatchAnswer>), RunError> {
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

/// Polls futures together and returns their outputs in order (a page's QBO batches).
pub(super) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
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

pub(super) fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
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

impl TenantRun<'_> {
    #[tracing::instrument(name = "zoho_to_qbo", skip_all, fields(tenant_id = %self.tenant_id, pair = pair.key()))]
    pub(super) async fn zoho_to_qbo_live(&mut self, pair: ModulePair) -> Result<(), RunError> {
        let cursor = self.live_cursor(pair, Flow::ZohoToQbo).await?;
        self.walk_zoho(pair, cursor, None, true).await.map(|_| ())
    }

    /// Walks Zoho records of `pair` modified since `start` (records it covers are skipped).
    /// `page_budget` limits pages (backfills); `live` stores the cursor. Returns (records seen,
    /// newest modified, finished).
    pub(super) async fn walk_zoho(
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

    pub(super) async fn walk_zoho_pages(
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
            let opts = DecideOpts {
                force: false,
                target_changes: &conflicts,
            };
            let decided = self.decide_page::<ZohoToQbo>(pair, records, &opts).await;
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
                let more = self.decide_page::<ZohoToQbo>(pair, waiting, &opts).await?;
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
    pub(super) async fn commit_page(
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
    pub(super) async fn stop_walk<T>(
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
}
