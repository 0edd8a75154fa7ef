//! What the engine's integration tests share. [`World`]: a sandbox, a fresh migrated database
//! (SQLite file, or a new PostgreSQL database when ZQSYNC_TEST_DATABASE=postgres), a manual
//! clock at the sandbox's time and a connection store over both, with the simulators' OAuth
//! apps. [`SyncWorld`] adds one tenant connected to both systems and the sync engine.

use std::sync::Arc;

use chrono::Duration;
use engine::connections::{ConnectionInfo, ConnectionStore, IntuitCallback, ZohoCallback};
use engine::connectors::{ConnectorConfig, Connectors, Endpoints, OAuthApp, ResilienceConfig};
use engine::vault::Vault;
use engine::{Db, ManualClock};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

mod sync;

pub use sync::{SyncWorld, TENANT, assert_each_once, by_name, in_walk_order};
pub use test_support::{FreshDatabase, fresh_database};

/// The vault key of every test world.
pub const KEY: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
/// The redirect URI both OAuth apps are registered with (nothing listens there: the tests read
/// the callback's query from the redirect).
pub const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

/// Retries that wait milliseconds, not seconds; pacing and rate-limit pauses as in production.
pub fn quick_retries() -> ResilienceConfig {
    ResilienceConfig {
        min_backoff: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_millis(50),
        ..ResilienceConfig::default()
    }
}

/// [`quick_retries`] without pacing and with short 429 pauses: the simulators' own limits are
/// what the sync tests meet, and they need no minute-long pause.
pub fn unpaced() -> ResilienceConfig {
    ResilienceConfig {
        qbo_rate_limit_wait: std::time::Duration::from_millis(50),
        zoho_rate_limit_wait: std::time::Duration::from_millis(50),
        qbo_requests_per_minute: None,
        qbo_batches_per_minute: None,
        zoho_requests_per_second: None,
        ..quick_retries()
    }
}

/// The real HTTP clients, pointed at the sandbox.
pub fn sandbox_connectors(sandbox: &Sandbox, resilience: ResilienceConfig) -> Connectors {
    let urls = sandbox.urls();
    Connectors::new(ConnectorConfig {
        endpoints: Endpoints::sandbox(
            &urls.zoho_accounts,
            &urls.zoho_api,
            &urls.qbo_api,
            &urls.intuit_oauth,
        ),
        resilience,
    })
    .expect("connectors")
}

/// A sandbox, a fresh migrated database and a connection store over both.
pub struct World {
    pub sandbox: Sandbox,
    pub db: Db,
    pub database: Option<FreshDatabase>,
    pub clock: Arc<ManualClock>,
    pub connectors: Connectors,
    pub resilience: ResilienceConfig,
    pub connections: Arc<ConnectionStore>,
    /// A client that does not follow redirects (consent pages answer with one).
    pub http: reqwest::Client,
    pub realm: String,
    pub intuit_app: OAuthApp,
    pub zoho_app: OAuthApp,
}

impl World {
    /// Starts the sandbox of `config` and a database with no tenants yet; the connectors use
    /// `resilience`.
    pub async fn start_with(config: SandboxConfig, resilience: ResilienceConfig) -> World {
        let realm = config.realm_id.clone();
        let intuit_app = OAuthApp {
            client_id: config.intuit_client_id.clone(),
            client_secret: config.intuit_client_secret.clone(),
            redirect_uri: REDIRECT.to_owned(),
        };
        let zoho_app = OAuthApp {
            client_id: config.zoho_client_id.clone(),
            client_secret: config.zoho_client_secret.clone(),
            redirect_uri: REDIRECT.to_owned(),
        };
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let database = fresh_database().await;
        let db = Db::connect(&database.url).await.expect("database");
        db.migrate().await.expect("migrations");
        let clock = Arc::new(ManualClock::new(sandbox.now()));
        let connectors = sandbox_connectors(&sandbox, resilience.clone());
        let connections = connection_store(
            db.clone(),
            clock.clone(),
            connectors.clone(),
            &zoho_app,
            &intuit_app,
        );
        World {
            sandbox,
            db,
            database: Some(database),
            clock,
            connectors,
            resilience,
            connections,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            realm,
            intuit_app,
            zoho_app,
        }
    }

    /// Another server process: its own pool, HTTP clients, caches and locks, same database.
    pub async fn second_process(&self) -> Arc<ConnectionStore> {
        let url = &self.database.as_ref().expect("a database").url;
        let db = Db::connect(url).await.expect("second pool");
        connection_store(
            db,
            self.clock.clone(),
            sandbox_connectors(&self.sandbox, self.resilience.clone()),
            &self.zoho_app,
            &self.intuit_app,
        )
    }

    /// A tenant row on `plan`.
    pub async fn add_tenant(&self, id: &str, company: &str, plan: &str) {
        engine::with_pool!(&self.db, pool => {
            sqlx::query("INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, $2, $3, 0)")
                .bind(id)
                .bind(company)
                .bind(plan)
                .execute(pool)
                .await
                .expect("tenant");
        });
    }

    /// Completes `tenant`'s QuickBooks connection with the consent page's callback.
    pub async fn complete_qbo(
        &self,
        tenant: &str,
        callback: &[(String, String)],
    ) -> ConnectionInfo {
        self.connections
            .complete_qbo(
                tenant,
                &IntuitCallback {
                    code: param(callback, "code"),
                    state: param(callback, "state"),
                    realm_id: param(callback, "realmId"),
                },
            )
            .await
            .expect("QBO connected")
    }

    /// Completes `tenant`'s Zoho connection with the consent page's callback.
    pub async fn complete_zoho(
        &self,
        tenant: &str,
        callback: &[(String, String)],
    ) -> ConnectionInfo {
        self.connections
            .complete_zoho(
                tenant,
                &ZohoCallback {
                    code: param(callback, "code"),
                    state: param(callback, "state"),
                    accounts_server: param(callback, "accounts-server"),
                },
            )
            .await
            .expect("Zoho connected")
    }

    /// Moves both clocks: ours and the simulators'.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.sandbox.advance_clock(by);
    }

    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use engine::Clock as _;
        self.clock.now()
    }

    /// Calls the sandbox's control API (`/_sandbox/{path}`) and returns its JSON answer.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let base = self.sandbox.urls().qbo_api;
        let mut request = self.http.request(method, format!("{base}/_sandbox/{path}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("control");
        assert!(
            answer.status().is_success(),
            "control {path}: {}",
            answer.status()
        );
        answer.json().await.unwrap_or(Value::Null)
    }

    /// The requests to `service` that the sandbox saw, by path, in the order they came.
    pub async fn write_paths(&self, service: &str) -> Vec<String> {
        let writes = self
            .control(
                reqwest::Method::GET,
                &format!("writes?service={service}"),
                None,
            )
            .await;
        writes["writes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w["path"].as_str().map(str::to_owned))
            .collect()
    }

    pub async fn finish(mut self) {
        self.db.close().await;
        let database = self.database.take();
        self.sandbox.shutdown().await;
        if let Some(database) = database {
            database.drop_it().await;
        }
    }
}

fn connection_store(
    db: Db,
    clock: Arc<ManualClock>,
    connectors: Connectors,
    zoho_app: &OAuthApp,
    intuit_app: &OAuthApp,
) -> Arc<ConnectionStore> {
    Arc::new(ConnectionStore::new(
        db,
        Arc::new(Vault::new(1, &KEY).expect("vault")),
        clock,
        connectors,
        Some(zoho_app.clone()),
        Some(intuit_app.clone()),
    ))
}

/// A query parameter of an OAuth callback; the test fails when the callback lacks it.
pub fn param(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("callback has no {name}: {pairs:?}"))
}
