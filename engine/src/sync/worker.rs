//! The scheduler's worker: claims due tenants from the lease table ([`Scheduler`]), runs each
//! through a [`TenantRunner`] (the sync run), keeps the lease alive while it runs, and records
//! the outcome and the next run time when it ends.
//!
//! Several workers (in `zqsync serve` and in any number of `zqsync worker` processes) share one
//! database; the lease table makes sure a tenant is held by one of them at a time. A worker
//! that loses a lease (it stalled longer than the lease and another worker took the tenant)
//! stops that run instead of finishing it twice.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use super::config::SyncConfigStore;
use super::run::RunStats;
use super::schedule::{Claim, RunOutcome, Scheduler};

/// What a run came to: the one result type of a run, for the worker, the scheduler's record,
/// the log line and the bench.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub outcome: RunOutcome,
    /// A sentence for the Schedule tab (never a token or personal data).
    pub message: Option<String>,
    /// A backfill or a rate-limited remainder is pending: come back soon
    /// ([`WorkerConfig::more_work_delay`]) instead of after the tenant's interval.
    pub more_work: bool,
    /// What the run did (records read, synced, failed; where the time went).
    pub stats: RunStats,
}

impl RunReport {
    /// A report of `outcome` with nothing counted (runs that did no records' work).
    pub fn of(outcome: RunOutcome, message: Option<String>, more_work: bool) -> Self {
        Self {
            outcome,
            message,
            more_work,
            stats: RunStats::default(),
        }
    }
}

/// One sync run for one claimed tenant. Implemented by the sync engine; tests use their own.
///
/// The future is boxed by hand (no async-trait): `Box::pin(async move { ... })`.
pub trait TenantRunner: Send + Sync + 'static {
    fn run<'a>(&'a self, claim: &'a Claim) -> Pin<Box<dyn Future<Output = RunReport> + Send + 'a>>;
}

impl std::fmt::Debug for dyn TenantRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantRunner")
    }
}

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The name written into the lease table: unique per worker ([`WorkerConfig::owner_name`]).
    pub owner: String,
    /// How long a claim holds a tenant without renewal; renewed every third of it while the run
    /// goes on (a heartbeat), so only a crashed or stalled worker lets it expire, and another
    /// worker takes a killed worker's tenants over within one lease.
    pub lease: Duration,
    /// How often to look for due tenants when idle.
    pub poll_interval: Duration,
    /// Tenants run at once by this worker.
    pub concurrency: usize,
    /// When the next run comes after a run that reported `more_work`.
    pub more_work_delay: Duration,
}

impl WorkerConfig {
    /// 30 seconds, renewed every 10: a killed worker's tenants run again within a minute.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
    pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
    pub const DEFAULT_CONCURRENCY: usize = 2;
    pub const DEFAULT_MORE_WORK_DELAY: Duration = Duration::from_secs(5);

    /// `host-pid-random`: tells people reading the lease table where a run happens, and stays
    /// unique for several workers in one process.
    pub fn owner_name() -> String {
        let host = hostname::get()
            .ok()
            .and_then(|name| name.into_string().ok())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        format!(
            "{host}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            owner: Self::owner_name(),
            lease: Self::DEFAULT_LEASE,
            poll_interval: Self::DEFAULT_POLL_INTERVAL,
            concurrency: Self::DEFAULT_CONCURRENCY,
            more_work_delay: Self::DEFAULT_MORE_WORK_DELAY,
        }
    }
}

/// What a worker's run of one claimed tenant came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimResult {
    /// The run ended and its outcome is recorded.
    Finished {
        tenant_id: crate::TenantId,
        outcome: RunOutcome,
    },
    /// The lease was taken over while the run went on; the run was stopped, nothing recorded.
    LeaseLost { tenant_id: crate::TenantId },
}

#[derive(Debug, Clone)]
pub struct Worker {
    scheduler: Scheduler,
    config_store: SyncConfigStore,
    runner: Arc<dyn TenantRunner>,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(
        scheduler: Scheduler,
        config_store: SyncConfigStore,
        runner: Arc<dyn TenantRunner>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            scheduler,
            config_store,
            runner,
            config,
        }
    }

    pub fn owner(&self) -> &str {
        &self.config.owner
    }

    /// Runs until `shutdown` turns true, then waits for the tenants still running.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(
            owner = %self.config.owner,
            concurrency = self.config.concurrency,
            "sync worker started"
        );
        self.schedule_active_tenants().await;
        let mut running = JoinSet::new();
        while !*shutdown.borrow() {
            let idle = match self.fill(&mut running).await {
                Ok(()) => running.len() < self.slots(),
                Err(error) => {
                    tracing::warn!(%error, "could not claim due tenants; trying again shortly");
                    true
                }
            };
            tokio::select! {
                Some(joined) = running.join_next(), if !running.is_empty() => log_join(joined),
                () = tokio::time::sleep(self.config.poll_interval), if idle => {}
                changed = shutdown.changed() => {
                    // The sender is gone: nobody can ask us to stop any more, so stop now.
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        if !running.is_empty() {
            tracing::info!(
                running = running.len(),
                "sync worker stopping: waiting for running tenants"
            );
        }
        while let Some(joined) = running.join_next().await {
            log_join(joined);
        }
        tracing::info!(owner = %self.config.owner, "sync worker stopped");
    }

    /// Claims and runs tenants until none is due and none is running; returns what each run
    /// came to, in completion order. For tests and `zqsync bench`.
    pub async fn run_once_until_idle(&self) -> Result<Vec<ClaimResult>, sqlx::Error> {
        self.schedule_active_tenants().await;
        let mut running = JoinSet::new();
        let mut results = Vec::new();
        loop {
            if let Err(error) = self.fill(&mut running).await {
                // Let the runs already going finish and record their outcome first.
                while running.join_next().await.is_some() {}
                return Err(error);
            }
            match running.join_next().await {
                None => return Ok(results),
                Some(Ok(result)) => results.push(result),
                Some(Err(error)) => tracing::error!(%error, "a sync run supervisor failed"),
            }
        }
    }

    fn slots(&self) -> usize {
        self.config.concurrency.max(1)
    }

    async fn schedule_active_tenants(&self) {
        match self.scheduler.ensure_active_tenants().await {
            Ok(0) => {}
            Ok(added) => tracing::info!(added, "active tenants put on the schedule"),
            Err(error) => tracing::warn!(%error, "could not put active tenants on the schedule"),
        }
    }

    /// Claims due tenants until every slot is busy or nothing more is due.
    async fn fill(&self, running: &mut JoinSet<ClaimResult>) -> Result<(), sqlx::Error> {
        while running.len() < self.slots() {
            let Some(claim) = self
                .scheduler
                .claim(&self.config.owner, self.config.lease)
                .await?
            else {
                break;
            };
            let span = tracing::info_span!(
                "sync_run",
                tenant_id = %claim.tenant_id,
                requested = claim.requested
            );
            running.spawn(self.clone().supervise(claim).instrument(span));
        }
        Ok(())
    }

    /// Runs one claimed tenant: the run in a task of its own (so a panic is caught), the lease
    /// renewed alongside, the outcome recorded at the end.
    async fn supervise(self, claim: Claim) -> ClaimResult {
        let started = Instant::now();
        let runner = self.runner.clone();
        let run_claim = claim.clone();
        let mut run = tokio::spawn(
            async move { runner.run(&run_claim).await }.instrument(tracing::Span::current()),
        );
        let renew_every = (self.config.lease / 3).max(Duration::from_millis(10));
        let report = loop {
            tokio::select! {
                joined = &mut run => break match joined {
                    Ok(report) => report,
                    Err(error) => {
                        tracing::error!(panicked = error.is_panic(), "the sync run did not complete");
                        RunReport::of(
                            RunOutcome::Failed,
                            Some(
                                "The sync run stopped on an internal error; it runs again at the next interval."
                                    .to_owned(),
                            ),
                            false,
                        )
                    }
                },
                () = tokio::time::sleep(renew_every) => {
                    match self.scheduler.renew(&claim, self.config.lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            run.abort();
                            let _ = run.await;
                            tracing::warn!("lease lost to another worker: this run was stopped");
                            metrics::counter!("zqsync_sync_runs_total", "outcome" => "lease_lost")
                                .increment(1);
                            log_finished("lease_lost", false, &RunStats::default(), started.elapsed());
                            return ClaimResult::LeaseLost { tenant_id: claim.tenant_id };
                        }
                        // The lease is still ours until it expires; the next renewal may work.
                        Err(error) => tracing::warn!(%error, "could not renew the lease"),
                    }
                }
            }
        };
        let next_in = if report.more_work {
            self.config.more_work_delay
        } else {
            match self.config_store.settings(&claim.tenant_id).await {
                Ok(settings) => Duration::from_secs(settings.interval.seconds()),
                Err(error) => {
                    tracing::warn!(%error, "could not read the sync interval; using the default");
                    Duration::from_secs(domain::settings::SyncInterval::DEFAULT.seconds())
                }
            }
        };
        let elapsed = started.elapsed();
        if let Err(error) = self
            .scheduler
            .finish(&claim, report.outcome, report.message.as_deref(), next_in)
            .await
        {
            // The lease expires on its own and the tenant runs again then.
            tracing::warn!(%error, "could not record the run's outcome");
        }
        metrics::counter!("zqsync_sync_runs_total", "outcome" => report.outcome.key()).increment(1);
        metrics::histogram!("zqsync_sync_run_duration_seconds").record(elapsed.as_secs_f64());
        log_finished(
            report.outcome.key(),
            report.more_work,
            &report.stats,
            elapsed,
        );
        ClaimResult::Finished {
            tenant_id: claim.tenant_id,
            outcome: report.outcome,
        }
    }
}

/// The one line every supervised run ends with, whatever became of it (inside the run's span,
/// which names the tenant): log searches count runs by it.
fn log_finished(outcome: &str, more_work: bool, stats: &RunStats, elapsed: Duration) {
    tracing::info!(
        outcome,
        more_work,
        read = stats.read,
        synced = stats.synced,
        errors = stats.errors,
        not_valid = stats.not_valid,
        elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        "sync run finished"
    );
}

fn log_join(joined: Result<ClaimResult, tokio::task::JoinError>) {
    if let Err(error) = joined {
        tracing::error!(%error, "a sync run supervisor failed");
    }
}
