//! Typed clients for Zoho CRM v8 and QuickBooks Online v3, and their OAuth 2.0 flows.
//!
//! Every client is built from one [`Connectors`] per process, which owns the HTTP connection
//! pool (reqwest + rustls with the *ring* provider) and the per-tenant budgets, so all of a
//! tenant's calls share one rate limit and one concurrency cap however many clients exist.
//! Base URLs come from [`Endpoints`]: the real hosts in production, the sandbox's in tests.

mod api;
pub mod check;
pub mod error;
mod http;
pub mod oauth;
mod pacing;
pub mod qbo;
pub mod zoho;

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use api::{ApiFuture, QboApi, ZohoApi};
pub use error::{Api, ConnectorError, Remote};
pub use oauth::{IntuitOAuth, OAuthApp, ZohoDataCentre, ZohoOAuth};
pub use qbo::QboClient;
pub use zoho::ZohoClient;

use http::Http;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where access tokens come from. The connection store implements it (cached, shared, refreshed
/// under a lease); tests and sandbox tools can use [`StaticToken`].
pub trait TokenSource: Send + Sync {
    /// A current access token. `refused` is the token the API just refused: the source then
    /// refreshes unless another caller already replaced that token.
    fn access_token<'a>(
        &'a self,
        refused: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>>;

    /// The API refused a token that was just refreshed: the grant is unusable, mark the
    /// connection as needing a reconnect.
    fn refused_after_refresh(&self) -> BoxFuture<'_, ()>;
}

/// A fixed access token (tests, one-off tools). It cannot refresh.
#[derive(Clone)]
pub struct StaticToken(pub String);

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken(***)")
    }
}

impl TokenSource for StaticToken {
    fn access_token<'a>(
        &'a self,
        _refused: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }

    fn refused_after_refresh(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Base URLs of the remote hosts, without trailing slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://quickbooks.api.intuit.com` (or the sandbox-company host).
    pub qbo_api: String,
    /// Intuit's authorize page, token and revoke endpoints.
    pub intuit_authorize: String,
    pub intuit_token: String,
    pub intuit_revoke: String,
    /// Zoho data centres we accept: the `accounts-server` of a callback must be one of these,
    /// and the token response's `api_domain` must be that centre's.
    pub zoho_data_centres: Vec<ZohoDataCentre>,
    /// The accounts server a new Zoho connection starts at (Zoho redirects to the right one).
    pub zoho_default_accounts: String,
}

impl Endpoints {
    /// The real hosts (Intuit development and production keys share these; QBO sandbox
    /// companies use `https://sandbox-quickbooks.api.intuit.com` as `qbo_api`).
    pub fn production() -> Self {
        let dc = |location: &str, accounts: &str, api: &str| ZohoDataCentre {
            location: location.to_owned(),
            accounts_server: accounts.to_owned(),
            api_domain: api.to_owned(),
        };
        Self {
            qbo_api: "https://quickbooks.api.intuit.com".to_owned(),
            intuit_authorize: "https://appcenter.intuit.com/connect/oauth2".to_owned(),
            intuit_token: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer".to_owned(),
            intuit_revoke: "https://developer.api.intuit.com/v2/oauth2/tokens/revoke".to_owned(),
            zoho_data_centres: vec![
                dc(
                    "us",
                    "https://accounts.zoho.com",
                    "https://www.zohoapis.com",
                ),
                dc("eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
                dc("in", "https://accounts.zoho.in", "https://www.zohoapis.in"),
                dc(
                    "au",
                    "https://accounts.zoho.com.au",
                    "https://www.zohoapis.com.au",
                ),
                dc("jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
                dc(
                    "cn",
                    "https://accounts.zoho.com.cn",
                    "https://www.zohoapis.com.cn",
                ),
                dc(
                    "ca",
                    "https://accounts.zohocloud.ca",
                    "https://www.zohoapis.ca",
                ),
                dc("sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
                dc("uk", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
            ],
            zoho_default_accounts: "https://accounts.zoho.com".to_owned(),
        }
    }

    /// The simulators' hosts (`sandbox::SandboxUrls`), as the only accepted Zoho data centre.
    pub fn sandbox(zoho_accounts: &str, zoho_api: &str, qbo_api: &str, intuit_oauth: &str) -> Self {
        Self {
            qbo_api: qbo_api.to_owned(),
            intuit_authorize: format!("{intuit_oauth}/connect/oauth2"),
            intuit_token: format!("{intuit_oauth}/oauth2/v1/tokens/bearer"),
            intuit_revoke: format!("{intuit_oauth}/v2/oauth2/tokens/revoke"),
            zoho_data_centres: vec![ZohoDataCentre {
                location: "us".to_owned(),
                accounts_server: zoho_accounts.to_owned(),
                api_domain: zoho_api.to_owned(),
            }],
            zoho_default_accounts: zoho_accounts.to_owned(),
        }
    }
}

/// Budgets and patience. Defaults sit at or below the published limits: QBO 500 requests and
/// 40 batch calls per minute per realm, 10 concurrent; Zoho concurrency 5 (Free) … 25 per org,
/// shared with the customer's other apps.
#[derive(Debug, Clone)]
pub struct ResilienceConfig {
    /// Whole-request timeout (QBO itself gives up after 120 s).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt, for transient errors and 429s.
    pub max_retries: usize,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// A 429 asking for a longer pause than this is returned to the caller (the scheduler
    /// reschedules) instead of holding the call open.
    pub max_rate_limit_wait: Duration,
    /// Pause after a 429 without `Retry-After`: Intuit asks for 60 s.
    pub qbo_rate_limit_wait: Duration,
    pub zoho_rate_limit_wait: Duration,
    /// QBO calls per realm per minute, paced before they are sent so that QBO never has to
    /// answer 429 (`None`: not paced). 480 leaves a little of QBO's 500 to the company's other
    /// apps.
    pub qbo_requests_per_minute: Option<NonZeroU32>,
    /// QBO batch calls per realm per minute (QBO allows 40); each also counts as a request.
    pub qbo_batches_per_minute: Option<NonZeroU32>,
    /// How long a rate-limit "minute" lasts: 60 s, except against a time-scaled sandbox.
    pub minute: Duration,
    /// Zoho calls per second per tenant (`None`: not paced).
    pub zoho_requests_per_second: Option<NonZeroU32>,
    /// In-flight requests per realm (QBO allows 10) and per Zoho org (Free allows 5).
    pub qbo_max_concurrent: usize,
    pub zoho_max_concurrent: usize,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_retries: 4,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(65),
            qbo_rate_limit_wait: Duration::from_secs(60),
            zoho_rate_limit_wait: Duration::from_secs(10),
            qbo_requests_per_minute: NonZeroU32::new(480),
            qbo_batches_per_minute: NonZeroU32::new(40),
            minute: Duration::from_secs(60),
            zoho_requests_per_second: NonZeroU32::new(5),
            qbo_max_concurrent: 8,
            zoho_max_concurrent: 4,
        }
    }
}

impl ResilienceConfig {
    /// The same budgets against a sandbox whose clock of rate limits runs `factor` times
    /// faster (`sandbox::SandboxConfig::time_scale`): minutes, waits and backoffs shrink by
    /// the factor and per-second rates grow by it, so the schedule keeps its shape.
    #[must_use]
    pub fn time_scaled(mut self, factor: f64) -> Self {
        if !(factor.is_finite() && factor > 0.0) {
            return self;
        }
        let shrink = |d: Duration| d.div_f64(factor);
        self.minute = shrink(self.minute);
        self.min_backoff = shrink(self.min_backoff);
        self.max_backoff = shrink(self.max_backoff);
        self.max_rate_limit_wait = shrink(self.max_rate_limit_wait);
        self.qbo_rate_limit_wait = shrink(self.qbo_rate_limit_wait);
        self.zoho_rate_limit_wait = shrink(self.zoho_rate_limit_wait);
        self.zoho_requests_per_second = self.zoho_requests_per_second.map(|rate| {
            let scaled = (f64::from(rate.get()) * factor)
                .round()
                .min(f64::from(u32::MAX));
            // Saturating float-to-int: at least 1, at most u32::MAX.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            NonZeroU32::new(scaled as u32).unwrap_or(NonZeroU32::MIN)
        });
        self
    }
}

#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub endpoints: Endpoints,
    pub resilience: ResilienceConfig,
}

impl ConnectorConfig {
    /// The given hosts with the default budgets.
    pub fn new(endpoints: Endpoints) -> Self {
        Self {
            endpoints,
            resilience: ResilienceConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client: {0}")]
pub struct BuildError(String);

/// Installs rustls's *ring* provider as the process default (feature `tls`; a no-op without it
/// or when a provider is already installed). reqwest is built without a provider so that aws-lc
/// never enters the build, and then panics when it builds *any* client before one is
/// installed: call this first thing in `main`, before the sandbox or anything else builds one.
pub fn install_crypto_provider() {
    #[cfg(feature = "tls")]
    {
        // `Err` means a provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The process-wide connector hub: build it once and hand out clients per tenant.
#[derive(Debug, Clone)]
pub struct Connectors {
    http: Arc<Http>,
    endpoints: Arc<Endpoints>,
}

impl Connectors {
    pub fn new(config: ConnectorConfig) -> Result<Self, BuildError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(config.resilience.connect_timeout)
            .timeout(config.resilience.timeout)
            .user_agent(concat!("zqsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| BuildError(error.to_string()))?;
        Ok(Self {
            http: Arc::new(Http::new(client, config.resilience)),
            endpoints: Arc::new(config.endpoints),
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// A QBO client for one tenant's company.
    pub fn qbo(&self, tenant_id: &str, realm_id: &str, tokens: Arc<dyn TokenSource>) -> QboClient {
        QboClient::new(
            self.http.clone(),
            &self.endpoints.qbo_api,
            tenant_id,
            realm_id,
            tokens,
        )
    }

    /// A Zoho CRM client for one tenant's org at its stored `api_domain`.
    pub fn zoho(
        &self,
        tenant_id: &str,
        api_domain: &str,
        tokens: Arc<dyn TokenSource>,
    ) -> ZohoClient {
        ZohoClient::new(self.http.clone(), api_domain, tenant_id, tokens)
    }

    pub(crate) fn http(&self) -> &Arc<Http> {
        &self.http
    }
}
