//! Access tokens: a cache per tenant and provider, refreshed ahead of expiry under a lease that
//! holds across tasks and processes (Intuit rotates refresh tokens: the new one is stored
//! before it is used), and the `TokenSource` the connectors call.

#[allow(clippy::wildcard_imports)] // the parent module's types and helpers
use super::*;

/// The banner's words (SPEC §9: "QBO credentials invalid").
pub(super) fn reconnect_reason(provider: Provider) -> &'static str {
    match provider {
        Provider::Zoho => domain::log::Notice::ZohoCredentialsInvalid.message(),
        Provider::Qbo => domain::log::Notice::QboCredentialsInvalid.message(),
    }
}

pub(super) fn not_configured(provider: Provider) -> ConnectorError {
    ConnectorError::unexpected(
        provider.oauth_api(),
        None,
        format!("no OAuth app configured for {}", provider.as_str()),
    )
}

pub(super) struct StoredTokens {
    pub(super) refresh: String,
    pub(super) access: String,
    pub(super) access_expires_at: i64,
    pub(super) refresh_expires_at: Option<i64>,
    pub(super) refresh_hard_expires_at: Option<i64>,
}

/// The store as a [`TokenSource`] for one tenant's client.
pub(super) struct StoreTokens {
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

impl ConnectionStore {
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

    pub(super) fn fresh(&self, expires_at: i64) -> bool {
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

    pub(super) fn storage_error(
        error: &dyn std::fmt::Display,
        provider: Provider,
    ) -> ConnectorError {
        ConnectorError::transient(
            provider.oauth_api(),
            None,
            format!("connection storage: {error}"),
        )
    }

    /// The stored access token, if any; errors when the connection is gone or needs a reconnect.
    pub(super) async fn stored_access(
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

    pub(super) async fn try_lease(
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

    pub(super) async fn release_lease(&self, tenant_id: &str, provider: Provider, holder: &str) {
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

    pub(super) async fn refresh_under_lease(
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
    pub(super) async fn refresh_now(
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
            token: tokens.access_token.secret().clone(),
            expires_at: now + tokens.expires_in_secs * 1000,
        };
        let sealed_access = self
            .vault
            .seal(tenant_id, p, &fresh.token)
            .map_err(|e| Self::storage_error(&e, provider))?;
        // Intuit may rotate the refresh token: it is stored in the same statement, before the
        // new access token leaves this function. Zoho sends none, so the old one stays.
        let sealed_refresh = match tokens.refresh_token.as_ref().map(RefreshToken::secret) {
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
