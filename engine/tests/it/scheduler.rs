//! The scheduler's lease table and its worker against a real database: claim order, who is
//! skipped, lease expiry and takeover, what `finish` records, the worker's bookkeeping
//! (interval, more work, panics, lost leases, graceful stop), and two workers racing for 50
//! due tenants with separate pools (separate "processes") on one database.
//!
//! The database is a SQLite file by default; `ZQSYNC_TEST_DATABASE=postgres` (with
//! `ZQSYNC_TEST_POSTGRES_URL`) runs the same tests on PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::DateTime;
use domain::settings::{SyncInterval, SyncSettings};
use engine::sync::{
    Claim, ClaimResult, RunOutcome, RunReport, RunRequest, Scheduler, SyncConfigStore,
    TenantRunner, Worker, WorkerConfig,
};
use engine::{Clock as _, Db, ManualClock};

const LEASE: Duration = Duration::from_secs(300);

/// A fresh, migrated database (a file in a temporary directory, or a new Postgres database)
/// and a clock that moves only when told.
struct World {
    db: Db,
    url: String,
    clock: Arc<ManualClock>,
    database: Option<test_support::FreshDatabase>,
}

impl World {
    async fn start() -> World {
        let database = test_support::fresh_database().await;
        let url = database.url.clone();
        let db = Db::connect(&url).await.expect("database");
        db.migrate().await.expect("migrations");
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("a valid instant");
        World {
            db,
            url,
            clock: Arc::new(ManualClock::new(start)),
            database: Some(database),
        }
    }

    fn scheduler(&self) -> Scheduler {
        Scheduler::new(self.db.clone(), self.clock.clone())
    }

    fn config_store(&self) -> SyncConfigStore {
        SyncConfigStore::new(self.db.clone(), self.clock.clone())
    }

    fn worker(&self, runner: Arc<dyn TenantRunner>, config: WorkerConfig) -> Worker {
        Worker::new(self.scheduler(), self.config_store(), runner, config)
    }

    fn advance(&self, by: Duration) {
        self.clock
            .advance(chrono::Duration::from_std(by).expect("a short duration"));
    }

    async fn exec(&self, sql: &str, tenant_id: &str) {
        engine::with_pool!(&self.db, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(tenant_id)
                .execute(pool)
                .await
                .expect(sql);
        });
    }

    /// A tenant; `active` writes its integration switch (None: never touched).
    async fn tenant(&self, tenant_id: &str, active: Option<bool>) {
        self.exec(
            "INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, 'Company', 'freemium', 0)",
            tenant_id,
        )
        .await;
        match active {
            Some(true) => {
                self.exec(
                    "INSERT INTO integration_settings (tenant_id, active, updated_at) VALUES ($1, TRUE, 0)",
                    tenant_id,
                )
                .await;
            }
            Some(false) => {
                self.exec(
                    "INSERT INTO integration_settings (tenant_id, active, updated_at) VALUES ($1, FALSE, 0)",
                    tenant_id,
                )
                .await;
            }
            None => {}
        }
    }

    async fn connection(&self, tenant_id: &str, provider: &str, status: &str) {
        engine::with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO connections (tenant_id, provider, status, refresh_token, connected_at, updated_at) \
                 VALUES ($1, $2, $3, 'sealed', 0, 0)",
            )
            .bind(tenant_id)
            .bind(provider)
            .bind(status)
            .execute(pool)
            .await
            .expect("connection row");
        });
    }

    async fn runs(&self, tenant_id: &str) -> i64 {
        self.scheduler()
            .status(tenant_id)
            .await
            .expect("status")
            .runs
    }

    async fn finish(mut self) {
        self.db.close().await;
        if let Some(database) = self.database.take() {
            database.drop_it().await;
        }
    }
}

fn tenant_id(n: usize) -> String {
    format!("0195f3a0-0000-7000-8000-{n:012}")
}

async fn claimed(scheduler: &Scheduler, owner: &str) -> Option<String> {
    scheduler
        .claim(owner, LEASE)
        .await
        .expect("claim")
        .map(|claim| claim.tenant_id.into_string())
}

#[tokio::test]
async fn sync_now_first_then_the_longest_overdue() {
    let world = World::start().await;
    let scheduler = world.scheduler();
    let (a, b, c) = (tenant_id(1), tenant_id(2), tenant_id(3));
    for tenant in [&a, &b, &c] {
        world.tenant(tenant, Some(true)).await;
    }
    // Due since: c the longest, then a, then b.
    scheduler.ensure(&c).await.expect("ensure");
    world.advance(Duration::from_secs(60));
    scheduler.ensure(&a).await.expect("ensure");
    world.advance(Duration::from_secs(60));
    scheduler.ensure(&b).await.expect("ensure");
    // ensure leaves an existing row alone: c stays the longest overdue.
    scheduler.ensure(&c).await.expect("ensure again");
    // "Sync now" on b, the least overdue, puts it first.
    scheduler.request_run(&b).await.expect("sync now");

    let first = scheduler
        .claim("w1", LEASE)
        .await
        .expect("claim")
        .expect("b is due");
    assert_eq!(first.tenant_id, b);
    assert!(first.requested, "started by Sync now");
    assert_eq!(first.owner, "w1");
    assert_eq!(first.started_at, world.clock.now_millis());
    assert_eq!(claimed(&scheduler, "w2").await.as_deref(), Some(c.as_str()));
    assert_eq!(claimed(&scheduler, "w1").await.as_deref(), Some(a.as_str()));
    assert_eq!(
        claimed(&scheduler, "w2").await,
        None,
        "every due tenant is held"
    );
    for tenant in [&a, &b, &c] {
        let status = scheduler.status(tenant).await.expect("status");
        assert!(status.running);
        assert_eq!(status.runs, 1);
    }
    world.finish().await;
}

#[tokio::test]
async fn inactive_and_reconnect_tenants_are_skipped() {
    let world = World::start().await;
    let scheduler = world.scheduler();
    let ready = tenant_id(1);
    let switched_off = tenant_id(2);
    let never_activated = tenant_id(3);
    let needs_reconnect = tenant_id(4);
    let not_scheduled = tenant_id(5);
    world.tenant(&ready, Some(true)).await;
    world.tenant(&switched_off, Some(false)).await;
    world.tenant(&never_activated, None).await;
    world.tenant(&needs_reconnect, Some(true)).await;
    world.tenant(&not_scheduled, Some(false)).await;
    world.connection(&ready, "zoho", "connected").await;
    world.connection(&ready, "qbo", "connected").await;
    world
        .connection(&needs_reconnect, "zoho", "connected")
        .await;
    world
        .connection(&needs_reconnect, "qbo", "needs_reconnect")
        .await;
    for tenant in [&ready, &switched_off, &never_activated, &needs_reconnect] {
        scheduler.ensure(tenant).await.expect("ensure");
        scheduler.request_run(tenant).await.expect("sync now");
    }

    assert_eq!(
        claimed(&scheduler, "w1").await.as_deref(),
        Some(ready.as_str())
    );
    assert_eq!(claimed(&scheduler, "w1").await, None);

    // Reconnected and switched on: both become claimable.
    world
        .exec(
            "UPDATE connections SET status = 'connected' WHERE tenant_id = $1",
            &needs_reconnect,
        )
        .await;
    world
        .exec(
            "UPDATE integration_settings SET active = TRUE WHERE tenant_id = $1",
            &switched_off,
        )
        .await;
    let mut now_due: Vec<String> = Vec::new();
    while let Some(tenant) = claimed(&scheduler, "w1").await {
        now_due.push(tenant);
    }
    now_due.sort();
    assert_eq!(now_due, vec![switched_off.clone(), needs_reconnect.clone()]);

    // Start-up puts active tenants on the schedule, once.
    world
        .exec(
            "UPDATE integration_settings SET active = TRUE WHERE tenant_id = $1",
            &not_scheduled,
        )
        .await;
    assert_eq!(scheduler.ensure_active_tenants().await.expect("ensure"), 1);
    assert_eq!(scheduler.ensure_active_tenants().await.expect("ensure"), 0);
    assert_eq!(
        claimed(&scheduler, "w1").await.as_deref(),
        Some(not_scheduled.as_str())
    );
    world.finish().await;
}

#[tokio::test]
async fn switching_on_makes_the_tenant_due_now_even_with_a_saved_schedule() {
    let world = World::start().await;
    let scheduler = world.scheduler();
    let tenant = tenant_id(1);
    world.tenant(&tenant, Some(true)).await;
    // The schedule was saved before the integration was switched on: first run 15 minutes out.
    scheduler
        .set_interval(&tenant, Duration::from_secs(15 * 60))
        .await
        .expect("interval");
    assert_eq!(claimed(&scheduler, "w1").await, None, "not due yet");
    scheduler.due_now(&tenant).await.expect("due now");
    assert_eq!(
        scheduler.status(&tenant).await.expect("status").next_run_at,
        Some(world.clock.now_millis())
    );
    assert_eq!(
        claimed(&scheduler, "w1").await.as_deref(),
        Some(tenant.as_str())
    );
    // An earlier due time is kept, and a tenant never scheduled is put on the schedule.
    let other = tenant_id(2);
    world.tenant(&other, Some(true)).await;
    scheduler.ensure(&other).await.expect("ensure");
    let due_at = world.clock.now_millis();
    world.advance(Duration::from_secs(60));
    scheduler.due_now(&other).await.expect("due now");
    assert_eq!(
        scheduler.status(&other).await.expect("status").next_run_at,
        Some(due_at)
    );
    let fresh = tenant_id(3);
    world.tenant(&fresh, Some(true)).await;
    scheduler.due_now(&fresh).await.expect("due now");
    assert!(
        scheduler
            .status(&fresh)
            .await
            .expect("status")
            .next_run_at
            .is_some()
    );
    world.finish().await;
}

#[tokio::test]
async fn an_expired_lease_makes_a_crashed_tenant_due_again() {
    let world = World::start().await;
    let scheduler = world.scheduler();
    let tenant = tenant_id(1);
    world.tenant(&tenant, Some(true)).await;
    scheduler.ensure(&tenant).await.expect("ensure");

    // w1 claims and "crashes": it never renews nor finishes.
    let crashed = scheduler
        .claim("w1", LEASE)
        .await
        .expect("claim")
        .expect("due");
    world.advance(LEASE - Duration::from_millis(1));
    assert_eq!(claimed(&scheduler, "w2").await, None, "still leased to w1");
    world.advance(Duration::from_millis(2));
    let taken = scheduler
        .claim("w2", LEASE)
        .await
        .expect("claim")
        .expect("the lease expired");
    assert_eq!(taken.tenant_id, tenant);
    assert_eq!(world.runs(&tenant).await, 2);

    // w1 wakes up: its lease is gone, and its late finish changes nothing.
    assert!(!scheduler.renew(&crashed, LEASE).await.expect("renew"));
    scheduler
        .finish(&crashed, RunOutcome::Ok, None, Duration::from_secs(900))
        .await
        .expect("finish");
    let status = scheduler.status(&tenant).await.expect("status");
    assert!(status.running, "w2 still holds it");
    assert_eq!(status.last_outcome, None);
    assert!(scheduler.renew(&taken, LEASE).await.expect("renew"));
    world.finish().await;
}

#[tokio::test]
async fn renewal_keeps_the_tenant_and_finish_sets_the_next_run() {
    let world = World::start().await;
    let scheduler = world.scheduler();
    let tenant = tenant_id(1);
    world.tenant(&tenant, Some(true)).await;
    assert_eq!(
        scheduler.request_run(&tenant).await.expect("sync now"),
        RunRequest::Queued,
        "nothing runs: the request waits for a worker"
    );

    let claim = scheduler
        .claim("w1", LEASE)
        .await
        .expect("claim")
        .expect("due");
    assert!(claim.requested);
    assert!(
        !scheduler.status(&tenant).await.expect("status").requested,
        "the run took the request"
    );
    // Renewed before expiry, the lease outlives its first term.
    world.advance(LEASE / 2);
    assert!(scheduler.renew(&claim, LEASE).await.expect("renew"));
    world.advance(LEASE / 2 + Duration::from_secs(1));
    assert_eq!(claimed(&scheduler, "w2").await, None, "renewed lease holds");

    // Sync now pressed while the run goes on: the answer says one more follows it, and the
    // request stays after the finish. Pressed again, it is still one run, not two.
    for _ in 0..2 {
        assert_eq!(
            scheduler.request_run(&tenant).await.expect("sync now"),
            RunRequest::AfterCurrentRun
        );
        assert!(scheduler.status(&tenant).await.expect("status").requested);
        assert_eq!(
            claimed(&scheduler, "w2").await,
            None,
            "never a second run at the same time"
        );
    }
    let interval = Duration::from_secs(15 * 60);
    scheduler
        .finish(
            &claim,
            RunOutcome::Partial,
            Some("QuickBooks is busy"),
            interval,
        )
        .await
        .expect("finish");
    let finished_at = world.clock.now_millis();
    let status = scheduler.status(&tenant).await.expect("status");
    assert_eq!(status.next_run_at, Some(finished_at + 15 * 60 * 1000));
    assert!(
        status.requested,
        "the Sync now pressed during the run waits"
    );
    assert!(!status.running);
    assert_eq!(status.last_started_at, Some(claim.started_at));
    assert_eq!(status.last_finished_at, Some(finished_at));
    assert_eq!(status.last_outcome, Some(RunOutcome::Partial));
    assert_eq!(status.last_message.as_deref(), Some("QuickBooks is busy"));

    // So it runs again at once; that run consumes the request.
    let again = scheduler
        .claim("w2", LEASE)
        .await
        .expect("claim")
        .expect("requested again");
    assert!(again.requested);
    world.advance(Duration::from_secs(1));
    scheduler
        .finish(&again, RunOutcome::Ok, None, interval)
        .await
        .expect("finish");
    let status = scheduler.status(&tenant).await.expect("status");
    assert!(!status.requested);
    assert_eq!(status.last_outcome, Some(RunOutcome::Ok));
    assert_eq!(status.last_message, None);
    assert_eq!(status.runs, 2);
    assert_eq!(
        claimed(&scheduler, "w1").await,
        None,
        "not due before the interval"
    );
    world.advance(interval);
    assert_eq!(
        claimed(&scheduler, "w1").await.as_deref(),
        Some(tenant.as_str())
    );
    world.finish().await;
}

/// What the scripted runner does for one tenant.
#[derive(Clone, Copy)]
enum Script {
    Ok,
    MoreWork,
    Panic,
}

struct ScriptedRunner {
    scripts: HashMap<String, Script>,
}

impl TenantRunner for ScriptedRunner {
    fn run<'a>(&'a self, claim: &'a Claim) -> Pin<Box<dyn Future<Output = RunReport> + Send + 'a>> {
        Box::pin(async move {
            match self.scripts.get(claim.tenant_id.as_str()).copied() {
                Some(Script::Ok) | None => RunReport {
                    outcome: RunOutcome::Ok,
                    message: None,
                    more_work: false,
                    stats: Default::default(),
                },
                Some(Script::MoreWork) => RunReport {
                    outcome: RunOutcome::Partial,
                    message: Some("Rate limited; the rest follows shortly.".to_owned()),
                    more_work: true,
                    stats: Default::default(),
                },
                Some(Script::Panic) => panic!("a bug in the run"),
            }
        })
    }
}

#[tokio::test]
async fn the_worker_records_outcomes_and_picks_the_next_run() {
    let world = World::start().await;
    let (every_30, default_interval, more_work, panics) =
        (tenant_id(1), tenant_id(2), tenant_id(3), tenant_id(4));
    for tenant in [&every_30, &default_interval, &more_work, &panics] {
        // Active but never scheduled: the worker's start-up puts them on the schedule.
        world.tenant(tenant, Some(true)).await;
    }
    world
        .config_store()
        .save_settings(
            &every_30,
            &SyncSettings {
                interval: SyncInterval::new(30).expect("valid"),
                ..SyncSettings::default()
            },
        )
        .await
        .expect("settings");
    let runner = Arc::new(ScriptedRunner {
        scripts: HashMap::from([
            (every_30.clone(), Script::Ok),
            (default_interval.clone(), Script::Ok),
            (more_work.clone(), Script::MoreWork),
            (panics.clone(), Script::Panic),
        ]),
    });
    let worker = world.worker(runner, WorkerConfig::default());
    let mut results = worker.run_once_until_idle().await.expect("runs");
    results.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
    let finished = |tenant: &str, outcome| ClaimResult::Finished {
        tenant_id: tenant.into(),
        outcome,
    };
    let mut expected = vec![
        finished(&every_30, RunOutcome::Ok),
        finished(&default_interval, RunOutcome::Ok),
        finished(&more_work, RunOutcome::Partial),
        finished(&panics, RunOutcome::Failed),
    ];
    expected.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
    assert_eq!(results, expected);

    let now = world.clock.now_millis();
    let scheduler = world.scheduler();
    let status = |tenant: String| {
        let scheduler = scheduler.clone();
        async move { scheduler.status(&tenant).await.expect("status") }
    };
    assert_eq!(
        status(every_30).await.next_run_at,
        Some(now + 30 * 60 * 1000)
    );
    assert_eq!(
        status(default_interval).await.next_run_at,
        Some(now + 15 * 60 * 1000)
    );
    let more = status(more_work).await;
    assert_eq!(
        more.next_run_at,
        Some(now + 5 * 1000),
        "back soon, not in 15 min"
    );
    assert_eq!(more.last_outcome, Some(RunOutcome::Partial));
    let panicked = status(panics).await;
    assert_eq!(panicked.last_outcome, Some(RunOutcome::Failed));
    assert!(!panicked.running, "a panicking run releases its lease");
    assert!(
        panicked
            .last_message
            .is_some_and(|m| m.contains("internal error")),
        "the Schedule tab says what happened"
    );
    assert_eq!(panicked.next_run_at, Some(now + 15 * 60 * 1000));
    world.finish().await;
}

/// Runs until dropped; flags its drop so the test sees the run was stopped.
struct StallingRunner {
    scheduler: Scheduler,
    clock: Arc<ManualClock>,
    dropped: Arc<AtomicBool>,
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl TenantRunner for StallingRunner {
    fn run<'a>(&'a self, claim: &'a Claim) -> Pin<Box<dyn Future<Output = RunReport> + Send + 'a>> {
        Box::pin(async move {
            let _flag = DropFlag(self.dropped.clone());
            // The run stalls past its lease and another worker takes the tenant over.
            self.clock.advance(chrono::Duration::minutes(6));
            let thief = self
                .scheduler
                .claim("thief", LEASE)
                .await
                .expect("claim")
                .expect("the expired lease is up for grabs");
            assert_eq!(thief.tenant_id, claim.tenant_id);
            std::future::pending::<RunReport>().await
        })
    }
}

#[tokio::test]
async fn a_run_that_lost_its_lease_is_stopped_and_not_recorded() {
    let world = World::start().await;
    let tenant = tenant_id(1);
    world.tenant(&tenant, Some(true)).await;
    let dropped = Arc::new(AtomicBool::new(false));
    let runner = Arc::new(StallingRunner {
        scheduler: world.scheduler(),
        clock: world.clock.clone(),
        dropped: dropped.clone(),
    });
    let worker = world.worker(
        runner,
        WorkerConfig {
            // Real time only paces the renewals (every 100 ms); expiry follows the test clock.
            lease: Duration::from_millis(300),
            ..WorkerConfig::default()
        },
    );
    let results = worker.run_once_until_idle().await.expect("runs");
    assert_eq!(
        results,
        vec![ClaimResult::LeaseLost {
            tenant_id: tenant.as_str().into()
        }]
    );
    assert!(dropped.load(Ordering::SeqCst), "the run was stopped");
    let status = world.scheduler().status(&tenant).await.expect("status");
    assert!(status.running, "the thief holds it");
    assert_eq!(status.last_outcome, None, "the lost run recorded nothing");
    world.finish().await;
}

/// Waits for the test's go-ahead, telling it when it started.
struct GatedRunner {
    started: tokio::sync::mpsc::UnboundedSender<String>,
    release: tokio::sync::watch::Receiver<bool>,
}

impl TenantRunner for GatedRunner {
    fn run<'a>(&'a self, claim: &'a Claim) -> Pin<Box<dyn Future<Output = RunReport> + Send + 'a>> {
        Box::pin(async move {
            let _ = self.started.send(claim.tenant_id.to_string());
            let mut release = self.release.clone();
            let _ = release.wait_for(|go| *go).await;
            RunReport {
                outcome: RunOutcome::Ok,
                message: None,
                more_work: false,
                stats: Default::default(),
            }
        })
    }
}

#[tokio::test]
async fn a_stopping_worker_lets_running_tenants_finish() {
    let world = World::start().await;
    let tenant = tenant_id(1);
    world.tenant(&tenant, Some(true)).await;
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let (release, release_rx) = tokio::sync::watch::channel(false);
    let worker = world.worker(
        Arc::new(GatedRunner {
            started: started_tx,
            release: release_rx,
        }),
        WorkerConfig::default(),
    );
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { worker.run(stop_rx).await });
    assert_eq!(started.recv().await.as_deref(), Some(tenant.as_str()));
    stop.send(true).expect("worker listens");
    tokio::task::yield_now().await;
    assert!(!running.is_finished(), "the worker waits for its tenant");
    assert!(
        world
            .scheduler()
            .status(&tenant)
            .await
            .expect("status")
            .running
    );
    release.send(true).expect("runner listens");
    running.await.expect("worker ends");
    let status = world.scheduler().status(&tenant).await.expect("status");
    assert!(!status.running);
    assert_eq!(status.last_outcome, Some(RunOutcome::Ok));
    world.finish().await;
}

#[tokio::test]
async fn a_killed_workers_tenant_is_taken_over_within_a_minute_and_shows_interrupted() {
    let world = World::start().await;
    let tenant = tenant_id(1);
    world.tenant(&tenant, Some(true)).await;
    let config = WorkerConfig::default();
    assert!(
        config.lease <= Duration::from_secs(30),
        "a killed worker holds its tenants for one lease at most"
    );
    // Worker A claims the tenant and is then killed mid-run: its process (here, its task)
    // is gone, so nothing renews the lease or finishes the run.
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let (_release, release_rx) = tokio::sync::watch::channel(false);
    let killed = world.worker(
        Arc::new(GatedRunner {
            started: started_tx,
            release: release_rx,
        }),
        WorkerConfig {
            owner: "killed".to_owned(),
            ..config.clone()
        },
    );
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let process = tokio::spawn(async move { killed.run(stop_rx).await });
    assert_eq!(started.recv().await.as_deref(), Some(tenant.as_str()));
    process.abort();
    let _ = process.await;
    let scheduler = world.scheduler();
    let status = scheduler.status(&tenant).await.expect("status");
    assert!(status.running && !status.interrupted, "{status:?}");

    // One lease later (the test clock moves; nothing sleeps), the schedule says so…
    world.advance(config.lease + Duration::from_millis(1));
    let status = scheduler.status(&tenant).await.expect("status");
    assert!(!status.running, "{status:?}");
    assert!(status.interrupted, "shown as interrupted, not Running");

    // …and the next worker resumes it.
    let survivor = world.worker(
        Arc::new(ScriptedRunner {
            scripts: HashMap::new(),
        }),
        WorkerConfig {
            owner: "survivor".to_owned(),
            ..config
        },
    );
    let results = survivor.run_once_until_idle().await.expect("runs");
    assert_eq!(
        results,
        vec![ClaimResult::Finished {
            tenant_id: tenant.as_str().into(),
            outcome: RunOutcome::Ok
        }]
    );
    let status = scheduler.status(&tenant).await.expect("status");
    assert!(!status.running && !status.interrupted, "{status:?}");
    assert_eq!(status.last_outcome, Some(RunOutcome::Ok));
    assert_eq!(status.runs, 2);
    world.finish().await;
}

/// Counts runs; a worker's first run waits (a bounded while) until the other worker has
/// started one too, so "both workers got work" does not depend on thread timing.
struct CountingRunner {
    runs: Mutex<Vec<(String, String, i64)>>,
    owners: tokio::sync::watch::Sender<HashSet<String>>,
}

impl TenantRunner for CountingRunner {
    fn run<'a>(&'a self, claim: &'a Claim) -> Pin<Box<dyn Future<Output = RunReport> + Send + 'a>> {
        Box::pin(async move {
            self.runs.lock().expect("runs").push((
                claim.tenant_id.to_string(),
                claim.owner.clone(),
                claim.started_at,
            ));
            self.owners.send_modify(|owners| {
                owners.insert(claim.owner.clone());
            });
            let mut owners = self.owners.subscribe();
            let _ = tokio::time::timeout(
                Duration::from_secs(10),
                owners.wait_for(|owners| owners.len() >= 2),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(3)).await;
            RunReport {
                outcome: RunOutcome::Ok,
                message: None,
                more_work: false,
                stats: Default::default(),
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_racing_for_50_due_tenants_run_each_exactly_once() {
    let world = World::start().await;
    const TENANTS: usize = 50;
    for n in 0..TENANTS {
        world.tenant(&tenant_id(n), Some(true)).await;
    }
    let runner = Arc::new(CountingRunner {
        runs: Mutex::new(Vec::new()),
        owners: tokio::sync::watch::Sender::new(HashSet::new()),
    });
    // Two "processes": each its own pool to the same database, its own owner name.
    let mut workers = Vec::new();
    for concurrency in [3, 4] {
        let db = Db::connect(&world.url).await.expect("another pool");
        workers.push(Worker::new(
            Scheduler::new(db.clone(), world.clock.clone()),
            SyncConfigStore::new(db, world.clock.clone()),
            runner.clone(),
            WorkerConfig {
                concurrency,
                ..WorkerConfig::default()
            },
        ));
    }
    assert_ne!(workers[0].owner(), workers[1].owner());
    let (first, second) = tokio::join!(
        workers[0].run_once_until_idle(),
        workers[1].run_once_until_idle()
    );
    let (first, second) = (first.expect("worker 1"), second.expect("worker 2"));

    let runs = runner.runs.lock().expect("runs").clone();
    assert_eq!(runs.len(), TENANTS, "one run per due tenant");
    let distinct: HashSet<(&str, i64)> = runs
        .iter()
        .map(|(tenant, _, started_at)| (tenant.as_str(), *started_at))
        .collect();
    assert_eq!(
        distinct.len(),
        TENANTS,
        "no tenant ran twice for one due time"
    );
    let tenants: HashSet<&str> = runs.iter().map(|(tenant, _, _)| tenant.as_str()).collect();
    assert_eq!(tenants.len(), TENANTS, "every tenant ran");
    assert!(
        !first.is_empty() && !second.is_empty(),
        "both workers got work"
    );
    assert_eq!(first.len() + second.len(), TENANTS);
    for (worker, results) in [(&workers[0], &first), (&workers[1], &second)] {
        let by_owner = runs
            .iter()
            .filter(|(_, owner, _)| owner == worker.owner())
            .count();
        assert_eq!(by_owner, results.len());
    }
    for n in 0..TENANTS {
        let status = world
            .scheduler()
            .status(&tenant_id(n))
            .await
            .expect("status");
        assert_eq!(status.runs, 1);
        assert_eq!(status.last_outcome, Some(RunOutcome::Ok));
        assert!(!status.running);
    }
    world.finish().await;
}
