//! Connections end to end: the OAuth dance against the sandbox's consent pages, tokens sealed in
//! the database, refresh (Intuit rotation and its 24 h grace), `invalid_grant` → needs
//! reconnect, one refresh for many concurrent callers (tasks and separate "processes"), and the
//! vault refusing a token moved to another tenant.
//!
//! The database is a SQLite file by default; `ZQSYNC_TEST_DATABASE=postgres` (with
//! `ZQSYNC_TEST_POSTGRES_URL`) runs the same tests on PostgreSQL.

use chrono::Duration;

use crate::support::{KEY, REDIRECT, World, param, quick_retries};
use engine::connections::{ConnectionError, ConnectionStatus, Provider, ZohoCallback};
use engine::connectors::{ConnectorError, IntuitOAuth, ZohoOAuth};
use engine::vault::Vault;
use sandbox::SandboxConfig;

const TENANT_A: &str = "0195f3a0-0000-7000-8000-00000000000a";
const TENANT_B: &str = "0195f3a0-0000-7000-8000-00000000000b";

/// Two tenants on Freemium, neither connected yet.
async fn two_tenants() -> World {
    let world = World::start_with(
        SandboxConfig {
            records_per_module: 3,
            ..SandboxConfig::default()
        },
        quick_retries(),
    )
    .await;
    world.add_tenant(TENANT_A, "Tenant A", "freemium").await;
    world.add_tenant(TENANT_B, "Tenant B", "freemium").await;
    world
}

impl World {
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
            .connections
            .authorization_url(tenant, Provider::Qbo)
            .await
            .expect("url");
        let callback = self.consent(&url, "/connect/oauth2/consent").await;
        self.complete_qbo(tenant, &callback).await
    }

    async fn zoho_callback(&self, tenant: &str) -> Vec<(String, String)> {
        let url = self
            .connections
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
        self.complete_zoho(tenant, &callback).await
    }

    /// Token-endpoint calls the simulators saw for `service`.
    async fn token_requests(&self, service: &str) -> usize {
        self.write_paths(service)
            .await
            .iter()
            .filter(|p| p.contains("token") && !p.contains("revoke"))
            .count()
    }

    async fn sandbox_control(&self, path: &str) {
        self.control(reqwest::Method::POST, path, None).await;
    }

    /// The stored refresh token of `tenant`'s connection to `provider`, opened.
    async fn stored_refresh_token(&self, tenant: &str, provider: Provider) -> String {
        let sealed = self.sealed_refresh_token(tenant, provider).await;
        Vault::new(1, &KEY)
            .expect("vault")
            .open(tenant, provider.as_str(), &sealed)
            .expect("opens")
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

    /// The connection row of `tenant` and `provider`, which must exist.
    async fn connection_of(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> engine::connections::ConnectionInfo {
        self.connections
            .connection(tenant, provider)
            .await
            .expect("row")
            .expect("info")
    }
}

#[tokio::test]
async fn qbo_connects_refreshes_rotates_and_survives_a_lost_rotation_within_24_hours() {
    let w = two_tenants().await;
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

    let qbo = w.connections.qbo_client(TENANT_A).await.expect("client");
    assert!(
        !qbo.company_info()
            .await
            .expect("company")
            .company_name
            .is_empty()
    );
    w.connections
        .mark_verified(TENANT_A, Provider::Qbo)
        .await
        .expect("verified");
    assert!(
        w.connection_of(TENANT_A, Provider::Qbo)
            .await
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
    let r0 = w.stored_refresh_token(TENANT_A, Provider::Qbo).await;
    w.advance(Duration::minutes(61));
    qbo.company_info().await.expect("after a refresh");
    assert_eq!(w.token_requests("intuit_oauth").await, 2);
    let r1 = w.stored_refresh_token(TENANT_A, Provider::Qbo).await;
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
    let r3 = w.stored_refresh_token(TENANT_A, Provider::Qbo).await;
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
        w.connection_of(TENANT_A, Provider::Qbo).await.status,
        ConnectionStatus::Connected
    );
    w.finish().await;
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_for_reconnect_and_reconnecting_clears_it() {
    let w = two_tenants().await;
    w.connect_qbo(TENANT_A).await;
    w.connect_zoho(TENANT_A).await;
    w.connect_zoho(TENANT_B).await;
    let qbo = w.connections.qbo_client(TENANT_A).await.expect("client");

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

    let info = w.connection_of(TENANT_A, Provider::Qbo).await;
    assert_eq!(info.status, ConnectionStatus::NeedsReconnect);
    let reason = info.status_reason.expect("a reason");
    assert_eq!(reason, domain::log::Notice::QboCredentialsInvalid.message());
    let states = w.connections.connection_states().await.expect("states");
    assert!(states.iter().any(|s| s.tenant_id == TENANT_A
        && s.provider == Provider::Qbo
        && s.status == ConnectionStatus::NeedsReconnect));
    assert!(states.iter().any(|s| s.tenant_id == TENANT_B
        && s.provider == Provider::Zoho
        && s.status == ConnectionStatus::Connected));
    let banner = w
        .connections
        .tenant_connections(TENANT_A)
        .await
        .expect("banner");
    assert_eq!(banner.len(), 2);
    assert!(matches!(
        w.connections.qbo_client(TENANT_A).await,
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
    let qbo = w
        .connections
        .qbo_client(TENANT_A)
        .await
        .expect("client again");
    qbo.company_info().await.expect("works again");

    // Zoho: a revoked refresh token (HTTP 200 `{"error":"invalid_code"}`) means reconnect too.
    w.sandbox_control("tokens/revoke?service=zoho_api").await;
    w.advance(Duration::minutes(61));
    let zoho = w
        .connections
        .zoho_client(TENANT_B)
        .await
        .expect("zoho client");
    let error = zoho.modules().await.expect_err("revoked");
    assert!(
        matches!(error, ConnectorError::NeedsReconnect { .. }),
        "{error:?}"
    );
    assert_eq!(
        w.connection_of(TENANT_B, Provider::Zoho).await.status,
        ConnectionStatus::NeedsReconnect
    );
    w.finish().await;
}

#[tokio::test]
async fn concurrent_refreshes_make_a_single_token_request() {
    let w = two_tenants().await;
    w.connect_qbo(TENANT_A).await;
    let before = w.token_requests("intuit_oauth").await;

    w.advance(Duration::minutes(61));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = w.connections.clone();
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
            w.connections.clone()
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
            w.connections.clone()
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
    let w = two_tenants().await;

    // A callback naming an accounts server outside the allow-list is refused.
    let callback = w.zoho_callback(TENANT_A).await;
    let forged = w
        .connections
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
        .connections
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
    let zoho = w.connections.zoho_client(TENANT_A).await.expect("client");
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
    let refresh_before = w.stored_refresh_token(TENANT_A, Provider::Zoho).await;
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
    let refresh_after = w.stored_refresh_token(TENANT_A, Provider::Zoho).await;
    assert_eq!(refresh_before, refresh_after);

    // Disconnect revokes and forgets.
    w.connections
        .disconnect(TENANT_A, Provider::Zoho)
        .await
        .expect("disconnect");
    assert!(
        w.connections
            .connection(TENANT_A, Provider::Zoho)
            .await
            .expect("read")
            .is_none()
    );
    assert!(matches!(
        w.connections.zoho_client(TENANT_A).await,
        Err(ConnectionError::NotConnected(Provider::Zoho))
    ));
    w.finish().await;
}

#[tokio::test]
async fn tokens_are_sealed_and_do_not_open_for_another_tenant() {
    let w = two_tenants().await;
    w.connect_qbo(TENANT_A).await;
    let sealed = w.sealed_refresh_token(TENANT_A, Provider::Qbo).await;
    let token = w.stored_refresh_token(TENANT_A, Provider::Qbo).await;
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
    let stolen = w
        .connections
        .access_token(TENANT_B, Provider::Qbo, None)
        .await;
    assert!(stolen.is_err(), "tenant B must not get tenant A's token");
    let qbo = w.connections.qbo_client(TENANT_B).await.expect("client");
    assert!(qbo.company_info().await.is_err());
    // Tenant A is unaffected.
    w.connections
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
    let w = two_tenants().await;
    w.connect_qbo(TENANT_A).await;
    assert!(
        w.connections
            .runnable_tenants()
            .await
            .expect("runnable")
            .is_empty(),
        "one connection is not enough to run"
    );
    w.connect_zoho(TENANT_A).await;
    w.connect_qbo(TENANT_B).await;
    assert_eq!(
        w.connections.runnable_tenants().await.expect("runnable"),
        vec![TENANT_A.to_owned()]
    );

    let qbo = w
        .connections
        .verify_qbo(TENANT_A)
        .await
        .expect("verify QBO");
    assert!(!qbo.company_name.is_empty());
    assert_eq!(qbo.home_currency.as_deref(), Some("USD"));
    assert!(qbo.tracks_inventory);
    assert!(
        qbo.lines.iter().all(|l| l.ok && l.fix.is_none()),
        "{:?}",
        qbo.lines
    );
    let zoho = w
        .connections
        .verify_zoho(TENANT_A)
        .await
        .expect("verify Zoho");
    assert!(zoho.has_products);
    assert!(
        zoho.missing_modules.is_empty(),
        "{:?}",
        zoho.missing_modules
    );
    assert!(zoho.lines.iter().all(|l| l.ok), "{:?}", zoho.lines);
    for provider in [Provider::Qbo, Provider::Zoho] {
        let info = w.connection_of(TENANT_A, provider).await;
        assert!(info.verified_at.is_some());
    }

    // Idle Intuit connections are refreshed before their rolling refresh token dies.
    let before = w.token_requests("intuit_oauth").await;
    assert_eq!(
        w.connections
            .keep_alive(Duration::days(7))
            .await
            .expect("keep alive"),
        0
    );
    w.advance(Duration::days(8));
    assert_eq!(
        w.connections
            .keep_alive(Duration::days(7))
            .await
            .expect("keep alive"),
        2
    );
    assert_eq!(w.token_requests("intuit_oauth").await, before + 2);
    assert_eq!(
        w.connections
            .keep_alive(Duration::days(7))
            .await
            .expect("keep alive"),
        0
    );
    w.finish().await;
}

#[tokio::test]
async fn zoho_token_rate_limit_is_not_a_dead_connection() {
    let w = two_tenants().await;
    w.connect_zoho(TENANT_A).await;
    // Zoho mints at most ten access tokens per refresh token in ten minutes (the code
    // exchange was the first); forcing more refreshes hits "Access Denied" in an HTTP 200.
    let mut token = w
        .connections
        .access_token(TENANT_A, Provider::Zoho, None)
        .await
        .expect("token");
    for _ in 0..9 {
        token = w
            .connections
            .access_token(TENANT_A, Provider::Zoho, Some(&token))
            .await
            .expect("a forced refresh");
    }
    let error = w
        .connections
        .access_token(TENANT_A, Provider::Zoho, Some(&token))
        .await
        .expect_err("the eleventh token in ten minutes");
    assert!(
        matches!(error, ConnectorError::RateLimited { .. }),
        "{error:?}"
    );
    let info = w.connection_of(TENANT_A, Provider::Zoho).await;
    assert_eq!(
        info.status,
        ConnectionStatus::Connected,
        "throttled, not disconnected"
    );
    w.advance(Duration::minutes(11));
    w.connections
        .access_token(TENANT_A, Provider::Zoho, Some(&token))
        .await
        .expect("allowed again after ten minutes");
    w.finish().await;
}

#[tokio::test]
async fn disconnecting_revokes_the_grant_at_the_provider() {
    let w = two_tenants().await;
    w.connect_zoho(TENANT_A).await;
    w.connect_qbo(TENANT_A).await;
    let zoho_refresh = w.stored_refresh_token(TENANT_A, Provider::Zoho).await;
    let qbo_refresh = w.stored_refresh_token(TENANT_A, Provider::Qbo).await;
    for provider in [Provider::Zoho, Provider::Qbo] {
        w.connections
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
