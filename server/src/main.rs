//! `zqsync`: the command line of the service.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use server::config::{
    DatabaseArgs, SandboxArgs, ServeArgs, Switch, WorkerCommandArgs, default_site_root,
};
use server::telemetry::{self, LogFormat};
use server::{DEMO_EMAIL, DEMO_PASSWORD, Settings};

/// mimalloc instead of glibc's malloc: syncing is allocation-heavy (every record is a tree of
/// JSON values parsed, mapped, serialized and dropped on several threads); `zqsync bench`
/// migrates about 10% faster with it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "zqsync",
    version,
    about = "Keeps Zoho CRM and QuickBooks Online in step."
)]
struct Cli {
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "ZQSYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web application (sandbox mode when no Zoho/QuickBooks credentials are set).
    Serve(Box<ServeArgs>),
    /// Run sync jobs from the shared schedule, without serving pages.
    Worker(WorkerCommandArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Run the simulated Zoho CRM, QuickBooks Online, OAuth and Stripe servers on their own.
    Sandbox(SandboxArgs),
    /// Measure the sync engine (a historical migration against the simulators) and print the figures.
    Bench(server::bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before anything builds an HTTP client (the sandbox, the connectors, Stripe).
    engine::connectors::install_crypto_provider();
    telemetry::init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "could not start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(*args).await,
            Command::Migrate(args) => {
                server::open_database(args.database_url.expose()).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Command::Worker(args) => run_worker(args).await,
            Command::Sandbox(args) => run_sandbox(&args).await,
            Command::Bench(args) => server::bench::run(&args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            report_failure(&error);
            ExitCode::FAILURE
        }
    }
}

/// Why the command failed, on stderr too: the log goes to stdout, which supervisors (and the
/// browser tests' runner) often discard, and a server that cannot start must say why.
#[allow(clippy::print_stderr)]
fn report_failure(error: &anyhow::Error) {
    eprintln!("zqsync: {error:#}");
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    args.remotes.check().map_err(anyhow::Error::msg)?;
    let sandbox_mode = args.remotes.sandbox_mode();
    if sandbox_mode {
        tracing::warn!(
            "sandbox mode: no Zoho CRM or QuickBooks credentials are configured, so simulated services stand in"
        );
    }
    let db = server::open_database(args.database.database_url.expose()).await?;
    let clock: Arc<dyn engine::Clock> = Arc::new(engine::SystemClock);
    if sandbox_mode {
        server::ensure_demo_account(&engine::accounts::Accounts::new(db.clone(), clock.clone()))
            .await?;
    }
    // Bound first: the simulated Stripe needs this server's address for its webhooks.
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", args.bind))?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", listener.local_addr().unwrap_or(args.bind)));
    // Sandbox mode: the simulators run in this process, on loopback ports.
    let (simulators, billing, remotes) = if sandbox_mode {
        let mut config = args.sandbox.config();
        config.stripe_webhook_url = Some(format!("{public_url}/webhooks/stripe"));
        let simulators = sandbox::Sandbox::start(config.clone()).await?;
        let urls = simulators.urls();
        log_sandbox_urls(&urls);
        let billing = args.billing.sandbox(&config, &urls.stripe_api, &public_url);
        let vault = match &args.secret_key {
            Some(key) => Arc::new(
                engine::vault::Vault::from_secret_text(1, key.expose())
                    .map_err(|e| anyhow::anyhow!("ZQSYNC_SECRET_KEY: {e}"))?,
            ),
            None => server::ephemeral_vault()?,
        };
        let remotes = server::RemoteSetup::sandbox(&urls, &config, vault);
        (Some(simulators), billing, remotes)
    } else {
        let remotes = production_remotes(args.secret_key.as_ref(), &args.remotes)?;
        let billing = args
            .billing
            .production(&public_url)
            .map_err(anyhow::Error::msg)?;
        (None, billing, remotes)
    };
    let settings = Settings {
        bind: args.bind,
        public_url: args.public_url.clone(),
        site_root: args.site_root.clone().unwrap_or_else(default_site_root),
        session_idle_secs: args.session_idle_secs,
        trusted_proxies: args.trusted_proxies.clone(),
        signup_limit: engine::SignupLimit {
            per_address: args.signups_per_address,
            ..engine::SignupLimit::default()
        },
        sandbox_mode,
        billing: Some(billing),
        remotes,
        worker: (args.worker == Switch::On).then(|| args.worker_tuning.config()),
        runner: None,
        support_email: args.support_email.clone(),
    };
    if !settings.site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %settings.site_root.display(),
            "no pkg/ directory: pages render but will not become interactive; run scripts/build first"
        );
    }
    let running = server::start_on(listener, settings, db, clock).await?;
    let url = args.public_url.unwrap_or_else(|| running.url());
    tracing::info!(%url, "zqsync is listening");
    announce(&url, sandbox_mode);

    let stop = running.shutdown_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    let result = running.wait().await;
    if let Some(simulators) = simulators {
        simulators.shutdown().await;
    }
    result
}

/// The real Zoho and QuickBooks endpoints with our OAuth apps and the token vault.
fn production_remotes(
    secret_key: Option<&server::config::Secret>,
    credentials: &server::config::RemoteCredentials,
) -> anyhow::Result<server::RemoteSetup> {
    let key = secret_key.ok_or_else(|| {
        anyhow::anyhow!(
            "ZQSYNC_SECRET_KEY is required with real credentials: 32 random bytes as 64 hex digits \
             (for example from `openssl rand -hex 32`); keep it, tokens sealed with it need it to open"
        )
    })?;
    let vault = Arc::new(
        engine::vault::Vault::from_secret_text(1, key.expose())
            .map_err(|e| anyhow::anyhow!("ZQSYNC_SECRET_KEY: {e}"))?,
    );
    let pair = |id: &Option<String>, secret: &Option<server::config::Secret>| {
        id.clone()
            .zip(secret.as_ref().map(|s| s.expose().to_owned()))
    };
    Ok(server::RemoteSetup {
        endpoints: engine::connectors::Endpoints::production(),
        zoho_app: pair(&credentials.zoho_client_id, &credentials.zoho_client_secret),
        intuit_app: pair(&credentials.qbo_client_id, &credentials.qbo_client_secret),
        vault,
        resilience: engine::connectors::ResilienceConfig::default(),
    })
}

/// `zqsync worker`: claims due tenants from the shared schedule and syncs them until stopped;
/// any number of these may run against one PostgreSQL database (next to `zqsync serve
/// --worker off` instances). It talks to the real Zoho CRM and QuickBooks Online: sandbox mode's
/// simulators live inside `zqsync serve`, whose in-process worker covers them.
async fn run_worker(args: WorkerCommandArgs) -> anyhow::Result<()> {
    let remotes = production_remotes(args.secret_key.as_ref(), &args.remotes)?;
    let db = server::open_database(args.database.database_url.expose()).await?;
    let clock: Arc<dyn engine::Clock> = Arc::new(engine::SystemClock);
    let connections = server::connection_store(&remotes, &db, &clock, "http://127.0.0.1")?;
    let runner: Arc<dyn engine::sync::TenantRunner> = Arc::new(engine::sync::run::Engine::new(
        db.clone(),
        clock.clone(),
        connections,
    ));
    let stores = engine::sync::SyncStores::new(db.clone(), clock);
    let worker = engine::sync::Worker::new(
        stores.scheduler,
        stores.config,
        runner,
        args.worker.config(),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: letting running tenants finish");
        let _ = stop.send(true);
    });
    worker.run(stopped).await;
    db.close().await;
    Ok(())
}

fn log_sandbox_urls(urls: &sandbox::SandboxUrls) {
    tracing::info!(
        zoho_accounts = %urls.zoho_accounts,
        zoho_api = %urls.zoho_api,
        qbo_api = %urls.qbo_api,
        intuit_oauth = %urls.intuit_oauth,
        stripe_api = %urls.stripe_api,
        "simulated services are listening"
    );
}

/// `zqsync sandbox`: the simulators alone, for curl, a debugger or another client.
#[allow(clippy::print_stdout)]
async fn run_sandbox(args: &SandboxArgs) -> anyhow::Result<()> {
    let simulators = sandbox::Sandbox::start(args.config()).await?;
    let urls = simulators.urls();
    println!(
        "zqsync sandbox is running (Ctrl-C stops it); demo data: seed {}, {} records per module",
        args.seed, args.records_per_module
    );
    println!("  Zoho accounts (OAuth)   {}", urls.zoho_accounts);
    println!("  Zoho CRM API            {}/crm/v8/...", urls.zoho_api);
    println!(
        "  QuickBooks Online API   {}/v3/company/<realm>/...",
        urls.qbo_api
    );
    println!("  Intuit OAuth            {}", urls.intuit_oauth);
    println!("  Stripe API              {}/v1/...", urls.stripe_api);
    println!("  control API             /_sandbox/... on each of them");
    shutdown_signal().await;
    simulators.shutdown().await;
    Ok(())
}

/// What a person starting the server needs to see, on standard output.
#[allow(clippy::print_stdout)]
fn announce(url: &str, sandbox_mode: bool) {
    println!("zqsync is running at {url}");
    if sandbox_mode {
        println!("sandbox mode: log in as {DEMO_EMAIL} with password {DEMO_PASSWORD}, or sign up");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
