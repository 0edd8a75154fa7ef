//! The zqsync server: configuration, the HTTP router and its middleware, and start-up.

pub mod bench;
pub mod config;
mod export;
mod oauth;
pub mod telemetry;
mod web;

pub use web::PUBLIC_SERVER_FUNCTIONS;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use app::ssr::ServerCtx;
use engine::accounts::{AccountError, Accounts, NewAccount};
use engine::billing::{Billing, BillingConfig};
use engine::connections::ConnectionStore;
use engine::connectors::oauth::OAuthApp;
use engine::connectors::{ConnectorConfig, Connectors, Endpoints, ResilienceConfig};
use engine::integration::Integration;
use engine::sessions::Sessions;
use engine::sync::{TenantRunner, Worker, WorkerConfig};
use engine::vault::Vault;
use engine::{Clock, Db};
use tokio::task::JoinHandle;

/// Everything `start` needs, already parsed.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    pub site_root: PathBuf,
    pub session_idle_secs: u64,
    /// Sign-ups allowed per client address and window.
    pub signup_limit: engine::SignupLimit,
    /// Reverse proxies whose `X-Forwarded-For` is believed (empty: the header is ignored).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub sandbox_mode: bool,
    /// Stripe and email; `None` runs without billing (the Change Plan page says so).
    pub billing: Option<BillingConfig>,
    pub remotes: RemoteSetup,
    /// The in-process sync worker; `None` runs none (`ZQSYNC_WORKER=off`).
    pub worker: Option<WorkerConfig>,
    /// The sync run that worker performs; without one the worker does not start.
    pub runner: Option<Arc<dyn TenantRunner>>,
    /// Shown on the Help page.
    pub support_email: String,
}

/// Where Zoho CRM and QuickBooks Online live (the real hosts, or the sandbox's), the OAuth apps
/// registered with them, and the key that seals their tokens at rest.
#[derive(Debug, Clone)]
pub struct RemoteSetup {
    pub endpoints: Endpoints,
    /// (client id, client secret); `None`: that system cannot be connected on this server.
    pub zoho_app: Option<(String, String)>,
    pub intuit_app: Option<(String, String)>,
    pub vault: Arc<Vault>,
    /// Rate limits, concurrency and patience of the Zoho and QuickBooks clients.
    pub resilience: ResilienceConfig,
}

impl RemoteSetup {
    /// The in-process simulators of sandbox mode, with the client ids they expect.
    pub fn sandbox(
        urls: &sandbox::SandboxUrls,
        config: &sandbox::SandboxConfig,
        vault: Arc<Vault>,
    ) -> Self {
        Self {
            endpoints: Endpoints::sandbox(
                &urls.zoho_accounts,
                &urls.zoho_api,
                &urls.qbo_api,
                &urls.intuit_oauth,
            ),
            zoho_app: Some((
                config.zoho_client_id.clone(),
                config.zoho_client_secret.clone(),
            )),
            intuit_app: Some((
                config.intuit_client_id.clone(),
                config.intuit_client_secret.clone(),
            )),
            vault,
            // A time-scaled sandbox's minutes are shorter; the budgets follow them.
            resilience: ResilienceConfig::default().time_scaled(config.time_scale),
        }
    }
}

/// A vault key that lives as long as this process: enough for sandbox mode, whose simulated
/// services forget their grants on restart anyway.
pub fn ephemeral_vault() -> anyhow::Result<Arc<Vault>> {
    use rand::RngCore as _;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    Ok(Arc::new(
        Vault::new(1, &key).map_err(|e| anyhow::anyhow!("{e}"))?,
    ))
}

/// The demo login created in sandbox mode, so a newcomer can look around at once.
pub const DEMO_COMPANY: &str = "Demo Company";
pub const DEMO_EMAIL: &str = app::api::auth::DEMO_EMAIL;
pub const DEMO_PASSWORD: &str = app::api::auth::DEMO_PASSWORD;

/// A started server; dropping it does not stop it, call [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub ctx: ServerCtx,
    shutdown: tokio::sync::watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
    housekeeping: JoinHandle<()>,
    worker: Option<JoinHandle<()>>,
}

impl RunningServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits for the server to stop (after a shutdown signal, or on an I/O failure).
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.serve.await.context("server task panicked")?;
        self.housekeeping.abort();
        // The worker stops with the server (even one that failed) and lets its runs finish.
        let _ = self.shutdown.send(true);
        if let Some(worker) = self.worker {
            worker.await.context("sync worker panicked")?;
        }
        result.context("server stopped with an error")
    }

    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.wait().await
    }

    /// A sender that stops the server gracefully when `true` is sent.
    pub fn shutdown_handle(&self) -> tokio::sync::watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// How long a stopping server waits for answers still being written.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Connects to the database and applies migrations.
pub async fn open_database(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url).await.with_context(|| {
        format!(
            "could not open the database {}",
            engine::db::redact_url(url)
        )
    })?;
    db.migrate()
        .await
        .context("could not apply database migrations")?;
    Ok(db)
}

/// Binds the listener and serves until shut down.
pub async fn start(
    settings: Settings,
    db: Db,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("could not listen on {}", settings.bind))?;
    start_on(listener, settings, db, clock).await
}

/// Serves on a listener bound beforehand: its address must be known first when the sandbox's
/// Stripe is to deliver webhooks to this server.
pub async fn start_on(
    listener: tokio::net::TcpListener,
    settings: Settings,
    db: Db,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<RunningServer> {
    // Metrics recorded before the recorder exists are lost: install it first.
    telemetry::prometheus();
    let cookie_secure = settings
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let billing = match &settings.billing {
        Some(config) => Some(
            Billing::start(config, db.clone(), clock.clone())
                .await
                .context("could not set up billing (Stripe and email)")?,
        ),
        None => None,
    };
    let addr = listener.local_addr()?;
    // OAuth callbacks come back to the public URL, known only now that the port is bound.
    let base_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let connections = connection_store(&settings.remotes, &db, &clock, &base_url)?;
    let ctx = ServerCtx {
        billing,
        accounts: Accounts::new(db.clone(), clock.clone()).with_signup_limit(settings.signup_limit),
        sessions: Sessions::new(db.clone(), clock.clone(), settings.session_idle_secs),
        integration: Integration::new(db.clone(), clock.clone()),
        sync: engine::sync::SyncStores::new(db.clone(), clock.clone()),
        connections,
        db,
        clock,
        cookie_secure,
        sandbox_mode: settings.sandbox_mode,
        support_email: settings.support_email.clone(),
        public_url: base_url,
    };
    let router = web::router(&settings, ctx.clone(), addr);

    let (shutdown, mut shutdown_rx) = tokio::sync::watch::channel(false);
    let worker = start_worker(&settings, &ctx, shutdown_rx.clone());
    let mut grace_rx = shutdown_rx.clone();
    let serve = tokio::spawn(async move {
        let graceful = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = shutdown_rx.wait_for(|stop| *stop).await;
        });
        // A graceful stop waits for open answers; one that never ends (a client that stopped
        // reading, a page that stalled) must not hold a deploy or a test run forever.
        tokio::select! {
            result = graceful => result,
            () = async {
                let _ = grace_rx.wait_for(|stop| *stop).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!(
                    grace_secs = SHUTDOWN_GRACE.as_secs(),
                    "answers still open after the shutdown grace period; stopped without them"
                );
                Ok(())
            }
        }
    });
    let housekeeping = tokio::spawn(housekeeping(ctx.sessions.clone(), ctx.accounts.clone()));
    Ok(RunningServer {
        addr,
        ctx,
        shutdown,
        serve,
        housekeeping,
        worker,
    })
}

/// The in-process sync worker, when it is switched on and there is a sync run to perform.
fn start_worker(
    settings: &Settings,
    ctx: &ServerCtx,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let Some(config) = settings.worker.clone() else {
        tracing::info!("in-process sync worker is off (ZQSYNC_WORKER=off)");
        return None;
    };
    // Tests may bring their own run; otherwise the sync engine runs the tenants.
    let runner = settings.runner.clone().unwrap_or_else(|| {
        Arc::new(engine::sync::run::Engine::new(
            ctx.db.clone(),
            ctx.clock.clone(),
            ctx.connections.clone(),
        ))
    });
    let worker = Worker::new(
        ctx.sync.scheduler.clone(),
        ctx.sync.config.clone(),
        runner,
        config,
    );
    Some(tokio::spawn(async move { worker.run(shutdown).await }))
}

/// The connections (tokens, API clients) of every tenant. OAuth callbacks come back to
/// `base_url` (the public URL); a worker process that never completes an authorization may
/// pass any URL.
pub fn connection_store(
    remotes: &RemoteSetup,
    db: &Db,
    clock: &Arc<dyn Clock>,
    base_url: &str,
) -> anyhow::Result<Arc<ConnectionStore>> {
    let app = |credentials: &Option<(String, String)>, path: &str| {
        credentials.as_ref().map(|(id, secret)| OAuthApp {
            client_id: id.clone(),
            client_secret: secret.clone(),
            redirect_uri: format!("{base_url}{path}"),
        })
    };
    let connectors = Connectors::new(ConnectorConfig {
        endpoints: remotes.endpoints.clone(),
        resilience: remotes.resilience.clone(),
    })
    .context("could not set up the Zoho and QuickBooks clients")?;
    Ok(Arc::new(ConnectionStore::new(
        db.clone(),
        remotes.vault.clone(),
        clock.clone(),
        connectors,
        app(&remotes.zoho_app, oauth::ZOHO_CALLBACK),
        app(&remotes.intuit_app, oauth::INTUIT_CALLBACK),
    )))
}

/// Removes idle sessions, log-in failures and sign-ups past their windows, and expired
/// password reset links, once a minute.
async fn housekeeping(sessions: Sessions, accounts: Accounts) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match sessions.purge_expired().await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "purged idle sessions"),
            Err(error) => tracing::warn!(%error, "session housekeeping failed"),
        }
        if let Err(error) = accounts.purge_expired_attempts().await {
            tracing::warn!(%error, "throttle housekeeping failed");
        }
        if let Err(error) = accounts.purge_expired_reset_links().await {
            tracing::warn!(%error, "password reset housekeeping failed");
        }
    }
}

/// Sandbox mode: make sure the demo login exists.
pub async fn ensure_demo_account(accounts: &Accounts) -> anyhow::Result<()> {
    let demo = NewAccount {
        company_name: DEMO_COMPANY.to_owned(),
        email: DEMO_EMAIL.to_owned(),
        password: DEMO_PASSWORD.to_owned(),
    };
    match accounts.create_account(&demo).await {
        Ok(_) | Err(AccountError::DuplicateEmail) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("could not create the demo account: {e}")),
    }
}
