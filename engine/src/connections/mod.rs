//! Each tenant's connections to Zoho CRM and QuickBooks Online: the OAuth dance, the token
//! vault in the database, token refresh (one at a time per tenant and provider, also across
//! processes), and the connection states the scheduler and the banner read.
//!
//! Refresh protocol: an in-process mutex per tenant+provider keeps this process's tasks in
//! line; a lease row (`connection_refresh_leases`, with an expiry) keeps other processes out.
//! The refresher re-reads the row under the lease — someone may have refreshed meanwhile —
//! and writes the new tokens (Intuit's rotated refresh token included) in one statement
//! before handing out the new access token. Access tokens are stored sealed too, so every
//! process shares one Zoho access token instead of minting its own (Zoho allows ten per ten
//! minutes per refresh token).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::connectors::check::{QboCheck, ZohoCheck, check_qbo, check_zoho};
use crate::connectors::oauth::{OAuthApp, RefreshToken};
use crate::connectors::{
    Api, BoxFuture, ConnectorError, Connectors, IntuitOAuth, QboClient, TokenSource, ZohoClient,
    ZohoOAuth,
};
use crate::db::Db;
use crate::vault::{Vault, VaultError};
use crate::with_pool;

mod oauth_flow;
mod tokens;

/// Refresh this long before the access token expires.
const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;
/// How long an authorization may take between our redirect and the callback.
const STATE_TTL_MS: i64 = 15 * 60 * 1000;
/// A refresh holds the lease at most this long (token calls time out well before).
const LEASE_TTL_MS: i64 = 2 * 60 * 1000;
/// How often a process waiting for another's refresh looks again, and for how long.
const LEASE_POLL: Duration = Duration::from_millis(50);
const LEASE_WAIT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Zoho,
    Qbo,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Zoho => "zoho",
            Self::Qbo => "qbo",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "zoho" => Some(Self::Zoho),
            "qbo" => Some(Self::Qbo),
            _ => None,
        }
    }

    /// The name people know the system by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Zoho => "Zoho CRM",
            Self::Qbo => "QuickBooks Online",
        }
    }

    fn oauth_api(self) -> Api {
        match self {
            Self::Zoho => Api::ZohoOAuth,
            Self::Qbo => Api::IntuitOAuth,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    Connected,
    /// The grant stopped working: the scheduler skips the tenant and every page shows a red
    /// banner naming the system with a Reconnect link.
    NeedsReconnect,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::NeedsReconnect => "needs_reconnect",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "connected" {
            Self::Connected
        } else {
            Self::NeedsReconnect
        }
    }
}

/// What the pages and the scheduler may know about a connection (never the tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub tenant_id: String,
    pub provider: Provider,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    /// QBO realmId.
    pub account_id: Option<String>,
    /// Zoho data centre (`us`, `eu`, …) and API domain.
    pub data_centre: Option<String>,
    pub api_domain: Option<String>,
    pub connected_at: i64,
    pub verified_at: Option<i64>,
    pub refreshed_at: Option<i64>,
    /// Intuit's rolling and absolute refresh-token expiries (Unix ms), to warn before they end.
    pub refresh_expires_at: Option<i64>,
    pub refresh_hard_expires_at: Option<i64>,
}

/// One line of the scheduler's view: which tenants it may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionState {
    pub tenant_id: String,
    pub provider: Provider,
    pub status: ConnectionStatus,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("{} is not connected yet. Connect it in Settings → Connections.", .0.display_name())]
    NotConnected(Provider),
    #[error("{} needs to be reconnected. Reconnect it in Settings → Connections.", .0.display_name())]
    NeedsReconnect(Provider),
    #[error("This sign-in link has expired or was already used. Start connecting again.")]
    InvalidState,
    #[error("{} sent back an incomplete answer. Start connecting again.", .0.display_name())]
    InvalidCallback(Provider),
    #[error("{} connections are not configured on this server.", .0.display_name())]
    NotConfigured(Provider),
    #[error(transparent)]
    Remote(#[from] ConnectorError),
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("token vault error: {0}")]
    Vault(#[from] VaultError),
}

impl ConnectionError {
    /// Whether the message is for the user (as opposed to a fault on our side).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Self::Storage(_) | Self::Vault(_))
    }
}

/// The callback of a Zoho authorization (`?code&state&location&accounts-server`).
#[derive(Debug, Clone)]
pub struct ZohoCallback {
    pub code: String,
    pub state: String,
    pub accounts_server: String,
}

/// The callback of an Intuit authorization (`?code&state&realmId`).
#[derive(Debug, Clone)]
pub struct IntuitCallback {
    pub code: String,
    pub state: String,
    pub realm_id: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: String,
    provider: String,
    status: String,
    status_reason: Option<String>,
    account_id: Option<String>,
    data_centre: Option<String>,
    accounts_server: Option<String>,
    api_domain: Option<String>,
    refresh_token: String,
    access_token: Option<String>,
    access_expires_at: Option<i64>,
    refresh_expires_at: Option<i64>,
    refresh_hard_expires_at: Option<i64>,
    refreshed_at: Option<i64>,
    connected_at: i64,
    verified_at: Option<i64>,
}

impl Row {
    fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            tenant_id: self.tenant_id.clone(),
            provider: Provider::parse(&self.provider).unwrap_or(Provider::Zoho),
            status: ConnectionStatus::parse(&self.status),
            status_reason: self.status_reason.clone(),
            account_id: self.account_id.clone(),
            data_centre: self.data_centre.clone(),
            api_domain: self.api_domain.clone(),
            connected_at: self.connected_at,
            verified_at: self.verified_at,
            refreshed_at: self.refreshed_at,
            refresh_expires_at: self.refresh_expires_at,
            refresh_hard_expires_at: self.refresh_hard_expires_at,
        }
    }
}

const ROW_COLUMNS: &str = "tenant_id, provider, status, status_reason, account_id, data_centre, \
     accounts_server, api_domain, refresh_token, access_token, access_expires_at, \
     refresh_expires_at, refresh_hard_expires_at, refreshed_at, connected_at, verified_at";

#[derive(Clone)]
struct CachedToken {
    token: String,
    expires_at: i64,
}

type Key = (String, Provider);

/// The connection store: build one per process and share it (`Arc`).
pub struct ConnectionStore {
    db: Db,
    vault: Arc<Vault>,
    clock: Arc<dyn Clock>,
    connectors: Connectors,
    zoho: Option<ZohoOAuth>,
    intuit: Option<IntuitOAuth>,
    refresh_locks: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    cache: Mutex<HashMap<Key, CachedToken>>,
}

impl std::fmt::Debug for ConnectionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionStore")
            .field("zoho_configured", &self.zoho.is_some())
            .field("intuit_configured", &self.intuit.is_some())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ConnectionStore {
    /// `zoho_app` / `intuit_app`: the registered OAuth apps (`None` = that provider cannot be
    /// connected on this server).
    pub fn new(
        db: Db,
        vault: Arc<Vault>,
        clock: Arc<dyn Clock>,
        connectors: Connectors,
        zoho_app: Option<OAuthApp>,
        intuit_app: Option<OAuthApp>,
    ) -> Self {
        let zoho = zoho_app.map(|app| ZohoOAuth::new(&connectors, app));
        let intuit = intuit_app.map(|app| IntuitOAuth::new(&connectors, app));
        Self {
            db,
            vault,
            clock,
            connectors,
            zoho,
            intuit,
            refresh_locks: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn zoho_oauth(&self) -> Result<&ZohoOAuth, ConnectionError> {
        self.zoho
            .as_ref()
            .ok_or(ConnectionError::NotConfigured(Provider::Zoho))
    }

    fn intuit_oauth(&self) -> Result<&IntuitOAuth, ConnectionError> {
        self.intuit
            .as_ref()
            .ok_or(ConnectionError::NotConfigured(Provider::Qbo))
    }

    // ------------------------------------------------------------ authorization

    async fn row(&self, tenant_id: &str, provider: Provider) -> Result<Option<Row>, sqlx::Error> {
        let sql =
            format!("SELECT {ROW_COLUMNS} FROM connections WHERE tenant_id = $1 AND provider = $2");
        with_pool!(&self.db, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
                .bind(tenant_id)
                .bind(provider.as_str())
                .fetch_optional(pool)
                .await
        })
    }

    pub async fn connection(
        &self,
        tenant_id: &str,
        provider: Provider,
    ) -> Result<Option<ConnectionInfo>, ConnectionError> {
        Ok(self.row(tenant_id, provider).await?.map(|row| row.info()))
    }

    /// A tenant's connections, for the Connections page and the red banner.
    pub async fn tenant_connections(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<ConnectionInfo>, ConnectionError> {
        let sql =
            format!("SELECT {ROW_COLUMNS} FROM connections WHERE tenant_id = $1 ORDER BY provider");
        let rows = with_pool!(&self.db, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
                .bind(tenant_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.iter().map(Row::info).collect())
    }

    /// Every tenant's connection states, for the scheduler: a tenant runs only when both of
    /// its connections are `Connected`.
    pub async fn connection_states(&self) -> Result<Vec<ConnectionState>, ConnectionError> {
        let rows: Vec<(String, String, String)> = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT tenant_id, provider, status FROM connections ORDER BY tenant_id, provider")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(tenant_id, provider, status)| {
                Some(ConnectionState {
                    tenant_id,
                    provider: Provider::parse(&provider)?,
                    status: ConnectionStatus::parse(&status),
                })
            })
            .collect())
    }

    /// Records a successful check (e.g. a CompanyInfo call) for the "last verified" time.
    pub async fn mark_verified(
        &self,
        tenant_id: &str,
        provider: Provider,
    ) -> Result<(), ConnectionError> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query("UPDATE connections SET verified_at = $1, updated_at = $1 WHERE tenant_id = $2 AND provider = $3")
                .bind(now)
                .bind(tenant_id)
                .bind(provider.as_str())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The grant is unusable: the scheduler skips the tenant and the banner asks for a
    /// reconnect. `reason` is shown to the user.
    pub async fn mark_needs_reconnect(
        &self,
        tenant_id: &str,
        provider: Provider,
        reason: &str,
    ) -> Result<(), ConnectionError> {
        let now = self.clock.now_millis();
        lock(&self.cache).remove(&(tenant_id.to_owned(), provider));
        with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE connections SET status = 'needs_reconnect', status_reason = $1, access_token = NULL, \
                 access_expires_at = NULL, updated_at = $2 WHERE tenant_id = $3 AND provider = $4",
            )
            .bind(reason)
            .bind(now)
            .bind(tenant_id)
            .bind(provider.as_str())
            .execute(pool)
            .await?;
        });
        tracing::warn!(
            tenant_id,
            provider = provider.as_str(),
            "connection needs a reconnect"
        );
        Ok(())
    }

    /// Disconnects: revokes the grant at the provider (best effort: a grant that is already
    /// gone is fine) and forgets the tokens.
    pub async fn disconnect(
        &self,
        tenant_id: &str,
        provider: Provider,
    ) -> Result<(), ConnectionError> {
        if let Some(row) = self.row(tenant_id, provider).await? {
            let refresh = self
                .vault
                .open(tenant_id, provider.as_str(), &row.refresh_token)?;
            let revoked = match provider {
                Provider::Zoho => match (self.zoho.as_ref(), row.accounts_server.as_deref()) {
                    (Some(oauth), Some(server)) => oauth.revoke(server, &refresh).await,
                    _ => Ok(()),
                },
                Provider::Qbo => match self.intuit.as_ref() {
                    Some(oauth) => oauth.revoke(&refresh).await,
                    None => Ok(()),
                },
            };
            if let Err(error) = revoked {
                tracing::info!(
                    tenant_id,
                    provider = provider.as_str(),
                    raw = error.raw_message(),
                    "revoke on disconnect failed"
                );
            }
        }
        lock(&self.cache).remove(&(tenant_id.to_owned(), provider));
        with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM connections WHERE tenant_id = $1 AND provider = $2")
                .bind(tenant_id)
                .bind(provider.as_str())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Tenants whose Zoho and QBO connections are both usable: the ones the scheduler may run.
    pub async fn runnable_tenants(&self) -> Result<Vec<String>, ConnectionError> {
        let rows: Vec<(String,)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT tenant_id FROM connections WHERE status = 'connected' \
                 GROUP BY tenant_id HAVING COUNT(DISTINCT provider) = 2 ORDER BY tenant_id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(tenant,)| tenant).collect())
    }

    /// The QuickBooks "Verify" step and connection check: CompanyInfo and Preferences; a
    /// success is recorded as the last verified time.
    pub async fn verify_qbo(
        self: &Arc<Self>,
        tenant_id: &str,
    ) -> Result<QboCheck, ConnectionError> {
        let client = self.qbo_client(tenant_id).await?;
        let check = check_qbo(&client).await?;
        self.mark_verified(tenant_id, Provider::Qbo).await?;
        Ok(check)
    }

    /// The Zoho connection check: modules (edition), field metadata and record access.
    pub async fn verify_zoho(
        self: &Arc<Self>,
        tenant_id: &str,
    ) -> Result<ZohoCheck, ConnectionError> {
        let client = self.zoho_client(tenant_id).await?;
        let check = check_zoho(&client).await?;
        self.mark_verified(tenant_id, Provider::Zoho).await?;
        Ok(check)
    }

    /// Refreshes Intuit connections not refreshed for `max_idle`: an Intuit refresh token
    /// unused for ~100 days dies, so idle companies are kept alive (run it daily with a week).
    /// Returns how many were refreshed; failures mark their connection as usual.
    pub async fn keep_alive(&self, max_idle: chrono::Duration) -> Result<usize, ConnectionError> {
        let cutoff = self.clock.now_millis() - max_idle.num_milliseconds();
        let tenants: Vec<(String,)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT tenant_id FROM connections WHERE provider = 'qbo' AND status = 'connected' \
                 AND COALESCE(refreshed_at, connected_at) < $1 ORDER BY tenant_id",
            )
            .bind(cutoff)
            .fetch_all(pool)
            .await?
        });
        let mut refreshed = 0;
        for (tenant_id,) in tenants {
            // Presenting the current token as refused forces a refresh (under the lease).
            let current = self
                .stored_access(&tenant_id, Provider::Qbo)
                .await
                .ok()
                .flatten();
            let refused = current.as_ref().map(|c| c.token.as_str());
            match self
                .access_token(&tenant_id, Provider::Qbo, refused.or(Some("")))
                .await
            {
                Ok(_) => refreshed += 1,
                Err(error) => tracing::warn!(
                    tenant_id,
                    raw = error.raw_message(),
                    "keep-alive refresh failed"
                ),
            }
        }
        Ok(refreshed)
    }

    // ------------------------------------------------------------ clients and tokens

    /// The tenant's connection to `provider`, if it exists and its grant still works.
    async fn usable_row(
        &self,
        tenant_id: &str,
        provider: Provider,
    ) -> Result<Row, ConnectionError> {
        let row = self
            .row(tenant_id, provider)
            .await?
            .ok_or(ConnectionError::NotConnected(provider))?;
        if ConnectionStatus::parse(&row.status) != ConnectionStatus::Connected {
            return Err(ConnectionError::NeedsReconnect(provider));
        }
        Ok(row)
    }

    /// A QBO client for the tenant's company, with tokens from this store.
    pub async fn qbo_client(
        self: &Arc<Self>,
        tenant_id: &str,
    ) -> Result<QboClient, ConnectionError> {
        let realm = self
            .usable_row(tenant_id, Provider::Qbo)
            .await?
            .account_id
            .ok_or(ConnectionError::NotConnected(Provider::Qbo))?;
        Ok(self.connectors.qbo(
            tenant_id,
            &realm,
            self.token_source(tenant_id, Provider::Qbo),
        ))
    }

    /// A Zoho client at the tenant's stored `api_domain`, with tokens from this store.
    pub async fn zoho_client(
        self: &Arc<Self>,
        tenant_id: &str,
    ) -> Result<ZohoClient, ConnectionError> {
        let domain = self
            .usable_row(tenant_id, Provider::Zoho)
            .await?
            .api_domain
            .ok_or(ConnectionError::NotConnected(Provider::Zoho))?;
        Ok(self.connectors.zoho(
            tenant_id,
            &domain,
            self.token_source(tenant_id, Provider::Zoho),
        ))
    }
}
