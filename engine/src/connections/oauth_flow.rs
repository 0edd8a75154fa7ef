//! Connecting: the consent page's address with a single-use `state`, and the callbacks that
//! exchange the code, check the account and store the sealed tokens.

use super::tokens::StoredTokens;
#[allow(clippy::wildcard_imports)] // the parent module's types and helpers
use super::*;

pub(super) fn state_hash(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ConnectionStore {
    /// Starts connecting: remembers a single-use `state` for the tenant and returns the
    /// provider's consent URL to redirect the browser to.
    pub async fn authorization_url(
        &self,
        tenant_id: &str,
        provider: Provider,
    ) -> Result<String, ConnectionError> {
        let (url, state) = match provider {
            Provider::Zoho => self.zoho_oauth()?.authorization_url()?,
            Provider::Qbo => self.intuit_oauth()?.authorization_url(None)?,
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
            .bind(state_hash(state.secret()))
            .bind(provider.as_str())
            .bind(now)
            .bind(now + STATE_TTL_MS)
            .execute(pool)
            .await?;
        });
        Ok(url)
    }

    /// Consumes a `state` (once): it must belong to this tenant and provider and be fresh.
    pub(super) async fn take_state(
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
            .as_ref()
            .ok_or(ConnectionError::InvalidCallback(Provider::Zoho))?;
        let now = self.clock.now_millis();
        let stored = StoredTokens {
            refresh: refresh.secret().clone(),
            access: tokens.access_token.secret().clone(),
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
            .as_ref()
            .ok_or(ConnectionError::InvalidCallback(Provider::Qbo))?;
        let now = self.clock.now_millis();
        let stored = StoredTokens {
            refresh: refresh.secret().clone(),
            access: tokens.access_token.secret().clone(),
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
    pub(super) async fn save_new_connection(
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
}
