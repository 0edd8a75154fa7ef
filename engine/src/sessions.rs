//! Log-in sessions: an opaque random token in an HttpOnly cookie, its SHA-256 in the database,
//! expiring after a period without requests (sliding).

use std::sync::Arc;

use base64::Engine as _;
use rand::RngCore as _;

use crate::accounts::hex_sha256;
use crate::clock::Clock;
use crate::db::Db;
use crate::with_pool;

/// Whether a request counts as the user's activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activity {
    User,
    Passive,
}

/// The default idle limit of SPEC §1.
pub const DEFAULT_IDLE_SECS: u64 = 600;

/// `last_seen_at` is written at most this often per session: every request would otherwise
/// be a write, and a second is far finer than the idle limit.
const TOUCH_GRANULARITY_MILLIS: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub tenant_id: crate::TenantId,
    pub user_id: String,
    /// When the session ends (Unix milliseconds) unless another request counts as activity
    /// first: the last activity plus the idle limit.
    pub idle_ends_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Active(Session),
    /// The token was valid but sat idle too long; the row is gone now.
    Expired,
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Sessions {
    db: Db,
    clock: Arc<dyn Clock>,
    idle_millis: i64,
}

impl Sessions {
    pub fn new(db: Db, clock: Arc<dyn Clock>, idle_secs: u64) -> Self {
        let idle_millis = i64::try_from(idle_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        Self {
            db,
            clock,
            idle_millis,
        }
    }

    pub fn idle_secs(&self) -> u64 {
        u64::try_from(self.idle_millis / 1000).unwrap_or(0)
    }

    /// Milliseconds until `session` ends without further activity (0 when it is over).
    pub fn millis_left(&self, session: &Session) -> i64 {
        (session.idle_ends_at - self.clock.now_millis()).max(0)
    }

    /// Starts a session and returns the token for the cookie. Only its hash is stored.
    pub async fn create(&self, tenant_id: &str, user_id: &str) -> Result<String, sqlx::Error> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sessions (token_hash, tenant_id, user_id, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(hex_sha256(&token))
            .bind(tenant_id)
            .bind(user_id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(token)
    }

    /// Resolves a cookie token, and counts this request as activity.
    pub async fn resolve(&self, token: &str) -> Result<Lookup, sqlx::Error> {
        self.lookup(token, Activity::User).await
    }

    /// Resolves a cookie token for a request the page made on its own (a status poll): the
    /// session must be live, but the request does not keep it alive, so an open tab still
    /// logs out after the idle limit.
    pub async fn resolve_passive(&self, token: &str) -> Result<Lookup, sqlx::Error> {
        self.lookup(token, Activity::Passive).await
    }

    async fn lookup(&self, token: &str, activity: Activity) -> Result<Lookup, sqlx::Error> {
        let hash = hex_sha256(token);
        let now = self.clock.now_millis();
        let row: Option<(String, String, i64)> = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT tenant_id, user_id, last_seen_at FROM sessions WHERE token_hash = $1")
                .bind(&hash)
                .fetch_optional(pool)
                .await?
        });
        let Some((tenant_id, user_id, last_seen_at)) = row else {
            return Ok(Lookup::Unknown);
        };
        if now - last_seen_at > self.idle_millis {
            self.delete_hash(&hash).await?;
            return Ok(Lookup::Expired);
        }
        let mut last_active = last_seen_at;
        if activity == Activity::User && now - last_seen_at >= TOUCH_GRANULARITY_MILLIS {
            with_pool!(&self.db, pool => {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1")
                    .bind(now)
                    .bind(&hash)
                    .execute(pool)
                    .await?;
            });
            last_active = now;
        }
        Ok(Lookup::Active(Session {
            tenant_id: tenant_id.into(),
            user_id,
            idle_ends_at: last_active.saturating_add(self.idle_millis),
        }))
    }

    /// Ends the session of this token (log out).
    pub async fn delete(&self, token: &str) -> Result<(), sqlx::Error> {
        self.delete_hash(&hex_sha256(token)).await
    }

    async fn delete_hash(&self, hash: &str) -> Result<(), sqlx::Error> {
        with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Housekeeping: removes idle sessions. Returns sessions removed.
    pub async fn purge_expired(&self) -> Result<u64, sqlx::Error> {
        let now = self.clock.now_millis();
        let removed = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
                .bind(now - self.idle_millis)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed)
    }
}
