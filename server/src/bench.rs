//! `zqsync bench`: the benchmark of the sync engine (issue 5). A historical migration Zoho CRM →
//! QuickBooks Online against the simulators: accounts, products and invoices seeded in Zoho
//! with modified times in the past, one tenant on Professional Annual connected through the
//! real OAuth flow, a Sync Historical Data backfill queued from before the oldest record, and
//! the engine run the way the worker runs it (`run_tenant` again while it reports more work)
//! until every record is in QBO. Measured: throughput and CPU with the rate limits off (SQLite,
//! and PostgreSQL when a server is given), throughput under QBO's limits against the best
//! schedule those limits allow, and peak memory.
//!
//! The simulators run in this process, on a runtime of their own whose threads are named
//! `zq-sandbox`, so the CPU they burn can be told apart from the engine's.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use chrono::Utc;
use clap::Args;
use domain::pairs::{Direction, Flow, ModulePair, SyncDirections};
use domain::settings::{AccountRef, BackfillPlan};
use engine::Db;
use engine::connections::{ConnectionStore, IntuitCallback, Provider, ZohoCallback};
use engine::connectors::ResilienceConfig;
use engine::sync::run::{Engine, StageTimes};
use engine::sync::{RunOutcome, SyncStores};
use sandbox::{Sandbox, SandboxConfig, ZohoSeed};

use crate::RemoteSetup;

/// The dataset of issue 5 at `--scale 1`.
const ACCOUNTS: usize = 10_000;
const PRODUCTS: usize = 2_000;
const INVOICES: usize = 10_000;
const LINES_PER_INVOICE: usize = 3;
/// QBO's published limits per realm.
const QBO_REQUESTS_PER_MINUTE: u32 = 500;
const QBO_BATCHES_PER_MINUTE: u32 = 40;
const QBO_MAX_CONCURRENT: u32 = 10;
/// Items per QBO batch call (QBO's maximum; the engine fills batches to it).
const QBO_BATCH_ITEMS: usize = 30;
const TENANT: &str = "0195f3a0-0000-7000-8000-00000000be4c";
/// A run that keeps asking for more work past this many runs is stuck, not slow.
const MAX_RUNS: usize = 10_000;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Fraction of the dataset (10,000 accounts, 2,000 products, 10,000 invoices with 3
    /// lines each): 0.1 is a quick run.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// How many times faster than real time QBO's rate-limit minute runs in the throttled part
    /// (20: a minute lasts three seconds). Much higher and the part measures how fast the
    /// engine fills a minute's 40 batches rather than how well it paces them.
    #[arg(long, default_value_t = 20.0)]
    pub time_scale: f64,
    /// A PostgreSQL server for the PostgreSQL part (`postgres://user:pass@host/db`); a
    /// throwaway database is created on it and dropped afterwards. Without it that part is
    /// skipped.
    #[arg(
        long = "database-url",
        env = "ZQSYNC_BENCH_POSTGRES_URL",
        hide_env_values = true
    )]
    pub postgres_url: Option<String>,
    /// How many times the rate-limits-off migration runs on each database. Run-to-run spread
    /// on a small shared machine is wide (±15 % here), so the median run is shown, with every
    /// run's figure beside it.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

/// How many records of each module.
#[derive(Debug, Clone, Copy)]
struct Dataset {
    accounts: usize,
    products: usize,
    invoices: usize,
}

impl Dataset {
    fn scaled(scale: f64) -> anyhow::Result<Self> {
        if !(scale.is_finite() && scale > 0.0 && scale <= 10.0) {
            bail!(
                "--scale takes a number above 0 and at most 10 (1 is the full dataset), not {scale}"
            );
        }
        // Rounded counts of at most 10 × 10,000 fit any integer type.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let of = |n: usize| ((n as f64 * scale).round() as usize).max(1);
        Ok(Self {
            accounts: of(ACCOUNTS),
            products: of(PRODUCTS),
            invoices: of(INVOICES),
        })
    }

    fn records(self) -> usize {
        self.accounts + self.products + self.invoices
    }

    fn seed(self) -> ZohoSeed {
        ZohoSeed {
            accounts: self.accounts,
            products: self.products,
            invoices: self.invoices,
            lines_per_invoice: LINES_PER_INVOICE,
            newest_age: chrono::Duration::days(2),
        }
    }
}

/// Which limits a migration runs under.
#[derive(Debug, Clone, Copy)]
enum Limits {
    Off,
    Qbo { time_scale: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The same migration run several times.
struct Repeated {
    /// Fastest first.
    runs: Vec<Measured>,
    /// The first run's seeding: later ones start from the memory the runs before them left, so
    /// only the first measures it.
    first_seeding: (Duration, Option<u64>),
}

impl Repeated {
    fn of(mut runs: Vec<Measured>) -> Self {
        let first_seeding = (runs[0].seeding, runs[0].peak_seeding);
        runs.sort_by_key(|m| m.wall);
        Repeated {
            runs,
            first_seeding,
        }
    }

    /// The median run (of an even number, the slower of the middle two).
    fn median(&self) -> &Measured {
        &self.runs[self.runs.len() / 2]
    }

    /// Every run's records per second, fastest first.
    fn rates(&self) -> String {
        self.runs
            .iter()
            .map(|m| rate(m.per_second()))
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// The most memory any run used.
    fn peak_run(&self) -> Option<u64> {
        self.runs.iter().filter_map(|m| m.peak_run).max()
    }
}

/// What one migration measured.
#[derive(Debug, Clone)]
struct Measured {
    records: u64,
    wall: Duration,
    cpu_process: Duration,
    cpu_sandbox: Duration,
    runs: usize,
    stages: StageTimes,
    qbo: sandbox::QboTraffic,
    seeding: Duration,
    peak_seeding: Option<u64>,
    peak_run: Option<u64>,
}

impl Measured {
    fn cpu_engine(&self) -> Duration {
        self.cpu_process.saturating_sub(self.cpu_sandbox)
    }

    fn per_second(&self) -> f64 {
        per(self.records, self.wall)
    }
}

fn per(records: u64, time: Duration) -> f64 {
    let seconds = time.as_secs_f64();
    if seconds > 0.0 {
        records as f64 / seconds
    } else {
        f64::INFINITY
    }
}

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let dataset = Dataset::scaled(args.scale)?;
    if !(args.time_scale.is_finite() && args.time_scale >= 1.0 && args.time_scale <= 600.0) {
        bail!(
            "--time-scale takes a number from 1 (real time) to 600, not {}",
            args.time_scale
        );
    }
    if !(1..=20).contains(&args.repeat) {
        bail!("--repeat takes 1 to 20 runs, not {}", args.repeat);
    }
    let host = SandboxHost::start()?;
    print_header(dataset, args);

    let mut sqlite_runs = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        sqlite_runs.push(migrate(&host, dataset, Backend::Sqlite, None, Limits::Off).await?);
    }
    let mut postgres_runs = Vec::new();
    if let Some(url) = &args.postgres_url {
        for _ in 0..args.repeat {
            postgres_runs
                .push(migrate(&host, dataset, Backend::Postgres, Some(url), Limits::Off).await?);
        }
    }
    let sqlite = Repeated::of(sqlite_runs);
    let postgres = (!postgres_runs.is_empty()).then(|| Repeated::of(postgres_runs));
    print_unthrottled(&sqlite, postgres.as_ref());

    let limits = Limits::Qbo {
        time_scale: args.time_scale,
    };
    let throttled = migrate(&host, dataset, Backend::Sqlite, None, limits).await?;
    print_throttled(dataset, &throttled, args.time_scale);
    print_memory(&sqlite, postgres.as_ref(), &throttled);
    host.stop();
    Ok(())
}

/// One historical migration from a fresh sandbox into a fresh database.
async fn migrate(
    host: &SandboxHost,
    dataset: Dataset,
    backend: Backend,
    postgres_url: Option<&str>,
    limits: Limits,
) -> anyhow::Result<Measured> {
    let mut config = SandboxConfig {
        records_per_module: 0,
        zoho_seed: Some(dataset.seed()),
        auto_consent: true,
        record_writes: false,
        ..SandboxConfig::default()
    };
    let resilience = match limits {
        Limits::Off => {
            config.qbo_requests_per_minute = usize::MAX;
            config.qbo_batches_per_minute = usize::MAX;
            config.qbo_max_concurrent = usize::MAX;
            config.zoho_max_concurrent = usize::MAX;
            config.zoho_daily_credits = usize::MAX;
            ResilienceConfig {
                qbo_requests_per_minute: None,
                qbo_batches_per_minute: None,
                zoho_requests_per_second: None,
                qbo_max_concurrent: 64,
                zoho_max_concurrent: 64,
                ..ResilienceConfig::default()
            }
        }
        Limits::Qbo { time_scale } => {
            config.qbo_requests_per_minute = QBO_REQUESTS_PER_MINUTE as usize;
            config.qbo_batches_per_minute = QBO_BATCHES_PER_MINUTE as usize;
            config.qbo_max_concurrent = QBO_MAX_CONCURRENT as usize;
            config.zoho_daily_credits = usize::MAX;
            config.time_scale = time_scale;
            ResilienceConfig {
                qbo_requests_per_minute: NonZeroU32::new(QBO_REQUESTS_PER_MINUTE),
                qbo_batches_per_minute: NonZeroU32::new(QBO_BATCHES_PER_MINUTE),
                qbo_max_concurrent: QBO_MAX_CONCURRENT as usize,
                zoho_requests_per_second: None,
                ..ResilienceConfig::default()
            }
            .time_scaled(time_scale)
        }
    };

    reset_peak_memory();
    let started = Instant::now();
    let sandbox = host.start_sandbox(config.clone()).await?;
    let seeding = started.elapsed();
    let peak_seeding = peak_memory();

    let database = FreshDatabase::create(backend, postgres_url).await?;
    let result = async {
        let db = crate::open_database(&database.url).await?;
        let world = Tenant::connect(&db, &sandbox, &config, resilience).await?;
        world.configure(dataset).await?;

        reset_peak_memory();
        let cpu_before = CpuTimes::now();
        let traffic_before = sandbox.qbo_traffic();
        let started = Instant::now();
        let (runs, stages, synced) = world.run_until_done().await?;
        let wall = started.elapsed();
        let cpu_after = CpuTimes::now();
        let peak_run = peak_memory();
        let traffic_after = sandbox.qbo_traffic();
        let expected = dataset.records() as u64;
        if synced != expected {
            bail!("the migration synced {synced} records of {expected}");
        }
        db.close().await;
        Ok(Measured {
            records: synced,
            wall,
            cpu_process: cpu_after.process.saturating_sub(cpu_before.process),
            cpu_sandbox: cpu_after.sandbox.saturating_sub(cpu_before.sandbox),
            runs,
            stages,
            qbo: sandbox::QboTraffic {
                requests: traffic_after.requests - traffic_before.requests,
                batches: traffic_after.batches - traffic_before.batches,
                throttled: traffic_after.throttled - traffic_before.throttled,
            },
            seeding,
            peak_seeding,
            peak_run,
        })
    }
    .await;
    database.drop_it().await;
    host.stop_sandbox(sandbox).await;
    result
}

/// The benchmark's tenant: on Professional Annual (historical data allowed), active, and
/// connected to both simulated systems through the OAuth flow with consent given.
struct Tenant {
    connections: Arc<ConnectionStore>,
    stores: SyncStores,
    engine: Engine,
}

impl Tenant {
    async fn connect(
        db: &Db,
        sandbox: &Sandbox,
        config: &SandboxConfig,
        resilience: ResilienceConfig,
    ) -> anyhow::Result<Self> {
        let now = Utc::now().timestamp_millis();
        engine::with_pool!(db, pool => {
            sqlx::query("INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, 'Bench Co', 'professional_annual', $2)")
                .bind(TENANT)
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query("INSERT INTO billing_accounts (tenant_id, status, updated_at) VALUES ($1, 'active', $2)")
                .bind(TENANT)
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query("INSERT INTO integration_settings (tenant_id, active, updated_at) VALUES ($1, TRUE, $2)")
                .bind(TENANT)
                .bind(now)
                .execute(pool)
                .await?;
        });
        let clock: Arc<dyn engine::Clock> = Arc::new(engine::SystemClock);
        let mut remotes = RemoteSetup::sandbox(&sandbox.urls(), config, crate::ephemeral_vault()?);
        remotes.resilience = resilience;
        let connections = crate::connection_store(&remotes, db, &clock, "http://127.0.0.1:9")?;
        let consent = |provider| {
            let connections = connections.clone();
            async move {
                let url = connections.authorization_url(TENANT, provider).await?;
                let query = sandbox::auto_consent(&url).await?;
                let param = |name: &str| {
                    query
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                anyhow::Ok((
                    param("code"),
                    param("state"),
                    param("realmId"),
                    param("accounts-server"),
                ))
            }
        };
        let (code, state, realm_id, _) = consent(Provider::Qbo).await?;
        connections
            .complete_qbo(
                TENANT,
                &IntuitCallback {
                    code,
                    state,
                    realm_id,
                },
            )
            .await
            .context("connecting the simulated QuickBooks Online")?;
        let (code, state, _, accounts_server) = consent(Provider::Zoho).await?;
        connections
            .complete_zoho(
                TENANT,
                &ZohoCallback {
                    code,
                    state,
                    accounts_server,
                },
            )
            .await
            .context("connecting the simulated Zoho CRM")?;
        Ok(Self {
            stores: SyncStores::new(db.clone(), clock.clone()),
            engine: Engine::new(db.clone(), clock, connections.clone()),
            connections,
        })
    }

    /// Accounts, Products and Invoices Zoho → QBO (everything else off), Inventory Settings
    /// from the company's accounts, and a backfill of the three from before the oldest record.
    async fn configure(&self, dataset: Dataset) -> anyhow::Result<()> {
        let pairs = [
            ModulePair::AccountsCustomers,
            ModulePair::ProductsItems,
            ModulePair::InvoicesInvoices,
        ];
        let mut directions = SyncDirections::default();
        for pair in ModulePair::ALL {
            directions.set(pair, Direction::Disabled);
        }
        for pair in pairs {
            directions.set(pair, Direction::ZohoToQbo);
        }
        self.stores
            .config
            .save_directions(TENANT, &directions)
            .await?;

        let qbo = self.connections.qbo_client(TENANT).await?;
        let accounts = qbo.query("SELECT * FROM Account").await?;
        let find = |name: &str| {
            accounts
                .iter()
                .find(|a| a["Name"] == name)
                .and_then(|a| a["Id"].as_str())
                .map(|id| AccountRef {
                    id: id.to_owned(),
                    name: name.to_owned(),
                })
                .ok_or_else(|| anyhow!("the simulated company has no account named {name}"))
        };
        let mut settings = self.stores.config.settings(TENANT).await?;
        settings.inventory.income_account = Some(find("Sales of Product Income")?);
        settings.inventory.expense_account = Some(find("Cost of Goods Sold")?);
        settings.inventory.asset_account = Some(find("Inventory Asset")?);
        self.stores.config.save_settings(TENANT, &settings).await?;

        let since = (Utc::now() - dataset.seed().oldest_age() - chrono::Duration::days(1))
            .format("%Y-%m-%d")
            .to_string();
        let plans: Vec<BackfillPlan> = pairs
            .into_iter()
            .map(|pair| BackfillPlan {
                pair,
                since: since.clone(),
                flows: vec![Flow::ZohoToQbo],
            })
            .collect();
        self.stores.backfills.queue(TENANT, &plans).await?;
        Ok(())
    }

    /// Runs the tenant as the worker would, again and again while it has more work.
    async fn run_until_done(&self) -> anyhow::Result<(usize, StageTimes, u64)> {
        let mut stages = StageTimes::default();
        let mut synced = 0;
        for runs in 1..=MAX_RUNS {
            let summary = self.engine.run_tenant(&TENANT.into()).await;
            if summary.outcome != RunOutcome::Ok {
                bail!(
                    "run {runs} ended {:?}: {}",
                    summary.outcome,
                    summary.message.unwrap_or_default()
                );
            }
            if summary.stats.errors + summary.stats.not_valid + summary.stats.not_synced > 0 {
                let logs = self
                    .stores
                    .logs
                    .list(TENANT, &engine::sync::LogQuery::default())
                    .await?;
                let first = logs
                    .rows
                    .iter()
                    .find_map(|r| r.message.clone())
                    .unwrap_or_default();
                bail!(
                    "run {runs} left records unsynced: {:?}; {first}",
                    summary.stats
                );
            }
            stages.add(&summary.stats.stages);
            synced += summary.stats.synced;
            if !summary.more_work {
                return Ok((runs, stages, synced));
            }
        }
        bail!("the backfill was not done after {MAX_RUNS} runs")
    }
}

/// A database nobody else uses: a SQLite file in a temporary directory, or a new database on
/// the given PostgreSQL server.
struct FreshDatabase {
    url: String,
    postgres: Option<(String, String)>,
    sqlite_dir: Option<PathBuf>,
}

impl FreshDatabase {
    async fn create(backend: Backend, postgres_url: Option<&str>) -> anyhow::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("zqsync-bench-{id}"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("could not create {}", dir.display()))?;
                Ok(Self {
                    url: format!("sqlite://{}/bench.db", dir.display()),
                    postgres: None,
                    sqlite_dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin = postgres_url.ok_or_else(|| anyhow!("no PostgreSQL URL"))?;
                let name = format!("zqsync_bench_{id}");
                let (base, query) = match admin.split_once('?') {
                    Some((base, query)) => (base, format!("?{query}")),
                    None => (admin, String::new()),
                };
                let Some((server, _)) = base
                    .rsplit_once('/')
                    .filter(|(server, _)| server.contains("://"))
                else {
                    bail!(
                        "the PostgreSQL URL should look like postgres://user:password@host/database"
                    );
                };
                let pool = sqlx::PgPool::connect(admin).await.with_context(|| {
                    format!("could not connect to {}", engine::db::redact_url(admin))
                })?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .context("could not create a throwaway database (the user needs CREATEDB)")?;
                pool.close().await;
                Ok(Self {
                    url: format!("{server}/{name}{query}"),
                    postgres: Some((admin.to_owned(), name)),
                    sqlite_dir: None,
                })
            }
        }
    }

    async fn drop_it(self) {
        if let Some((admin, name)) = self.postgres
            && let Ok(pool) = sqlx::PgPool::connect(&admin).await
        {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await {
                tracing::warn!(%error, database = %name, "could not drop the bench database");
            }
            pool.close().await;
        }
        if let Some(dir) = self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The simulators' own runtime: their handlers run on threads named `zq-sandbox`, so their CPU
/// time can be subtracted from the process's.
struct SandboxHost {
    runtime: tokio::runtime::Runtime,
}

const SANDBOX_THREAD: &str = "zq-sandbox";

impl SandboxHost {
    fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(SANDBOX_THREAD)
            .enable_all()
            .build()
            .context("could not start the simulators' runtime")?;
        Ok(Self { runtime })
    }

    async fn start_sandbox(&self, config: SandboxConfig) -> anyhow::Result<Sandbox> {
        self.runtime
            .spawn(Sandbox::start(config))
            .await
            .context("the simulators' runtime stopped")?
            .context("could not start the simulators")
    }

    async fn stop_sandbox(&self, sandbox: Sandbox) {
        let _ = self.runtime.spawn(sandbox.shutdown()).await;
    }

    fn stop(self) {
        self.runtime.shutdown_background();
    }
}

/// CPU time (user + system) of the whole process and of the simulators' threads, from
/// /proc (getrusage would need `unsafe`; the kernel's clock ticks are 10 ms).
#[derive(Debug, Clone, Copy, Default)]
struct CpuTimes {
    process: Duration,
    sandbox: Duration,
}

impl CpuTimes {
    fn now() -> Self {
        let process = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| cpu_of_stat(&stat))
            .unwrap_or_default();
        let mut sandbox = Duration::ZERO;
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let path = task.path();
                let is_sandbox = std::fs::read_to_string(path.join("comm"))
                    .is_ok_and(|name| name.trim().starts_with(SANDBOX_THREAD));
                if is_sandbox
                    && let Some(cpu) = std::fs::read_to_string(path.join("stat"))
                        .ok()
                        .and_then(|stat| cpu_of_stat(&stat))
                {
                    sandbox += cpu;
                }
            }
        }
        Self { process, sandbox }
    }
}

/// utime + stime of a `/proc/.../stat` line (fields 14 and 15, after the parenthesised name).
fn cpu_of_stat(stat: &str) -> Option<Duration> {
    const TICKS_PER_SECOND: u64 = 100;
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SECOND,
    ))
}

/// Peak resident memory so far (VmHWM), in bytes.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Starts a new peak (writing 5 to clear_refs resets VmHWM to the current RSS).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

// ------------------------------------------------------------------------------- report

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "n/a".to_owned(),
        |b| format!("{:.0} MiB", b as f64 / 1_048_576.0),
    )
}

fn rate(value: f64) -> String {
    if value.is_finite() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        thousands(value.round() as u64)
    } else {
        "∞".to_owned()
    }
}

#[allow(clippy::print_stdout)]
fn print_header(dataset: Dataset, args: &BenchArgs) {
    println!("zqsync bench: historical migration Zoho CRM → QuickBooks Online against the sandbox");
    println!(
        "dataset: {} accounts, {} products, {} invoices × {LINES_PER_INVOICE} lines = {} records (--scale {})",
        thousands(dataset.accounts as u64),
        thousands(dataset.products as u64),
        thousands(dataset.invoices as u64),
        thousands(dataset.records() as u64),
        args.scale
    );
    println!(
        "path: Sync Historical Data (a backfill of the three pairs from before the oldest record), the engine run \
         like the worker runs it until no work is left: Zoho pages → filter → map → references → QBO batches of \
         {QBO_BATCH_ITEMS} → links, log rows and checkpoint per page. The simulators run in-process on their own threads."
    );
    println!();
}

#[allow(clippy::print_stdout)]
fn print_unthrottled(sqlite_runs: &Repeated, postgres_runs: Option<&Repeated>) {
    let sqlite = sqlite_runs.median();
    let postgres = postgres_runs.map(Repeated::median);
    println!(
        "1. Rate limits off, zero latency (the median of {} runs per database)",
        sqlite_runs.runs.len()
    );
    println!(
        "   {:<11} {:>8} {:>8} {:>10} {:>13} {:>13} {:>11} {:>11} {:>6}",
        "database",
        "records",
        "wall s",
        "records/s",
        "CPU s all",
        "CPU s engine",
        "rec/CPU-s",
        "rec/eng-CPU-s",
        "runs"
    );
    let row = |name: &str, m: &Measured| {
        println!(
            "   {:<11} {:>8} {:>8.2} {:>10} {:>13.2} {:>13.2} {:>11} {:>11} {:>6}",
            name,
            thousands(m.records),
            m.wall.as_secs_f64(),
            rate(m.per_second()),
            m.cpu_process.as_secs_f64(),
            m.cpu_engine().as_secs_f64(),
            rate(per(m.records, m.cpu_process)),
            rate(per(m.records, m.cpu_engine())),
            m.runs
        );
    };
    row("SQLite", sqlite);
    match postgres {
        Some(m) => row("PostgreSQL", m),
        None => println!(
            "   {:<11} skipped (give --database-url postgres://… or ZQSYNC_BENCH_POSTGRES_URL)",
            "PostgreSQL"
        ),
    }
    println!("   every run, records/s: SQLite {}", sqlite_runs.rates());
    if let Some(runs) = postgres_runs {
        println!("   every run, records/s: PostgreSQL {}", runs.rates());
    }
    println!(
        "   target ≥ 5,000 records/s on SQLite (median run): {}",
        if sqlite.per_second() >= 5_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "   CPU s all = user + system time of the whole process, simulators included; engine = all minus the \
         simulators' threads (HTTP clients, SQLite and JSON work stay in it; a PostgreSQL server's own CPU is not counted)."
    );
    for (name, m) in std::iter::once(("SQLite", sqlite)).chain(postgres.map(|m| ("PostgreSQL", m)))
    {
        let s = m.stages;
        println!(
            "   {name} engine stages (wall): read Zoho {:.2} s, decide {:.2} s, write QBO {:.2} s, store {:.2} s; {} QBO batch calls",
            s.read.as_secs_f64(),
            s.decide.as_secs_f64(),
            s.write.as_secs_f64(),
            s.store.as_secs_f64(),
            thousands(m.qbo.batches)
        );
    }
    println!(
        "   stages: Zoho pages are read ahead, a page's QBO batches are in flight while the next page is decided, and its commit runs while the page after it is; so read, write and store count only the time the engine waited for them"
    );
    println!();
}

/// The shortest time QBO's limits allow for the migration, in wall time: every record needs a
/// batch item, a batch holds 30, and at most 40 batch calls (and 500 calls of any kind) fit in
/// any one window, so the k-th batch call (from 0) cannot start before ⌊k / 40⌋ windows.
fn best_schedule(records: u64, other_requests: u64, window: Duration) -> (u64, Duration) {
    let batches = records.div_ceil(QBO_BATCH_ITEMS as u64);
    let batch_windows = batches.saturating_sub(1) / u64::from(QBO_BATCHES_PER_MINUTE);
    let request_windows =
        (batches + other_requests).saturating_sub(1) / u64::from(QBO_REQUESTS_PER_MINUTE);
    let windows = batch_windows.max(request_windows);
    (batches, window.mul_f64(windows as f64))
}

#[allow(clippy::print_stdout)]
fn print_throttled(dataset: Dataset, m: &Measured, time_scale: f64) {
    let window = Duration::from_secs(60).div_f64(time_scale);
    let other = m.qbo.requests.saturating_sub(m.qbo.batches);
    let (batches, best) = best_schedule(dataset.records() as u64, other, window);
    println!(
        "2. QBO's limits on: {QBO_REQUESTS_PER_MINUTE} requests/min, {QBO_BATCHES_PER_MINUTE} batches/min, \
         {QBO_MAX_CONCURRENT} concurrent per realm; one minute = {:.3} s of wall time (--time-scale {time_scale}), SQLite",
        window.as_secs_f64()
    );
    println!(
        "   best schedule: {} records need ≥ {} batch calls of {QBO_BATCH_ITEMS}; at most {QBO_BATCHES_PER_MINUTE} batch \
         calls fit in any minute, so the last can start no sooner than {} minutes after the first; the {} other QBO calls \
         fit in the rest of the {QBO_REQUESTS_PER_MINUTE} requests/min, and with zero latency the 10-call concurrency never binds.",
        thousands(dataset.records() as u64),
        thousands(batches),
        best.as_secs_f64() / window.as_secs_f64(),
        thousands(other)
    );
    let fraction = if best.is_zero() {
        None
    } else {
        Some(best.as_secs_f64() / m.wall.as_secs_f64())
    };
    println!(
        "   {:<22} {:>10} {:>12} {:>10} {:>12} {:>10}",
        "", "wall s", "minutes", "records/s", "batch calls", "429s"
    );
    println!(
        "   {:<22} {:>10.2} {:>12.2} {:>10} {:>12} {:>10}",
        "best schedule",
        best.as_secs_f64(),
        best.as_secs_f64() / window.as_secs_f64(),
        rate(per(m.records, best)),
        thousands(batches),
        "-"
    );
    println!(
        "   {:<22} {:>10.2} {:>12.2} {:>10} {:>12} {:>10}",
        "achieved",
        m.wall.as_secs_f64(),
        m.wall.as_secs_f64() / window.as_secs_f64(),
        rate(m.per_second()),
        thousands(m.qbo.batches),
        thousands(m.qbo.throttled)
    );
    match fraction {
        Some(f) => println!(
            "   achieved / best = {:.1} % (target ≥ 90 %: {})",
            f * 100.0,
            if f >= 0.9 { "met" } else { "NOT met" }
        ),
        None => println!(
            "   the dataset fits in one minute's batches: the limits do not bind (use a larger --scale)"
        ),
    }
    println!(
        "   the engine paces its QBO calls per realm before sending them (a call holds its slot until one window after \
         its answer), so it does not meet 429s and QBO's minute-long pause."
    );
    println!();
}

#[allow(clippy::print_stdout)]
fn print_memory(sqlite: &Repeated, postgres: Option<&Repeated>, throttled: &Measured) {
    let (seeding, peak_seeding) = sqlite.first_seeding;
    println!(
        "3. Peak memory (VmHWM of the process, the simulators and their seeded data included)"
    );
    println!(
        "   seeding the sandbox: {} in {:.2} s",
        mib(peak_seeding),
        seeding.as_secs_f64()
    );
    println!(
        "   migration, limits off, SQLite: {}",
        mib(sqlite.peak_run())
    );
    if let Some(runs) = postgres {
        println!(
            "   migration, limits off, PostgreSQL: {}",
            mib(runs.peak_run())
        );
    }
    println!(
        "   migration, QBO limits on, SQLite: {}",
        mib(throttled.peak_run)
    );
    let highest = [peak_seeding, sqlite.peak_run(), throttled.peak_run]
        .into_iter()
        .chain(postgres.map(Repeated::peak_run))
        .flatten()
        .max();
    println!("   highest: {}", mib(highest));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_schedule_counts_whole_windows_of_40_batches() {
        let minute = Duration::from_secs(60);
        // 22,000 records: 734 batches; the 734th starts after 18 full windows.
        assert_eq!(best_schedule(22_000, 0, minute), (734, minute * 18));
        // 40 batches fit in the first window: nothing to wait for.
        assert_eq!(best_schedule(1_200, 0, minute), (40, Duration::ZERO));
        assert_eq!(best_schedule(1_201, 0, minute), (41, minute));
    }

    #[test]
    fn cpu_times_come_from_the_stat_line() {
        let stat = "1234 (zq sandbox) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(cpu_of_stat(stat), Some(Duration::from_secs(3)));
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(thousands(22_000), "22,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
