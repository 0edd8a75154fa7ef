//! Simulators of the remote APIs zqsync talks to: Zoho CRM v8 and Zoho accounts OAuth, QuickBooks
//! Online v3 and Intuit OAuth, and the Stripe subset billing needs. Each remote host gets its own
//! loopback port so a client that mixes up base URLs fails here as it would against the real hosts;
//! the paths under each port are the real hosts' paths. `/_sandbox/...` (on every port) is the
//! control API for tests: fault injection, clock skew, token minting and reading back writes.

// serde_json::json! needs more than the default 128 for the metadata documents.
#![recursion_limit = "256"]
// Handlers build their error answers up front and return them as `Err(Response)`; boxing them
// would only add noise to a simulator.
#![allow(clippy::result_large_err)]

mod clock;
mod control;
mod oauth;
mod pages;
mod qbo;
mod seed;
mod service;
mod stripe;
mod tokens;
mod util;
mod zoho;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SystemClock};

/// Which Zoho CRM edition the simulated org runs; the Free edition has no inventory modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZohoEdition {
    Free,
    #[default]
    Professional,
}

/// The body format of QBO webhooks: Intuit is moving every app to CloudEvents in 2026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QboWebhookFormat {
    #[default]
    CloudEvents,
    Legacy,
}

/// Everything the sandbox needs to start. `Default` gives a small deterministic demo world.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// RNG seed for the demo data; the same seed always gives the same records.
    pub seed: u64,
    /// Records generated per module / entity (0 = empty world besides reference data).
    pub records_per_module: usize,
    pub clock: Arc<dyn Clock>,
    /// First port to bind (the five services take `base_port..base_port+5`); 0 = any free ports.
    pub base_port: u16,
    /// The QBO company id handed out by the Intuit consent page.
    pub realm_id: String,
    pub intuit_client_id: String,
    pub intuit_client_secret: String,
    pub zoho_client_id: String,
    pub zoho_client_secret: String,
    pub zoho_edition: ZohoEdition,
    /// The data centre the Zoho callback names (`location=`): `us`, `eu`, `in`, `au`, `jp`, `ca`, …
    pub zoho_location: String,
    pub stripe_secret_key: String,
    pub stripe_webhook_secret: String,
    /// Where Stripe events are POSTed (signed); `None` = events are only stored.
    pub stripe_webhook_url: Option<String>,
    /// QBO throttles (per realm): requests per minute, in-flight requests, batch calls per minute.
    pub qbo_requests_per_minute: usize,
    pub qbo_max_concurrent: usize,
    pub qbo_batches_per_minute: usize,
    /// Zoho org limits: simultaneous calls and API credits per rolling 24 h.
    pub zoho_max_concurrent: usize,
    pub zoho_daily_credits: usize,
    /// How far `page_token` paging reaches in Zoho lists (100,000 in production; lower it in tests).
    pub zoho_page_token_limit: usize,
    /// Where QBO change notifications are POSTed (signed with `intuit-signature`); `None` = not sent.
    pub qbo_webhook_url: Option<String>,
    pub qbo_webhook_verifier_token: String,
    pub qbo_webhook_format: QboWebhookFormat,
    /// Skip the consent pages: authorize redirects straight back with a code (unattended demos).
    pub auto_consent: bool,
    /// The name the client app is registered under with the simulated providers: the consent
    /// pages ask on its behalf and Checkout sells in its name.
    pub app_name: String,
    /// How many times faster than real time the QBO rate-limit windows run: 60 makes QBO's
    /// one-minute windows (500 requests, 40 batches) last one second of wall time, so a
    /// benchmark of the throttled schedule takes seconds instead of minutes. 1 = real time.
    pub time_scale: f64,
    /// Keep every write in the `/_sandbox/writes` log (tests assert on it). Benchmarks turn it
    /// off: the log would hold a parsed copy of every body sent.
    pub record_writes: bool,
    /// Seed only these Zoho modules, in these numbers, instead of `records_per_module` of
    /// everything (benchmarks: a large org without paying for modules they do not read).
    pub zoho_seed: Option<ZohoSeed>,
}

/// A Zoho org of a chosen size: accounts, products and invoices (each invoice's lines name
/// seeded products and its account a seeded account), modified one per minute going back from
/// `newest_age` ago, accounts oldest, then products, then invoices. The QBO company gets only
/// its reference data.
#[derive(Debug, Clone, PartialEq)]
pub struct ZohoSeed {
    pub accounts: usize,
    pub products: usize,
    pub invoices: usize,
    pub lines_per_invoice: usize,
    /// How long ago the newest seeded record was modified.
    pub newest_age: Duration,
}

impl ZohoSeed {
    /// How long ago the oldest seeded record was modified.
    pub fn oldest_age(&self) -> Duration {
        let total = self.accounts + self.products + self.invoices;
        self.newest_age + Duration::minutes(i64::try_from(total).unwrap_or(i64::MAX / 120))
    }
}

/// What the simulated QBO API saw since the sandbox started (every realm): calls that passed
/// the throttles, batch calls among them, and calls answered 429 by the throttles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QboTraffic {
    pub requests: u64,
    pub batches: u64,
    pub throttled: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            records_per_module: 25,
            clock: Arc::new(SystemClock),
            base_port: 0,
            realm_id: "9341453050298464".to_owned(),
            intuit_client_id: "sandbox-intuit-client".to_owned(),
            intuit_client_secret: "sandbox-intuit-secret".to_owned(),
            zoho_client_id: "1000.SANDBOXZOHOCLIENT".to_owned(),
            zoho_client_secret: "sandbox-zoho-secret".to_owned(),
            zoho_edition: ZohoEdition::default(),
            zoho_location: "us".to_owned(),
            stripe_secret_key: "sk_test_sandbox".to_owned(),
            stripe_webhook_secret: "whsec_sandbox".to_owned(),
            stripe_webhook_url: None,
            qbo_requests_per_minute: 500,
            qbo_max_concurrent: 10,
            qbo_batches_per_minute: 40,
            zoho_max_concurrent: 15,
            zoho_daily_credits: 1_000_000,
            auto_consent: false,
            app_name: "zqsync".to_owned(),
            qbo_webhook_url: None,
            qbo_webhook_verifier_token: "sandbox-verifier-token".to_owned(),
            qbo_webhook_format: QboWebhookFormat::default(),
            zoho_page_token_limit: 100_000,
            time_scale: 1.0,
            record_writes: true,
            zoho_seed: None,
        }
    }
}

/// Base URLs of the simulated hosts, without a trailing slash. Point clients at them exactly as
/// at the real hosts: `{qbo_api}/v3/company/{realm}/...`, `{zoho_api}/crm/v8/...`,
/// `{zoho_accounts}/oauth/v2/token`, `{intuit_oauth}/oauth2/v1/tokens/bearer`, `{stripe_api}/v1/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUrls {
    pub zoho_accounts: String,
    pub zoho_api: String,
    pub qbo_api: String,
    pub intuit_oauth: String,
    pub stripe_api: String,
}

impl std::fmt::Display for SandboxUrls {
    /// One `name url` line per simulated host, for `zqsync sandbox` to print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "zoho_accounts {}", self.zoho_accounts)?;
        writeln!(f, "zoho_api      {}", self.zoho_api)?;
        writeln!(f, "qbo_api       {}", self.qbo_api)?;
        writeln!(f, "intuit_oauth  {}", self.intuit_oauth)?;
        write!(f, "stripe_api    {}", self.stripe_api)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not bind the sandbox listener on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Why [`auto_consent`] got no callback.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("the authorize page could not be reached: {0}")]
    Unreachable(String),
    #[error("the authorize page answered {0} instead of redirecting (is auto_consent on?)")]
    NoRedirect(u16),
    #[error("the redirect does not name a valid callback URL")]
    BadLocation,
}

/// Opens an authorize URL of a sandbox started with `auto_consent` (as a browser would) and
/// returns the query of the callback it redirects to: `code`, `state`, and `realmId` (Intuit)
/// or `accounts-server` (Zoho). Tests and `zqsync bench` connect tenants with it.
pub async fn auto_consent(authorize_url: &str) -> Result<Vec<(String, String)>, ConsentError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ConsentError::Unreachable(e.to_string()))?;
    let answer = http
        .get(authorize_url)
        .send()
        .await
        .map_err(|e| ConsentError::Unreachable(e.without_url().to_string()))?;
    if !answer.status().is_redirection() {
        return Err(ConsentError::NoRedirect(answer.status().as_u16()));
    }
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ConsentError::BadLocation)?;
    let url = reqwest::Url::parse(location).map_err(|_| ConsentError::BadLocation)?;
    Ok(url.query_pairs().into_owned().collect())
}

/// The simulated services a fault or a port belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Service {
    ZohoAccounts,
    ZohoApi,
    QboApi,
    IntuitOauth,
    StripeApi,
}

/// One write a client made, kept so tests can assert on what reached the remote side.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct WriteRecord {
    pub service: Service,
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
    pub at: String,
}

/// State shared by every router.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub urls: SandboxUrls,
    /// Added to the configured clock; moved by `/_sandbox/clock/advance`.
    skew: Mutex<Duration>,
    pub qbo: Mutex<qbo::Store>,
    pub zoho: Mutex<zoho::Store>,
    pub oauth: Mutex<oauth::Store>,
    pub stripe: Mutex<stripe::Store>,
    pub faults: Mutex<control::Faults>,
    pub writes: Mutex<Vec<WriteRecord>>,
    pub http: reqwest::Client,
    pub qbo_traffic: QboCounters,
}

/// Counters behind [`QboTraffic`].
#[derive(Debug, Default)]
pub(crate) struct QboCounters {
    pub requests: AtomicU64,
    pub batches: AtomicU64,
    pub throttled: AtomicU64,
}

/// Locks ignoring poisoning: a panicking handler must not take the whole simulator down.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn now(&self) -> DateTime<Utc> {
        self.config.clock.now() + *lock(&self.skew)
    }

    pub fn advance_clock(&self, by: Duration) {
        *lock(&self.skew) += by;
    }

    /// QBO's one-minute throttle window, shortened by the configured time scale.
    pub fn rate_window(&self) -> Duration {
        let scale = if self.config.time_scale.is_finite() && self.config.time_scale > 0.0 {
            self.config.time_scale
        } else {
            1.0
        };
        // Microseconds: 60 s / scale stays exact enough for any sensible scale.
        #[allow(clippy::cast_possible_truncation)]
        let micros = (60_000_000.0 / scale).round().max(1.0) as i64;
        Duration::microseconds(micros)
    }

    pub fn record_write(
        &self,
        service: Service,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) {
        if !self.config.record_writes {
            return;
        }
        let at = self.now().to_rfc3339();
        lock(&self.writes).push(WriteRecord {
            service,
            method: method.to_owned(),
            path: path.to_owned(),
            body,
            at,
        });
    }
}

/// A running sandbox. Dropping it without `shutdown` leaves the servers running until the runtime ends.
pub struct Sandbox {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("urls", &self.shared.urls)
            .finish_non_exhaustive()
    }
}

async fn bind(port: u16) -> Result<(TcpListener, String), SandboxError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    Ok((listener, format!("http://{local}")))
}

impl Sandbox {
    /// Binds the five simulated hosts on 127.0.0.1, seeds the demo data and starts serving.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        // `Err` means a provider is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = |offset: u16| {
            if config.base_port == 0 {
                0
            } else {
                config.base_port + offset
            }
        };
        let (zoho_accounts_l, zoho_accounts) = bind(port(0)).await?;
        let (zoho_api_l, zoho_api) = bind(port(1)).await?;
        let (qbo_api_l, qbo_api) = bind(port(2)).await?;
        let (intuit_l, intuit_oauth) = bind(port(3)).await?;
        let (stripe_l, stripe_api) = bind(port(4)).await?;
        let urls = SandboxUrls {
            zoho_accounts,
            zoho_api,
            qbo_api,
            intuit_oauth,
            stripe_api,
        };
        let now = config.clock.now();
        let world = seed::seed(&config, now);
        let shared = Arc::new(Shared {
            urls,
            skew: Mutex::new(Duration::zero()),
            qbo: Mutex::new(world.qbo),
            zoho: Mutex::new(world.zoho),
            oauth: Mutex::new(oauth::Store::default()),
            stripe: Mutex::new(world.stripe),
            faults: Mutex::new(control::Faults::default()),
            writes: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
            qbo_traffic: QboCounters::default(),
            config,
        });
        let (stop, stop_rx) = watch::channel(false);
        let routers = [
            (zoho_accounts_l, oauth::zoho_router(), Service::ZohoAccounts),
            (zoho_api_l, zoho::router(&shared), Service::ZohoApi),
            (qbo_api_l, qbo::router(&shared), Service::QboApi),
            (intuit_l, oauth::intuit_router(), Service::IntuitOauth),
            (stripe_l, stripe::router(&shared), Service::StripeApi),
        ];
        let mut tasks = Vec::new();
        // Stripe acts on its own when time passes (trial ends, renewals), not only when called.
        let ticker_shared = shared.clone();
        let mut ticker_stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut interval = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tokio::select! {
                    _ = interval.tick() => {
                        let now = ticker_shared.now();
                        lock(&ticker_shared.stripe).tick(now);
                        stripe::flush_events(&ticker_shared);
                    }
                    _ = ticker_stop.wait_for(|stopped| *stopped) => break,
                }
            }
        }));
        for (listener, router, service) in routers {
            let app = control::wrap(router, service, &shared);
            let mut rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stopped| *stopped).await;
                });
                if let Err(error) = serve.await {
                    tracing::warn!(%error, ?service, "sandbox server stopped with an error");
                }
            }));
        }
        Ok(Sandbox {
            shared,
            stop,
            tasks,
        })
    }

    pub fn urls(&self) -> SandboxUrls {
        self.shared.urls.clone()
    }

    /// Moves simulated time forward (on top of the configured clock).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
    }

    /// The sandbox's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// QBO calls seen so far (benchmarks: how many batches, whether any call was throttled).
    pub fn qbo_traffic(&self) -> QboTraffic {
        let counters = &self.shared.qbo_traffic;
        QboTraffic {
            requests: counters.requests.load(Ordering::Relaxed),
            batches: counters.batches.load(Ordering::Relaxed),
            throttled: counters.throttled.load(Ordering::Relaxed),
        }
    }

    /// Issues a valid QBO access token for `realm_id` without the browser flow (tests, `serve` in sandbox mode).
    pub fn mint_qbo_access_token(&self, realm_id: &str) -> String {
        let now = self.shared.now();
        lock(&self.shared.oauth).mint_intuit_access(realm_id, now)
    }

    /// Issues a valid Zoho CRM access token without the browser flow.
    pub fn mint_zoho_access_token(&self) -> String {
        let now = self.shared.now();
        lock(&self.shared.oauth).mint_zoho_access(now)
    }

    /// Stops every server and waits for them to finish.
    /// A handle that edits the simulated Zoho org as its users would, callable from code that
    /// cannot wait for HTTP (a test's hook inside a sync run).
    pub fn zoho_editor(&self) -> ZohoEditor {
        ZohoEditor(self.shared.clone())
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Edits the simulated Zoho org directly (see [`Sandbox::zoho_editor`]); the control API's
/// `touch` and `DELETE` do the same over HTTP.
#[derive(Clone)]
pub struct ZohoEditor(Arc<Shared>);

impl std::fmt::Debug for ZohoEditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZohoEditor").finish_non_exhaustive()
    }
}

impl ZohoEditor {
    /// A user's edit of record `id`: sets `changes` and stamps `Modified_Time` with now.
    /// Returns the record as it is now (`None`: no such module or record).
    pub fn touch(
        &self,
        module: &str,
        id: &str,
        changes: serde_json::Map<String, serde_json::Value>,
    ) -> Option<serde_json::Value> {
        zoho::control::touch_record(&self.0, module, id, changes).flatten()
    }

    /// A user deletes record `id`; whether it was there.
    pub fn delete(&self, module: &str, id: &str) -> bool {
        zoho::control::delete_record(&self.0, module, id).unwrap_or(false)
    }
}
