//! Test harness: each test starts the real server on a free loopback port with a database of
//! its own, SQLite by default or PostgreSQL when `ZQSYNC_TEST_DATABASE=postgres` (then
//! `ZQSYNC_TEST_POSTGRES_URL` must point at a server where we may create databases).

#![allow(dead_code)]

pub mod capture;

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration};
use engine::ManualClock;
use server::{RunningServer, Settings};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub url: String,
    pub clock: Arc<ManualClock>,
    /// The simulated Stripe (and the other simulators) this server bills through.
    pub stripe_url: String,
    /// Where file-transport emails land.
    pub data_dir: std::path::PathBuf,
    /// The simulated Zoho CRM, QuickBooks Online, OAuth servers and Stripe this app talks to.
    pub sandbox: Option<sandbox::Sandbox>,
    server: Option<RunningServer>,
    database: Option<test_support::FreshDatabase>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_full(configure, true).await
    }

    /// A server whose simulated Stripe stores events but does not deliver them: the test
    /// delivers them itself (in any order, any number of times).
    pub async fn spawn_without_webhooks() -> Self {
        Self::spawn_full(|_| {}, false).await
    }

    async fn spawn_full(configure: impl FnOnce(&mut Settings), webhooks: bool) -> Self {
        let database = test_support::fresh_database().await;
        let db = server::open_database(&database.url)
            .await
            .expect("open the test database");
        let start = DateTime::from_timestamp(1_893_456_000, 0).expect("a valid start time");
        let clock = Arc::new(ManualClock::new(start));
        // The port first, so the simulated Stripe can be told where to send webhooks.
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        // Consent pages answer at once here; the browser tests click through the real ones.
        let sandbox_config = sandbox::SandboxConfig {
            records_per_module: 3,
            auto_consent: true,
            stripe_webhook_url: webhooks.then(|| format!("http://{addr}/webhooks/stripe")),
            ..sandbox::SandboxConfig::default()
        };
        let simulators = sandbox::Sandbox::start(sandbox_config.clone())
            .await
            .expect("start the simulators");
        let stripe_url = simulators.urls().stripe_api;
        let data_dir = std::env::temp_dir().join(format!(
            "zqsync-test-data-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let remotes = server::RemoteSetup::sandbox(
            &simulators.urls(),
            &sandbox_config,
            server::ephemeral_vault().expect("a vault key"),
        );
        let mut settings = Settings {
            bind: addr,
            public_url: None,
            site_root: std::env::temp_dir(),
            session_idle_secs: 600,
            signup_limit: engine::SignupLimit::default(),
            trusted_proxies: Vec::new(),
            sandbox_mode: true,
            billing: Some(engine::billing::BillingConfig {
                stripe_secret_key: sandbox_config.stripe_secret_key.clone(),
                stripe_webhook_secret: sandbox_config.stripe_webhook_secret.clone(),
                stripe_api_base: Some(stripe_url.clone()),
                create_catalog: true,
                public_url: format!("http://{addr}"),
                smtp_url: None,
                data_dir: data_dir.clone(),
            }),
            remotes,
            worker: Some(engine::sync::WorkerConfig::default()),
            runner: None,
            support_email: server::config::DEFAULT_SUPPORT_EMAIL.to_owned(),
        };
        configure(&mut settings);
        let server = server::start_on(listener, settings, db, clock.clone())
            .await
            .expect("start the server");
        Self {
            url: server.url(),
            clock,
            stripe_url,
            data_dir,
            sandbox: Some(simulators),
            server: Some(server),
            database: Some(database),
        }
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A page that never finishes fails its test naming the page, not by the watchdog.
            .timeout(std::time::Duration::from_secs(45))
            .build()
            .expect("build an HTTP client")
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Calls a server function with form-encoded arguments, as the browser does.
    pub async fn call(
        &self,
        client: &reqwest::Client,
        function: &str,
        args: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/{function}", self.url))
            .form(args)
            .send()
            .await
            .expect("server function request")
    }

    /// Calls a server function and reads its JSON answer (a value or an `AppError`).
    pub async fn call_json(
        &self,
        client: &reqwest::Client,
        function: &str,
        args: &[(&str, &str)],
    ) -> serde_json::Value {
        self.call(client, function, args)
            .await
            .json()
            .await
            .expect("a JSON answer")
    }

    /// Calls a server function that takes a JSON body (`input = Json`) and reads its answer.
    pub async fn call_with_json(
        &self,
        client: &reqwest::Client,
        function: &str,
        body: &serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let response = client
            .post(format!("{}/api/{function}", self.url))
            .json(body)
            .send()
            .await
            .expect("server function request");
        let status = response.status();
        (status, response.json().await.expect("a JSON answer"))
    }

    pub async fn sign_up(
        &self,
        client: &reqwest::Client,
        company: &str,
        email: &str,
    ) -> reqwest::Response {
        self.call(
            client,
            "signup",
            &[
                ("company_name", company),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    pub async fn log_in(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.call(client, "login", &[("email", email), ("password", password)])
            .await
    }

    pub async fn account(
        &self,
        client: &reqwest::Client,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self.call(client, "account", &[]).await;
        let status = response.status();
        let body = response.json().await.expect("JSON from /api/account");
        (status, body)
    }

    /// The server's state (database, billing) for assertions behind the HTTP surface.
    pub fn ctx(&self) -> &app::ssr::ServerCtx {
        &self.server.as_ref().expect("server running").ctx
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            let db = server.ctx.db.clone();
            server.shutdown().await.expect("clean shutdown");
            db.close().await;
        }
        if let Some(simulators) = self.sandbox.take() {
            simulators.shutdown().await;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(database) = self.database.take() {
            database.drop_it().await;
        }
    }
}

impl TestApp {
    pub fn sandbox_urls(&self) -> sandbox::SandboxUrls {
        self.sandbox.as_ref().expect("the sandbox runs").urls()
    }

    /// Connects Zoho CRM or QuickBooks Online (`zoho` / `qbo`) for the client's tenant, the
    /// way a browser does: our /connect redirect → the provider's consent (auto-accepted) → our
    /// callback. Returns where the callback sent the browser.
    pub async fn connect(&self, client: &reqwest::Client, provider: &str) -> String {
        let start = client
            .get(format!("{}/connect/{provider}", self.url))
            .send()
            .await
            .expect("connect");
        assert!(
            start.status().is_redirection(),
            "connect gave {}",
            start.status()
        );
        let consent_url = location(&start);
        let consent = client.get(&consent_url).send().await.expect("consent page");
        assert!(
            consent.status().is_redirection(),
            "consent gave {}",
            consent.status()
        );
        let callback_url = location(&consent);
        assert!(
            callback_url.starts_with(&self.url),
            "callback goes elsewhere: {callback_url}"
        );
        let done = client.get(&callback_url).send().await.expect("callback");
        assert!(
            done.status().is_redirection(),
            "callback gave {}",
            done.status()
        );
        location(&done)
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The JSON an `AppError` variant serialises to, e.g. `{"Invalid": "…"}`.
pub fn error_message(body: &serde_json::Value, variant: &str) -> String {
    body.get(variant)
        .and_then(|m| m.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("expected a {variant} error, got {body}"))
}
