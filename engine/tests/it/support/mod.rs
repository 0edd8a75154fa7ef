//! Shared by the engine's sync tests: a fresh database (SQLite file, or a new PostgreSQL
//! database when ZQSYNC_TEST_DATABASE=postgres), a sandbox, and a tenant connected to both
//! simulated systems through the real OAuth flow (auto consent), on a plan that allows every pair.

use std::sync::Arc;

use chrono::Duration;
use engine::connections::{ConnectionStore, IntuitCallback, Provider, ZohoCallback};
use engine::connectors::{
    ConnectorConfig, Connectors, Endpoints, OAuthApp, QboClient, ResilienceConfig, ZohoClient,
};
use engine::sync::SyncStores;
use engine::sync::run::Engine;
use engine::sync::store::Link;
use engine::vault::Vault;
use engine::{Db, ManualClock};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub const KEY: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
pub const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";
pub const TENANT: &str = "0195f3a0-0000-7000-8000-0000000000c1";

pub use test_support::{FreshDatabase, fresh_database};

pub fn connectors_for(sandbox: &Sandbox) -> Connectors {
    let urls = sandbox.urls();
    Connectors::new(ConnectorConfig {
        endpoints: Endpoints::sandbox(
            &urls.zoho_accounts,
            &urls.zoho_api,
            &urls.qbo_api,
            &urls.intuit_oauth,
        ),
        resilience: ResilienceConfig {
            min_backoff: std::time::Duration::from_millis(10),
            max_backoff: std::time::Duration::from_millis(50),
            // The simulators' 429s need no minute-long pause in tests.
            qbo_rate_limit_wait: std::time::Duration::from_millis(50),
            zoho_rate_limit_wait: std::time::Duration::from_millis(50),
            // Unpaced: the simulators' own limits are what these tests meet.
            qbo_requests_per_minute: None,
            qbo_batches_per_minute: None,
            zoho_requests_per_second: None,
            ..ResilienceConfig::default()
        },
    })
    .expect("connectors")
}

/// A sandbox, a database and one connected tenant, with the engine ready to run it.
pub struct SyncWorld {
    pub sandbox: Sandbox,
    pub db: Db,
    pub database: Option<FreshDatabase>,
    pub clock: Arc<ManualClock>,
    pub connections: Arc<ConnectionStore>,
    pub stores: SyncStores,
    pub engine: Engine,
    pub http: reqwest::Client,
    pub realm: String,
}

fn param(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

impl SyncWorld {
    /// `records` demo records per module in the sandbox; the tenant is on Professional Annual.
    pub async fn start(records: usize) -> SyncWorld {
        Self::start_with(SandboxConfig {
            records_per_module: records,
            ..SandboxConfig::default()
        })
        .await
    }

    pub async fn start_with(mut config: SandboxConfig) -> SyncWorld {
        config.auto_consent = true;
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
        engine::with_pool!(&db, pool => {
            sqlx::query("INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, 'Sync Test', 'professional_annual', 0)")
                .bind(TENANT)
                .execute(pool)
                .await
                .expect("tenant");
            sqlx::query("INSERT INTO billing_accounts (tenant_id, status, updated_at) VALUES ($1, 'active', 0)")
                .bind(TENANT)
                .execute(pool)
                .await
                .expect("billing");
            sqlx::query("INSERT INTO integration_settings (tenant_id, active, updated_at) VALUES ($1, TRUE, 0)")
                .bind(TENANT)
                .execute(pool)
                .await
                .expect("active");
        });
        let clock = Arc::new(ManualClock::new(sandbox.now()));
        let connections = Arc::new(ConnectionStore::new(
            db.clone(),
            Arc::new(Vault::new(1, &KEY).expect("vault")),
            clock.clone(),
            connectors_for(&sandbox),
            Some(zoho_app),
            Some(intuit_app),
        ));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let world = SyncWorld {
            stores: SyncStores::new(db.clone(), clock.clone()),
            engine: Engine::new(db.clone(), clock.clone(), connections.clone()),
            sandbox,
            db,
            database: Some(database),
            clock,
            connections,
            http,
            realm,
        };
        world.connect().await;
        world
    }

    async fn callback(&self, provider: Provider) -> Vec<(String, String)> {
        let url = self
            .connections
            .authorization_url(TENANT, provider)
            .await
            .expect("authorize URL");
        sandbox::auto_consent(&url).await.expect("auto consent")
    }

    async fn connect(&self) {
        let q = self.callback(Provider::Qbo).await;
        self.connections
            .complete_qbo(
                TENANT,
                &IntuitCallback {
                    code: param(&q, "code"),
                    state: param(&q, "state"),
                    realm_id: param(&q, "realmId"),
                },
            )
            .await
            .expect("QBO connected");
        let z = self.callback(Provider::Zoho).await;
        self.connections
            .complete_zoho(
                TENANT,
                &ZohoCallback {
                    code: param(&z, "code"),
                    state: param(&z, "state"),
                    accounts_server: param(&z, "accounts-server"),
                },
            )
            .await
            .expect("Zoho connected");
    }

    pub async fn qbo(&self) -> QboClient {
        self.connections
            .qbo_client(TENANT)
            .await
            .expect("qbo client")
    }

    pub async fn zoho(&self) -> ZohoClient {
        self.connections
            .zoho_client(TENANT)
            .await
            .expect("zoho client")
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

    pub async fn links(&self) -> Vec<Link> {
        self.engine.store().all_links(TENANT).await.expect("links")
    }

    /// Every QBO record of an entity (inactive included), through the sandbox's read-back.
    pub async fn qbo_records(&self, entity: &str) -> Vec<Value> {
        let base = self.sandbox.urls().qbo_api;
        let answer: Value = self
            .http
            .get(format!("{base}/_sandbox/qbo/{}/{entity}", self.realm))
            .send()
            .await
            .expect("read-back")
            .json()
            .await
            .expect("json");
        rows(answer)
    }

    pub async fn zoho_records(&self, module: &str) -> Vec<Value> {
        let base = self.sandbox.urls().zoho_api;
        let answer: Value = self
            .http
            .get(format!("{base}/_sandbox/zoho/{module}"))
            .send()
            .await
            .expect("read-back")
            .json()
            .await
            .expect("json");
        rows(answer)
    }

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

    pub async fn finish(mut self) {
        self.db.close().await;
        let database = self.database.take();
        self.sandbox.shutdown().await;
        if let Some(database) = database {
            database.drop_it().await;
        }
    }
}

fn rows(answer: Value) -> Vec<Value> {
    match answer {
        Value::Array(rows) => rows,
        Value::Object(map) => map
            .into_iter()
            .find_map(|(_, v)| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
