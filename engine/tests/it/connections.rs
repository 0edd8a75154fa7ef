//! Connections end to end: the OAuth dance against the sandbox's consent pages, tokens sealed in
//! the database, refresh (Intuit rotation and its 24 h grace), `invalid_grant` → needs
//! reconnect, one refresh for many concurrent callers (tasks and separate "processes"), and the
//! vault refusing a token moved to another tenant.
//!
//! The database is a SQLite file by default; `ZQSYNC_TEST_DATABASE=postgres` (with
//! `ZQSYNC_TEST_POSTGRES_URL`) runs the same tests on PostgreSQL.

use std::sync::Arc;

use chrono::Duration;

use engine::connections::{
    ConnectionError, ConnectionStatus, ConnectionStore, IntuitCallback, Provider, ZohoCallback,
};
use engine::connectors::oauth::OAuthApp;
use engine::connectors::{
    ConnectorConfig, ConnectorError, Connectors, Endpoints, IntuitOAuth, ResilienceConfig,
    ZohoOAuth,
};
use engine::vault::Vault;
use engine::{Db, ManualClock};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

const KEY: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

struct World {
    sandbox: Sandbox,
    db: Db,
    database_url: String,
    clock: Arc<ManualClock>,
    connectors: Connectors,
    store: Arc<ConnectionStore>,
    http: reqwest::Client,
    realm: String,
    intuit_app: OAuthApp,
    zoho_app: OAuthApp,
    database: Option<crate::support::FreshDatabase>,
}

const TENANT_A: &str = "0195f3a0-0000-7000-8000-00000000000a";
const TENANT_B: &str = "0195f3a0-0000-7000-8000-00000000000b";

impl World {
    async fn start() -> World {
        let config = SandboxConfig {
            records_per_module: 3,
            ..SandboxConfig::default()
        };
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
        let database = crate::support::fresh_database().await;
        let database_url = database.url.clone();
        let db = Db::connect(&database_url).await.expect("database");
        db.migrate().await.expect("migrations");
        for (id, name) in [(TENANT_A, "Tenant A"), (TENANT_B, "Tenant B")] {
            engine::with_pool!(&db, pool => {
                sqlx::query("INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, $2, 'freemium', 0)")
                    .bind(id)
                    .bind(name)
                    .execute(pool)
                    .await
                    .expect("tenant");
            });
        }
        let clock = Arc::new(ManualClock::new(sandbox.now()));
        let connectors = connectors_for(&sandbox);
        let store = Arc::new(ConnectionStore::new(
            db.clone(),
            Arc::new(Vault::new(1, &KEY).expect("vault")),
            clock.clone(),
            connectors.clone(),
            Some(zoho_app.clone()),
            Some(intuit_app.clone()),
        ));
        World {
            sandbox,
            db,
            database_url,
            clock,
            connectors,
            store,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            realm,
            intuit_app,
            zoho_app,
            database: Some(database),
        }
    }

    /// Another server process: its own pool, HTTP client, caches and locks, same database.
    async fn second_process(&self) -> Arc<ConnectionStore> {
        let db = Db::connect(&self.database_url).await.expect("second pool");
        Arc::new(ConnectionStore::new(
            db,
            Arc::new(Vault::new(1, &KEY).expect("vault")),
            self.clock.clone(),
            connectors_for(&self.sandbox),
            Some(self.zoho_app.clone()),
            Some(self.intuit_app.clone()),
        ))
    }

    /// Moves both worlds' time: ours and the simulators'.
    fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.sandbox.advance_clock(by);
    }

    /// Plays the user on the consent page: opens the authorize URL, presses Accept, and
    /// returns the callback's query parameters.
    async fn consent(&self, authorize_url: &str, consent_path: &str) -> Vec<(String, String)> {
        let url = reqwest::Url::parse(authorize_url).expect("authorize URL");
        let page = self
            .http
            .get(url.clone())
            .send()
            .await
            .expect("consent page");
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("html").contains("approve"));
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("decision".to_owned(), "allow".to_owned()));
        let consent = format!("{}{consent_path}", url.origin().ascii_serialization());
        let answer = self
            .http
            .post(consent)
            .form(&form)
            .send()
            .await
            .expect("consent");
        assert!(answer.status().is_redirection(), "{}", answer.status());
        let location = answer.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        assert!(location.starts_with(REDIRECT), "{location}");
        reqwest::Url::parse(&location)
            .expect("callback URL")
            .query_pairs()
            .into_owned()
            .collect()
    }

    async fn connect_qbo(&self, tenant: &str) -> engine::connections::ConnectionInfo {
        let url = self
            .store
            .authorization_url(tenant, Provider::Qbo)
            .await
            .expect("url");
        let callback = self.consent(&url, "/connect/oauth2/consent").await;
        self.store
            .complete_qbo(
                tenant,
                &IntuitCallback {
                    code: param(&callback, "code"),
                    state: param(&callback, "state"),
                    realm_id: param(&callback, "realmId"),
                },
            )
            .await
            .expect("QBO connected")
    }

    async fn zoho_callback(&self, tenant: &str) -> Vec<(String, String)> {
        let url = self
            .store
            .authorization_url(tenant, Provider::Zoho)
            .await
            .expect("url");
        assert!(url.contains("access_type=offline"));
        assert!(
            url.contains("ZohoCRM.modules.ALL%2CZohoCRM.settings.fields.READ"),
            "comma-separated scopes: {url}"
        );
        self.consent(&url, "/oauth/v2/auth/consent").await
    }

    async fn connect_zoho(&self, tenant: &str) -> engine::connections::ConnectionInfo {
        let callback = self.zoho_callback(tenant).await;
        self.store
            .complete_zoho(
                tenant,
                &ZohoCallback {
                    code: param(&callback, "code"),
                    state: param(&callback, "state"),
                    accounts_server: param(&callback, "accounts-server"),
                },
            )
            .await
            .expect("Zoho connected")
    }

    /// Token-endpoint calls the simulators saw for `service`.
    async fn token_requests(&self, service: &str) -> usize {
        let base = self.sandbox.urls().qbo_api;
        let writes: Value = self
            .http
            .get(format!("{base}/_sandbox/writes?service={service}"))
            .send()
            .await
            .expect("writes")
            .json()
            .await
            .expect("json");
        writes["writes"].as_array().map_or(0, |w| {
            w.iter()
                .filter(|w| {
                    w["path"]
                        .as_str()
                        .is_some_and(|p| p.contains("token") && !p.contains("revoke"))
                })
                .count()
        })
    }

    async fn sandbox_control(&self, path: &str) {
        let base = self.sandbox.urls().qbo_api;
        let answer = self
            .http
            .post(format!("{base}/_sandbox/{path}"))
            .send()
            .await
            .expect("control");
        assert!(answer.status().is_success());
    }

    async fn sealed_refresh_token(&self, tenant: &str, provider: Provider) -> String {
        engine::with_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, String>("SELECT refresh_token FROM connections WHERE tenant_id = $1 AND provider = $2")
                .bind(tenant)
                .bind(provider.as_str())
                .fetch_one(pool)
                .await
                .expect("row")
        })
    }

    fn open(&self, tenant: &str, provider: Provider, sealed: &str) -> String {
        Vault::new(1, &KEY)
            .expect("vault")
            .open(tenant, provider.as_str(), sealed)
            .expect("opens")
    }

    async fn finish(mut self) {
        self.db.close().await;
        self.sandbox.shutdown().await;
        if let Some(database) = self.database.take() {
            database.drop_it().await;
        }
    }
}

fn connectors_for(sandbox: &Sandbox) -> Connectors {
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
            ..ResilienceConfig::default()
        },
    })
    .expect("connectors")
}

fn param(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("callback has no {name}: {pairs:?}"))
}

#[tokio::test]
async fn qbo_connects_refreshes_rotates_and_survives_a_lost_rotation_within_24_hours() {
    let w = World::start().await;
    let info = w.connect_qbo(TENANT_A).await;
    assert_eq!(info.status, ConnectionStatus::Connected);
    assert_eq!(info.account_id.as_deref(), Some(w.realm.as_str()));
    assert!(
        info.refresh_expires_at.is_some(),
        "Intuit's rolling expiry is kept"
    );
    assert!(info.refresh_hard_expires_at.is_some(), "and its 5-year cap");
    assert_eq!(
        w.token_requests("intuit_oauth").await,
        1,
        "the code exchange"
    );

    let qbo = w.store.qbo_client(TENANT_A).await.expect("client");
    assert!(
        !qbo.company_info()
            .await
            .expect("company")
            .company_name
            .is_empty()
    );
    w.store
        .mark_verified(TENANT_A, Provider::Qbo)
        .await
        .expect("verified");
    assert!(
        w.store
            .connection(TENANT_A, Provider::Qbo)
            .await
            .expect("row")
            .expect("info")
            .verified_at
            .is_some()
    );
    assert_eq!(
        w.token_requests("intuit_oauth").await,
        1,
        "the access token is reused"
    );

    // An hour later the access token has expired: one refresh, and the rotated refresh token
    // is what the database holds.
    let r0 = w.open(
        TENANT_A,
        Provider::Qbo,
        &w.sealed_refresh_token(TENANT_A, Provider::Qbo).await,
    );
    w.advance(Duration::minutes(61));
    qbo.company_info().await.expect("after a refresh");
    assert_eq!(w.token_requests("intuit_oauth").await, 2);
    let r1 = w.open(
        TENANT_A,
        Provider::Qbo,
        &w.sealed_refresh_token(TENANT_A, Provider::Qbo).await,
    );
    assert_ne!(
        r0, r1,
        "Intuit rotated the refresh token and we stored the new one"
    );

    // A process that refreshed with r1 and died before storing r2: the database still holds
    // r1, which Intuit keeps honouring for 24 hours.
    let rogue = IntuitOAuth::new(&w.connectors, w.intuit_app.clone());
    rogue
        .refresh(&r1)
        .await
        .expect("a refresh whose result is lost");
    w.advance(Duration::hours(2));
    qbo.company_info()
        .await
        .expect("r1 still works inside the grace period");
    let r3 = w.open(
        TENANT_A,
        Provider::Qbo,
        &w.sealed_refresh_token(TENANT_A, Provider::Qbo).await,
    );
    assert_ne!(r3, r1);

    // After the grace period superseded tokens are refused; the stored newest one works.
    w.advance(Duration::hours(25));
    let refused = rogue
        .refresh(&r1)
        .await
        .expect_err("r1 is past its grace period");
    assert!(
        matches!(refused, ConnectorError::NeedsReconnect { .. }),
        "{refused:?}"
    );
    qbo.company_info()
        .await
        .expect("the stored refresh token still works");
    assert_eq!(
        w.store
            .connection(TENANT_A, Provider::Qbo)
            .await
            .expect("row")
            .expect("info")
            .status,
        ConnectionStatus::Connected
    );
    w.finish().await;
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_for_reconnect_and_reconnecting_clears_it() {
    let w = World::start().await;
    w.connect_qbo(TENANT_A).await;
    w.connect_zoho(TENANT_A).await;
    w.connect_zoho(TENANT_B).await;
    let qbo = w.store.qbo_client(TENANT_A).await.expect("client");

    // The customer disconnects the app inside QuickBooks.
    w.sandbox_control("tokens/revoke?service=intuit_oauth")
        .await;
    w.advance(Duration::minutes(61));
    let error = qbo.company_info().await.expect_err("grant revoked");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    assert!(error.plain_message().contains("Reconnect"));

    let info = w
        .store
        .connection(TENANT_A, Provider::Qbo)
        .await
        .expect("row")
        .expect("info");
    assert_eq!(info.status, ConnectionStatus::NeedsReconnect);
    let reason = info.status_reason.expect("a reason");
    assert_eq!(reason, domain::log::Notice::QboCredentialsInvalid.message());
    let states = w.store.connection_states().await.expect("states");
    assert!(states.iter().any(|s| s.tenant_id == TENANT_A
        && s.provider == Provider::Qbo
        && s.status == ConnectionStatus::NeedsReconnect));
    assert!(states.iter().any(|s| s.tenant_id == TENANT_B
        && s.provider == Provider::Zoho
        && s.status == ConnectionStatus::Connected));
    let banner = w.store.tenant_connections(TENANT_A).await.expect("banner");
    assert_eq!(banner.len(), 2);
    assert!(matches!(
        w.store.qbo_client(TENANT_A).await,
        Err(ConnectionError::NeedsReconnect(Provider::Qbo))
    ));
    // The already-built client stops asking Intuit too.
    let requests = w.token_requests("intuit_oauth").await;
    assert!(qbo.company_info().await.is_err());
    assert_eq!(w.token_requests("intuit_oauth").await, requests);

    // Reconnecting clears the state.
    let info = w.connect_qbo(TENANT_A).await;
    assert_eq!(info.status, ConnectionStatus::Connected);
    assert_eq!(info.status_reason, None);
    let qbo = w.store.qbo_client(TENANT_A).await.expect("client again");
    qbo.company_info().await.expect("works again");

    // Zoho: a revoked refresh token (HTTP 200 `{"error":"invalid_code"}`) means reconnect too.
    w.sandbox_control("tokens/revoke?service=zoho_api").await;
    w.advance(Duration::minutes(61));
    let zoho = w.store.zoho_client(TENANT_B).await.expect("zoho client");
    let error = zoho.modules().await.expect_err("revoked");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    assert_eq!(
        w.store
            .connection(TENANT_B, Provider::Zoho)
            .await
            .expect("row")
            .expect("info")
            .status,
        ConnectionStatus::NeedsReconnect
    );
    w.finish().await;
}

#[tokio::test]
async fn concurrent_refreshes_make_a_single_token_request() {
    let w = World::start().await;
    w.connect_qbo(TENANT_A).await;
    let before = w.token_requests("intuit_oauth").await;

    w.advance(Duration::minutes(61));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = w.store.clone();
        tasks.push(tokio::spawn(async move {
            store.access_token(TENANT_A, Provider::Qbo, None).await
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.expect("task").expect("token"));
    }
    assert!(
        tokens.windows(2).all(|t| t[0] == t[1]),
        "everyone got the same token"
    );
    assert_eq!(
        w.token_requests("intuit_oauth").await,
        before + 1,
        "eight tasks, one refresh"
    );

    // Two processes (separate pools, caches and locks) on one database: the lease row.
    let other = w.second_process().await;
    w.advance(Duration::minutes(61));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 {
            w.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            store.access_token(TENANT_A, Provider::Qbo, None).await
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.expect("task").expect("token"));
    }
    assert!(tokens.windows(2).all(|t| t[0] == t[1]));
    assert_eq!(
        w.token_requests("intuit_oauth").await,
        before + 2,
        "two processes, one refresh"
    );

    // A refused token is replaced once, however many callers report it.
    let refused = tokens[0].clone();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let store = if i % 2 == 0 {
            w.store.clone()
        } else {
            other.clone()
        };
        let refused = refused.clone();
        tasks.push(tokio::spawn(async move {
            store
                .access_token(TENANT_A, Provider::Qbo, Some(&refused))
                .await
        }));
    }
    for task in tasks {
        assert_ne!(task.await.expect("task").expect("token"), refused);
    }
    assert_eq!(w.token_requests("intuit_oauth").await, before + 3);
    w.finish().await;
}

#[tokio::test]
async fn zoho_data_centre_is_checked_and_the_access_token_is_shared() {
    let w = World::start().await;

    // A callback naming an accounts server outside the allow-list is refused.
    let callback = w.zoho_callback(TENANT_A).await;
    let forged = w
        .store
        .complete_zoho(
            TENANT_A,
            &ZohoCallback {
                code: param(&callback, "code"),
                state: param(&callback, "state"),
                accounts_server: "https://accounts.zoho.evil.example".to_owned(),
            },
        )
        .await
        .expect_err("forged data centre");
    assert!(
        matches!(
            forged,
            ConnectionError::Remote(ConnectorError::Unexpected { .. })
        ),
        "{forged:?}"
    );
    assert_eq!(w.token_requests("zoho_accounts").await, 0);

    // A state is single use and belongs to one tenant.
    let callback = w.zoho_callback(TENANT_A).await;
    let as_b = w
        .store
        .complete_zoho(
            TENANT_B,
            &ZohoCallback {
                code: param(&callback, "code"),
                state: param(&callback, "state"),
                accounts_server: param(&callback, "accounts-server"),
            },
        )
        .await;
    assert!(
        matches!(as_b, Err(ConnectionError::InvalidState)),
        "{as_b:?}"
    );

    let info = w.connect_zoho(TENANT_A).await;
    assert_eq!(
        info.api_domain.as_deref(),
        Some(w.sandbox.urls().zoho_api.as_str())
    );
    assert_eq!(info.data_centre.as_deref(), Some("us"));
    assert_eq!(w.token_requests("zoho_accounts").await, 1);

    // Many calls, two processes: the one access token is shared, nobody refreshes.
    let zoho = w.store.zoho_client(TENANT_A).await.expect("client");
    for _ in 0..3 {
        zoho.modules().await.expect("modules");
    }
    let other = w.second_process().await;
    other
        .zoho_client(TENANT_A)
        .await
        .expect("client")
        .modules()
        .await
        .expect("modules");
    assert_eq!(w.token_requests("zoho_accounts").await, 1);

    // After an hour: one refresh for both processes; Zoho refresh tokens do not rotate.
    let refresh_before = w.open(
        TENANT_A,
        Provider::Zoho,
        &w.sealed_refresh_token(TENANT_A, Provider::Zoho).await,
    );
    w.advance(Duration::minutes(61));
    zoho.modules().await.expect("after refresh");
    other
        .zoho_client(TENANT_A)
        .await
        .expect("client")
        .modules()
        .await
        .expect("modules");
    assert_eq!(w.token_requests("zoho_accounts").await, 2);
    let refresh_after = w.open(
        TENANT_A,
        Provider::Zoho,
        &w.sealed_refresh_token(TENANT_A, Provider::Zoho).await,
    );
    assert_eq!(refresh_before, refresh_after);

    // Disconnect revokes and forgets.
    w.store
        .disconnect(TENANT_A, Provider::Zoho)
        .await
        .expect("disconnect");
    assert!(
        w.store
            .connection(TENANT_A, Provider::Zoho)
            .await
            .expect("read")
            .is_none()
    );
    assert!(matches!(
        w.store.zoho_client(TENANT_A).await,
        Err(ConnectionError::NotConnected(Provider::Zoho))
    ));
    w.finish().await;
}

#[tokio::test]
async fn tokens_are_sealed_and_do_not_open_for_another_tenant() {
    let w = World::start().await;
    w.connect_qbo(TENANT_A).await;
    let sealed = w.sealed_refresh_token(TENANT_A, Provider::Qbo).await;
    let token = w.open(TENANT_A, Provider::Qbo, &sealed);
    assert!(token.starts_with("RT1-"));
    assert!(!sealed.contains(&token), "stored encrypted");

    // Tenant B's row holding tenant A's sealed tokens (a bug or an attacker copying rows).
    engine::with_pool!(&w.db, pool => {
        sqlx::query(
            "INSERT INTO connections (tenant_id, provider, status, account_id, refresh_token, access_token, \
             access_expires_at, connected_at, updated_at) \
             SELECT $1, provider, status, account_id, refresh_token, access_token, access_expires_at, connected_at, updated_at \
             FROM connections WHERE tenant_id = $2 AND provider = 'qbo'",
        )
        .bind(TENANT_B)
        .bind(TENANT_A)
        .execute(pool)
        .await
        .expect("copy row");
    });
    let vault = Vault::new(1, &KEY).expect("vault");
    assert!(vault.open(TENANT_B, "qbo", &sealed).is_err());
    assert!(vault.open(TENANT_A, "zoho", &sealed).is_err());
    let stolen = w.store.access_token(TENANT_B, Provider::Qbo, None).await;
    assert!(stolen.is_err(), "tenant B must not get tenant A's token");
    let qbo = w.store.qbo_client(TENANT_B).await.expect("client");
    assert!(qbo.company_info().await.is_err());
    // Tenant A is unaffected.
    w.store
        .qbo_client(TENANT_A)
        .await
        .expect("client")
        .company_info()
        .await
        .expect("A works");
    w.finish().await;
}

#[tokio::test]
async fn verification_checklists_runnable_tenants_and_keep_alive() {
    let w = World::start().await;
    w.connect_qbo(TENANT_A).await;
    assert!(
        w.store
            .runnable_tenants()
            .await
            .expect("runnable")
            .is_empty(),
        "one connection is not enough to run"
    );
    w.connect_zoho(TENANT_A).await;
    w.connect_qbo(TENANT_B).await;
    assert_eq!(
        w.store.runnable_tenants().await.expect("runnable"),
        vec![TENANT_A.to_owned()]
    );

    let qbo = w.store.verify_qbo(TENANT_A).await.expect("verify QBO");
    assert!(!qbo.company_name.is_empty());
    assert_eq!(qbo.home_currency.as_deref(), Some("USD"));
    assert!(qbo.tracks_inventory);
    assert!(
        qbo.lines.iter().all(|l| l.ok && l.fix.is_none()),
        "{:?}",
        qbo.lines
    );
    let zoho = w.store.verify_zoho(TENANT_A).await.expect("verify Zoho");
    assert!(zoho.has_products);
    assert!(
        zoho.missing_modules.is_empty(),
        "{:?}",
        zoho.missing_modules
    );
    assert!(zoho.lines.iter().all(|l| l.ok), "{:?}", zoho.lines);
    for provider in [Provider::Qbo, Provider::Zoho] {
        let info = w
            .store
            .connection(TENANT_A, provider)
            .await
            .expect("row")
            .expect("info");
        assert!(info.verified_at.is_some());
    }

    // Idle Intuit connections are refreshed before their rolling refresh token dies.
    let before = w.token_requests("intuit_oauth").await;
    assert_eq!(
        w.store
            .keep_alive(Duration::days(7))
            .await
            .expect("keep alive"),
        0
    );
    w.advance(Duration::days(8));
    assert_eq!(
        w.store
            .keep_alive(Duration::days(7))
            .await
            .expect("keep alive"),
        2
    );
    assert_eq!(w.token_requests("intuit_oauth").await, before + 2);
    assert_eq!(
        w.store
            .keep_alive(Duration::days(7))
            .await
            .expect("keep alive"),
        0
    );
    w.finish().await;
}

#[tokio::test]
async fn zoho_token_rate_limit_is_not_a_dead_connection() {
    let w = World::start().await;
    w.connect_zoho(TENANT_A).await;
    // Zoho mints at most ten access tokens per refresh token in ten minutes (the code
    // exchange was the first); forcing more refreshes hits "Access Denied" in an HTTP 200.
    let mut token = w
        .store
        .access_token(TENANT_A, Provider::Zoho, None)
        .await
        .expect("token");
    for _ in 0..9 {
        token = w
            .store
            .access_token(TENANT_A, Provider::Zoho, Some(&token))
            .await
            .expect("a forced refresh");
    }
    let error = w
        .store
        .access_token(TENANT_A, Provider::Zoho, Some(&token))
        .await
        .expect_err("the eleventh token in ten minutes");
    assert!(
        matches!(error, ConnectorError::RateLimited { .. }),
        "{error:?}"
    );
    let info = w
        .store
        .connection(TENANT_A, Provider::Zoho)
        .await
        .expect("row")
        .expect("info");
    assert_eq!(
        info.status,
        ConnectionStatus::Connected,
        "throttled, not disconnected"
    );
    w.advance(Duration::minutes(11));
    w.store
        .access_token(TENANT_A, Provider::Zoho, Some(&token))
        .await
        .expect("allowed again after ten minutes");
    w.finish().await;
}

#[tokio::test]
async fn disconnecting_revokes_the_grant_at_the_provider() {
    let w = World::start().await;
    w.connect_zoho(TENANT_A).await;
    w.connect_qbo(TENANT_A).await;
    let zoho_refresh = w.open(
        TENANT_A,
        Provider::Zoho,
        &w.sealed_refresh_token(TENANT_A, Provider::Zoho).await,
    );
    let qbo_refresh = w.open(
        TENANT_A,
        Provider::Qbo,
        &w.sealed_refresh_token(TENANT_A, Provider::Qbo).await,
    );
    for provider in [Provider::Zoho, Provider::Qbo] {
        w.store
            .disconnect(TENANT_A, provider)
            .await
            .expect("disconnect");
    }

    // The simulators refuse the old refresh tokens: the revocations arrived.
    let zoho = ZohoOAuth::new(&w.connectors, w.zoho_app.clone());
    let accounts_server = w.sandbox.urls().zoho_accounts;
    let error = zoho
        .refresh(&accounts_server, &zoho_refresh)
        .await
        .expect_err("revoked at Zoho");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    let intuit = IntuitOAuth::new(&w.connectors, w.intuit_app.clone());
    let error = intuit
        .refresh(&qbo_refresh)
        .await
        .expect_err("revoked at Intuit");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    w.finish().await;
}
