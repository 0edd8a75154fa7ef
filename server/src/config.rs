//! Configuration, read from the environment (every variable also has a command-line flag).
//! Secrets are held in [`Secret`], whose `Debug` never shows the value.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// A configuration value that must never be printed or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH (created when missing) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(
        long,
        env = "ZQSYNC_DATABASE_URL",
        default_value = "sqlite://data/zqsync.db",
        hide_env_values = true
    )]
    pub database_url: Secret,
}

/// Where the Help page sends people when `ZQSYNC_SUPPORT_EMAIL` is not set.
pub const DEFAULT_SUPPORT_EMAIL: &str = "support@zqsync.test";

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "ZQSYNC_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// The URL people use to reach this server (cookies get `Secure` when it is https).
    /// Default: http://<bind address>.
    #[arg(long, env = "ZQSYNC_PUBLIC_URL")]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Directory holding pkg/ (the WebAssembly bundle) that scripts/build produces.
    /// Default: the site/ directory next to the binary's target directory.
    #[arg(long, env = "ZQSYNC_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// A session ends after this many seconds without a request.
    #[arg(long, env = "ZQSYNC_SESSION_IDLE_SECS", default_value_t = engine::sessions::DEFAULT_IDLE_SECS)]
    pub session_idle_secs: u64,

    /// Reverse proxies in front of this server (comma-separated IP addresses): from these, the
    /// client's address is read from `X-Forwarded-For`. Unset: the header is ignored.
    #[arg(long, env = "ZQSYNC_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Sign-ups allowed from one client address per ten minutes.
    #[arg(long, env = "ZQSYNC_SIGNUPS_PER_ADDRESS", default_value_t = engine::SignupLimit::default().per_address)]
    pub signups_per_address: u32,

    #[command(flatten)]
    pub remotes: RemoteCredentials,

    /// 32 random bytes (64 hex digits or base64) that seal OAuth tokens at rest. Required with
    /// real credentials; sandbox mode makes a throwaway key when unset.
    #[arg(long, env = "ZQSYNC_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,

    #[command(flatten)]
    pub sandbox: SandboxArgs,

    /// The address the Help page tells people to write to.
    #[arg(long, env = "ZQSYNC_SUPPORT_EMAIL", default_value = DEFAULT_SUPPORT_EMAIL)]
    pub support_email: String,

    #[command(flatten)]
    pub billing: BillingArgs,

    /// Run sync jobs in this process too; `off` when separate `zqsync worker` processes do.
    #[arg(long, env = "ZQSYNC_WORKER", value_enum, default_value_t = Switch::On)]
    pub worker: Switch,

    #[command(flatten)]
    pub worker_tuning: WorkerArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// How a sync worker (in `serve` or `zqsync worker`) runs.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Tenants one worker process syncs at the same time (1–64).
    #[arg(
        long = "worker-concurrency",
        env = "ZQSYNC_WORKER_CONCURRENCY",
        default_value_t = 2,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub concurrency: u16,
}

impl WorkerArgs {
    /// Lease, polling and naming as the worker defaults them; the concurrency from here.
    pub fn config(&self) -> engine::sync::WorkerConfig {
        engine::sync::WorkerConfig {
            concurrency: usize::from(self.concurrency),
            ..engine::sync::WorkerConfig::default()
        }
    }
}

/// `zqsync worker`: sync jobs only, no web pages.
#[derive(Debug, Clone, Args)]
pub struct WorkerCommandArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// The OAuth apps whose tokens the worker refreshes (the same as `zqsync serve`'s).
    #[command(flatten)]
    pub remotes: RemoteCredentials,

    /// The key that opens the stored tokens (the same as `zqsync serve`'s).
    #[arg(long, env = "ZQSYNC_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,

    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// Stripe and email. In sandbox mode the simulated Stripe's keys are used and the Stripe
/// variables are ignored.
#[derive(Debug, Clone, Args)]
pub struct BillingArgs {
    /// Stripe secret API key (sk_live_… / sk_test_…).
    #[arg(long, env = "ZQSYNC_STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<Secret>,
    /// Signing secret of the Stripe webhook endpoint {public URL}/webhooks/stripe (whsec_…).
    #[arg(long, env = "ZQSYNC_STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<Secret>,
    /// SMTP server for emails: smtp://user:password@host:587 (STARTTLS) or smtps://…:465.
    /// Unset: emails are written as files into <data dir>/mail.
    #[arg(long, env = "ZQSYNC_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,
    /// Directory for files zqsync writes besides the database (emails without SMTP).
    #[arg(long, env = "ZQSYNC_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl BillingArgs {
    /// Billing against the real Stripe; both Stripe variables are required.
    pub fn production(&self, public_url: &str) -> Result<engine::billing::BillingConfig, String> {
        match (&self.stripe_secret_key, &self.stripe_webhook_secret) {
            (Some(key), Some(secret)) => Ok(engine::billing::BillingConfig {
                stripe_secret_key: key.expose().to_owned(),
                stripe_webhook_secret: secret.expose().to_owned(),
                stripe_api_base: None,
                create_catalog: false,
                public_url: public_url.to_owned(),
                smtp_url: self.smtp_url.as_ref().map(|s| s.expose().to_owned()),
                data_dir: self.data_dir.clone(),
            }),
            (key, secret) => {
                let missing: Vec<&str> = [
                    ("ZQSYNC_STRIPE_SECRET_KEY", key.is_none()),
                    ("ZQSYNC_STRIPE_WEBHOOK_SECRET", secret.is_none()),
                ]
                .into_iter()
                .filter_map(|(name, absent)| absent.then_some(name))
                .collect();
                Err(format!(
                    "billing needs Stripe outside sandbox mode: set {}",
                    missing.join(" and ")
                ))
            }
        }
    }

    /// Billing against the in-process simulated Stripe.
    pub fn sandbox(
        &self,
        sandbox: &sandbox::SandboxConfig,
        stripe_api: &str,
        public_url: &str,
    ) -> engine::billing::BillingConfig {
        engine::billing::BillingConfig {
            stripe_secret_key: sandbox.stripe_secret_key.clone(),
            stripe_webhook_secret: sandbox.stripe_webhook_secret.clone(),
            stripe_api_base: Some(stripe_api.to_owned()),
            create_catalog: true,
            public_url: public_url.to_owned(),
            smtp_url: self.smtp_url.as_ref().map(|s| s.expose().to_owned()),
            data_dir: self.data_dir.clone(),
        }
    }
}

/// OAuth client credentials of the real services. With none set, zqsync runs in sandbox mode.
#[derive(Debug, Clone, Default, Args)]
pub struct RemoteCredentials {
    /// Zoho API console client id.
    #[arg(long, env = "ZQSYNC_ZOHO_CLIENT_ID")]
    pub zoho_client_id: Option<String>,
    /// Zoho API console client secret.
    #[arg(long, env = "ZQSYNC_ZOHO_CLIENT_SECRET", hide_env_values = true)]
    pub zoho_client_secret: Option<Secret>,
    /// Intuit developer app client id.
    #[arg(long, env = "ZQSYNC_QBO_CLIENT_ID")]
    pub qbo_client_id: Option<String>,
    /// Intuit developer app client secret.
    #[arg(long, env = "ZQSYNC_QBO_CLIENT_SECRET", hide_env_values = true)]
    pub qbo_client_secret: Option<Secret>,
}

impl RemoteCredentials {
    /// Sandbox mode: no real credentials for either service.
    pub fn sandbox_mode(&self) -> bool {
        self.zoho_client_id.is_none()
            && self.zoho_client_secret.is_none()
            && self.qbo_client_id.is_none()
            && self.qbo_client_secret.is_none()
    }

    /// Half-configured credentials are a mistake worth stopping for.
    pub fn check(&self) -> Result<(), String> {
        if self.sandbox_mode() {
            return Ok(());
        }
        let missing: Vec<&str> = [
            ("ZQSYNC_ZOHO_CLIENT_ID", self.zoho_client_id.is_none()),
            (
                "ZQSYNC_ZOHO_CLIENT_SECRET",
                self.zoho_client_secret.is_none(),
            ),
            ("ZQSYNC_QBO_CLIENT_ID", self.qbo_client_id.is_none()),
            ("ZQSYNC_QBO_CLIENT_SECRET", self.qbo_client_secret.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "some real-service credentials are set but {} missing; set them all, or none for sandbox mode",
                missing.join(", ")
            ))
        }
    }
}

/// Where the built site (pkg/) lives when not configured: `<target>/site`, found from the
/// binary's own path (`<target>/{debug,release}/zqsync`), else `./target/site`.
pub fn default_site_root() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|target| target.join("site")))
        .filter(|site| site.join("pkg").is_dir())
        .unwrap_or_else(|| PathBuf::from("target/site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let secret: Secret = "hunter2".parse().unwrap_or_else(|e| match e {});
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn credentials_are_all_or_nothing() {
        let none = RemoteCredentials::default();
        assert!(none.sandbox_mode());
        assert!(none.check().is_ok());
        let half = RemoteCredentials {
            zoho_client_id: Some("id".into()),
            ..RemoteCredentials::default()
        };
        assert!(!half.sandbox_mode());
        let message = half.check().err().unwrap_or_default();
        assert!(message.contains("ZQSYNC_QBO_CLIENT_SECRET"), "{message}");
    }
}

/// The simulated services: used by `zqsync sandbox`, and by `serve` in sandbox mode.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Demo records generated per module (the benchmarks use up to 100,000).
    #[arg(long = "records", env = "ZQSYNC_SANDBOX_RECORDS", default_value_t = 25)]
    pub records_per_module: usize,
    /// Seed of the demo data: the same seed always gives the same records.
    #[arg(long, env = "ZQSYNC_SANDBOX_SEED", default_value_t = 42)]
    pub seed: u64,
    /// First of the five consecutive loopback ports the simulators take (0: any free ports).
    #[arg(long, env = "ZQSYNC_SANDBOX_PORT", default_value_t = 0)]
    pub base_port: u16,
}

impl SandboxArgs {
    pub fn config(&self) -> sandbox::SandboxConfig {
        sandbox::SandboxConfig {
            seed: self.seed,
            records_per_module: self.records_per_module,
            base_port: self.base_port,
            // A person clicks Accept on the simulated consent pages, as on the real ones.
            auto_consent: false,
            ..sandbox::SandboxConfig::default()
        }
    }
}
