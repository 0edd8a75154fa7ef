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
use crate::connectors::oauth::{OAuthApp, random_urlsafe};
use crate::connectors::{
    Api, BoxFuture, ConnectorError, Connectors, IntuitOAuth, QboClient, TokenSource, ZohoClient,
    ZohoOAuth,
};
use crate::db::Db;
use crate::vault::{Vault, VaultError};
use crate::with_pool;

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

fn state_hash(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

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

    /// Starts connecting: remembers a single-use `state` for the tenant and returns the
    /// provider's consent URL to redirect the browser to.
    pub async fn authorization_url(
        &self,
        tenant_id: &str,
        provider: Provider,
    ) -> Result<String, ConnectionError> {
        let state = random_urlsafe(32);
        let url = match provider {
            Provider::Zoho => self.zoho_oauth()?.authorization_url(&state),
            Provider::Qbo => self.intuit_oauth()?.authorization_url(&state, None),
        };
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM oauth_states WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO oauth_states (tenant_id, state_hash, provider, pkce_verifier, created_at, expires_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5)",
            )
            .bind(tenant_id)
            .bind(state_hash(&state))
            .bind(provider.as_str())
            .bind(now)
            .bind(now + STATE_TTL_MS)
            .execute(pool)
            .await?;
        });
        Ok(url)
    }

    /// Consumes a `state` (once): it must belong to this tenant and provider and be fresh.
    async fn take_state(
        &self,
        tenant_id: &str,
        provider: Provider,
        state: &str,
    ) -> Result<(), ConnectionError> {
        let now = self.clock.now_millis();
        let taken = with_pool!(&self.db, pool => {
            sqlx::query(
                "DELETE FROM oauth_states WHERE tenant_id = $1 AND state_hash = $2 AND provider = $3 AND expires_at > $4",
            )
            .bind(tenant_id)
            .bind(state_hash(state))
            .bind(provider.as_str())
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if taken == 1 {
            Ok(())
        } else {
            Err(ConnectionError::InvalidState)
        }
    }

    /// Completes a Zoho authorization: checks `state`, exchanges the code at the callback's
    /// data centre (allow-listed) and stores the sealed tokens with the `api_domain`.
    pub async fn complete_zoho(
        &self,
        tenant_id: &str,
        callback: &ZohoCallback,
    ) -> Result<ConnectionInfo, ConnectionError> {
        let oauth = self.zoho_oauth()?;
        self.take_state(tenant_id, Provider::Zoho, &callback.state)
            .await?;
        if callback.code.is_empty() {
            return Err(ConnectionError::InvalidCallback(Provider::Zoho));
        }
        let (dc, tokens) = oauth
            .exchange_code(&callback.accounts_server, &callback.code)
            .await?;
        let refresh = tokens
            .refresh_token
            .as_deref()
            .ok_or(ConnectionError::InvalidCallback(Provider::Zoho))?;
        let now = self.clock.now_millis();
        let stored = StoredTokens {
            refresh: refresh.to_owned(),
            access: tokens.access_token.clone(),
            access_expires_at: now + tokens.expires_in_secs * 1000,
            refresh_expires_at: None,
            refresh_hard_expires_at: None,
        };
        self.save_new_connection(
            tenant_id,
            Provider::Zoho,
            None,
            Some(&dc.location),
            Some(&dc.accounts_server),
            tokens.api_domain.as_deref(),
            &stored,
        )
        .await
    }

    /// Completes an Intuit authorization: checks `state`, takes the `realmId` from the
    /// callback, exchanges the code and stores the sealed tokens.
    pub async fn complete_qbo(
        &self,
        tenant_id: &str,
        callback: &IntuitCallback,
    ) -> Result<ConnectionInfo, ConnectionError> {
        let oauth = self.intuit_oauth()?;
        self.take_state(tenant_id, Provider::Qbo, &callback.state)
            .await?;
        let realm_ok = !callback.realm_id.is_empty()
            && callback.realm_id.len() <= 32
            && callback.realm_id.bytes().all(|b| b.is_ascii_digit());
        if !realm_ok || callback.code.is_empty() {
            return Err(ConnectionError::InvalidCallback(Provider::Qbo));
        }
        let tokens = oauth.exchange_code(&callback.code, None).await?;
        let refresh = tokens
            .refresh_token
            .as_deref()
            .ok_or(ConnectionError::InvalidCallback(Provider::Qbo))?;
        let now = self.clock.now_millis();
        let stored = StoredTokens {
            refresh: refresh.to_owned(),
            access: tokens.access_token.clone(),
            access_expires_at: now + tokens.expires_in_secs * 1000,
            refresh_expires_at: tokens.refresh_expires_in_secs.map(|s| now + s * 1000),
            refresh_hard_expires_at: tokens.refresh_hard_expires_in_secs.map(|s| now + s * 1000),
        };
        self.save_new_connection(
            tenant_id,
            Provider::Qbo,
            Some(&callback.realm_id),
            None,
            None,
            None,
            &stored,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn save_new_connection(
        &self,
        tenant_id: &str,
        provider: Provider,
        account_id: Option<&str>,
        data_centre: Option<&str>,
        accounts_server: Option<&str>,
        api_domain: Option<&str>,
        tokens: &StoredTokens,
    ) -> Result<ConnectionInfo, ConnectionError> {
        let p = provider.as_str();
        let refresh = self.vault.seal(tenant_id, p, &tokens.refresh)?;
        let access = self.vault.seal(tenant_id, p, &tokens.access)?;
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO connections (tenant_id, provider, status, status_reason, account_id, data_centre, \
                 accounts_server, api_domain, scopes, refresh_token, access_token, access_expires_at, \
                 refresh_expires_at, refresh_hard_expires_at, refreshed_at, connected_at, verified_at, updated_at) \
                 VALUES ($1, $2, 'connected', NULL, $3, $4, $5, $6, NULL, $7, $8, $9, $10, $11, $12, $12, NULL, $12) \
                 ON CONFLICT (tenant_id, provider) DO UPDATE SET status = 'connected', status_reason = NULL, \
                 account_id = excluded.account_id, data_centre = excluded.data_centre, \
                 accounts_server = excluded.accounts_server, api_domain = excluded.api_domain, \
                 refresh_token = excluded.refresh_token, access_token = excluded.access_token, \
                 access_expires_at = excluded.access_expires_at, refresh_expires_at = excluded.refresh_expires_at, \
                 refresh_hard_expires_at = excluded.refresh_hard_expires_at, refreshed_at = excluded.refreshed_at, \
                 connected_at = excluded.connected_at, verified_at = NULL, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(p)
            .bind(account_id)
            .bind(data_centre)
            .bind(accounts_server)
            .bind(api_domain)
            .bind(&refresh)
            .bind(&access)
            .bind(tokens.access_expires_at)
            .bind(tokens.refresh_expires_at)
            .bind(tokens.refresh_hard_expires_at)
            .bind(now)
            .execute(pool)
            .await?;
        });
        lock(&self.cache).insert(
            (tenant_id.to_owned(), provider),
            CachedToken {
                token: tokens.access.clone(),
                expires_at: tokens.access_expires_at,
            },
        );
        self.connection(tenant_id, provider)
            .await?
            .ok_or(ConnectionError::NotConnected(provider))
    }

    // ------------------------------------------------------------ reading states

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

    pub fn token_source(
        self: &Arc<Self>,
        tenant_id: &str,
        provider: Provider,
    ) -> Arc<dyn TokenSource> {
        Arc::new(StoreTokens {
            store: self.clone(),
            tenant_id: tenant_id.to_owned(),
            provider,
        })
    }

    fn fresh(&self, expires_at: i64) -> bool {
        expires_at - REFRESH_MARGIN_MS > self.clock.now_millis()
    }

    /// A current access token: from memory, else from the database (another process may have
    /// refreshed), else refreshed under the lease. `refused` is a token an API just refused;
    /// it is replaced unless someone already did.
    pub async fn access_token(
        &self,
        tenant_id: &str,
        provider: Provider,
        refused: Option<&str>,
    ) -> Result<String, ConnectorError> {
        let key = (tenant_id.to_owned(), provider);
        let usable = |cached: &CachedToken| {
            self.fresh(cached.expires_at) && refused != Some(cached.token.as_str())
        };
        if let Some(cached) = lock(&self.cache).get(&key).filter(|c| usable(c)).cloned() {
            return Ok(cached.token);
        }
        let mutex = lock(&self.refresh_locks)
            .entry(key.clone())
            .or_default()
            .clone();
        let _turn = mutex.lock().await;
        if let Some(cached) = lock(&self.cache).get(&key).filter(|c| usable(c)).cloned() {
            return Ok(cached.token);
        }
        if let Some(stored) = self.stored_access(tenant_id, provider).await?
            && usable(&stored)
        {
            lock(&self.cache).insert(key, stored.clone());
            return Ok(stored.token);
        }
        let fresh = self
            .refresh_under_lease(tenant_id, provider, refused)
            .await?;
        lock(&self.cache).insert(key, fresh.clone());
        Ok(fresh.token)
    }

    fn storage_error(error: &dyn std::fmt::Display, provider: Provider) -> ConnectorError {
        ConnectorError::transient(
            provider.oauth_api(),
            None,
            format!("connection storage: {error}"),
        )
    }

    /// The stored access token, if any; errors when the connection is gone or needs a reconnect.
    async fn stored_access(
        &self,
        tenant_id: &str,
        provider: Provider,
    ) -> Result<Option<CachedToken>, ConnectorError> {
        let row = self
            .row(tenant_id, provider)
            .await
            .map_err(|e| Self::storage_error(&e, provider))?
            .ok_or_else(|| {
                ConnectorError::needs_reconnect(
                    provider.oauth_api(),
                    None,
                    None,
                    "no connection".to_owned(),
                )
            })?;
        if ConnectionStatus::parse(&row.status) != ConnectionStatus::Connected {
            return Err(ConnectorError::needs_reconnect(
                provider.oauth_api(),
                None,
                None,
                row.status_reason.unwrap_or_default(),
            ));
        }
        match (row.access_token, row.access_expires_at) {
            (Some(sealed), Some(expires_at)) => {
                let token = self
                    .vault
                    .open(tenant_id, provider.as_str(), &sealed)
                    .map_err(|e| Self::storage_error(&e, provider))?;
                Ok(Some(CachedToken { token, expires_at }))
            }
            _ => Ok(None),
        }
    }

    async fn try_lease(
        &self,
        tenant_id: &str,
        provider: Provider,
        holder: &str,
    ) -> Result<bool, sqlx::Error> {
        let now = self.clock.now_millis();
        let acquired = with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO connection_refresh_leases (tenant_id, provider, holder, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, provider) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE connection_refresh_leases.expires_at <= $5",
            )
            .bind(tenant_id)
            .bind(provider.as_str())
            .bind(holder)
            .bind(now + LEASE_TTL_MS)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(acquired == 1)
    }

    async fn release_lease(&self, tenant_id: &str, provider: Provider, holder: &str) {
        let result = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM connection_refresh_leases WHERE tenant_id = $1 AND provider = $2 AND holder = $3")
                .bind(tenant_id)
                .bind(provider.as_str())
                .bind(holder)
                .execute(pool)
                .await
                .map(|_| ())
        });
        if let Err(error) = result {
            // The lease expires by itself; only a delay for the next refresher.
            tracing::warn!(%error, tenant_id, "could not release a refresh lease");
        }
    }

    async fn refresh_under_lease(
        &self,
        tenant_id: &str,
        provider: Provider,
        refused: Option<&str>,
    ) -> Result<CachedToken, ConnectorError> {
        let holder = uuid::Uuid::new_v4().to_string();
        let started = std::time::Instant::now();
        loop {
            if self
                .try_lease(tenant_id, provider, &holder)
                .await
                .map_err(|e| Self::storage_error(&e, provider))?
            {
                break;
            }
            // Another process is refreshing: wait for its token rather than minting a second.
            tokio::time::sleep(LEASE_POLL).await;
            if let Some(stored) = self.stored_access(tenant_id, provider).await?
                && self.fresh(stored.expires_at)
                && refused != Some(stored.token.as_str())
            {
                return Ok(stored);
            }
            if started.elapsed() > LEASE_WAIT {
                return Err(ConnectorError::transient(
                    provider.oauth_api(),
                    None,
                    "waited too long for another token refresh".to_owned(),
                ));
            }
        }
        let outcome = self.refresh_now(tenant_id, provider, refused).await;
        self.release_lease(tenant_id, provider, &holder).await;
        outcome
    }

    /// Under the lease: re-read, refresh at the provider, store, then hand out.
    async fn refresh_now(
        &self,
        tenant_id: &str,
        provider: Provider,
        refused: Option<&str>,
    ) -> Result<CachedToken, ConnectorError> {
        if let Some(stored) = self.stored_access(tenant_id, provider).await?
            && self.fresh(stored.expires_at)
            && refused != Some(stored.token.as_str())
        {
            return Ok(stored);
        }
        let row = self
            .row(tenant_id, provider)
            .await
            .map_err(|e| Self::storage_error(&e, provider))?
            .ok_or_else(|| {
                ConnectorError::needs_reconnect(
                    provider.oauth_api(),
                    None,
                    None,
                    "no connection".to_owned(),
                )
            })?;
        let p = provider.as_str();
        let refresh_token = self
            .vault
            .open(tenant_id, p, &row.refresh_token)
            .map_err(|e| Self::storage_error(&e, provider))?;
        let answer = match provider {
            Provider::Zoho => {
                let oauth = self.zoho.as_ref().ok_or_else(|| not_configured(provider))?;
                let server = row.accounts_server.as_deref().unwrap_or_default();
                oauth.refresh(server, &refresh_token).await
            }
            Provider::Qbo => {
                let oauth = self
                    .intuit
                    .as_ref()
                    .ok_or_else(|| not_configured(provider))?;
                oauth.refresh(&refresh_token).await
            }
        };
        let tokens = match answer {
            Ok(tokens) => tokens,
            Err(error @ ConnectorError::NeedsReconnect { .. }) => {
                let reason = reconnect_reason(provider);
                self.mark_needs_reconnect(tenant_id, provider, reason)
                    .await
                    .map_err(|e| Self::storage_error(&e, provider))?;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let now = self.clock.now_millis();
        let fresh = CachedToken {
            token: tokens.access_token.clone(),
            expires_at: now + tokens.expires_in_secs * 1000,
        };
        let sealed_access = self
            .vault
            .seal(tenant_id, p, &fresh.token)
            .map_err(|e| Self::storage_error(&e, provider))?;
        // Intuit may rotate the refresh token: it is stored in the same statement, before the
        // new access token leaves this function. Zoho sends none, so the old one stays.
        let sealed_refresh = match tokens.refresh_token.as_deref() {
            Some(rotated) => Some(
                self.vault
                    .seal(tenant_id, p, rotated)
                    .map_err(|e| Self::storage_error(&e, provider))?,
            ),
            None if self.vault.needs_reseal(&row.refresh_token) => Some(
                self.vault
                    .seal(tenant_id, p, &refresh_token)
                    .map_err(|e| Self::storage_error(&e, provider))?,
            ),
            None => None,
        };
        let refresh_expires_at = tokens.refresh_expires_in_secs.map(|s| now + s * 1000);
        let hard_expires_at = tokens.refresh_hard_expires_in_secs.map(|s| now + s * 1000);
        let stored = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE connections SET access_token = $1, access_expires_at = $2, \
                 refresh_token = COALESCE($3, refresh_token), \
                 refresh_expires_at = COALESCE($4, refresh_expires_at), \
                 refresh_hard_expires_at = COALESCE($5, refresh_hard_expires_at), \
                 api_domain = COALESCE($6, api_domain), refreshed_at = $7, updated_at = $7 \
                 WHERE tenant_id = $8 AND provider = $9 AND status = 'connected'",
            )
            .bind(&sealed_access)
            .bind(fresh.expires_at)
            .bind(sealed_refresh.as_deref())
            .bind(refresh_expires_at)
            .bind(hard_expires_at)
            .bind(tokens.api_domain.as_deref().filter(|_| provider == Provider::Zoho && row.api_domain.is_none()))
            .bind(now)
            .bind(tenant_id)
            .bind(p)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        });
        match stored {
            Ok(1) => Ok(fresh),
            Ok(_) => Err(ConnectorError::needs_reconnect(
                provider.oauth_api(),
                None,
                None,
                "connection removed during refresh".to_owned(),
            )),
            Err(error) => Err(Self::storage_error(&error, provider)),
        }
    }
}

/// The banner's words (SPEC §9: "QBO credentials invalid").
fn reconnect_reason(provider: Provider) -> &'static str {
    match provider {
        Provider::Zoho => domain::log::Notice::ZohoCredentialsInvalid.message(),
        Provider::Qbo => domain::log::Notice::QboCredentialsInvalid.message(),
    }
}

fn not_configured(provider: Provider) -> ConnectorError {
    ConnectorError::unexpected(
        provider.oauth_api(),
        None,
        format!("no OAuth app configured for {}", provider.as_str()),
    )
}

struct StoredTokens {
    refresh: String,
    access: String,
    access_expires_at: i64,
    refresh_expires_at: Option<i64>,
    refresh_hard_expires_at: Option<i64>,
}

/// The store as a [`TokenSource`] for one tenant's client.
struct StoreTokens {
    store: Arc<ConnectionStore>,
    tenant_id: String,
    provider: Provider,
}

impl TokenSource for StoreTokens {
    fn access_token<'a>(
        &'a self,
        refused: Option<&'a str>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>> {
        Box::pin(
            self.store
                .access_token(&self.tenant_id, self.provider, refused),
        )
    }

    fn refused_after_refresh(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let reason = reconnect_reason(self.provider);
            if let Err(error) = self
                .store
                .mark_needs_reconnect(&self.tenant_id, self.provider, reason)
                .await
            {
                tracing::error!(%error, "could not mark a connection as needing a reconnect");
            }
        })
    }
}
