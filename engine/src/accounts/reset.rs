//! "Forgot your password?": a link by email to choose a new password.
//!
//! - A request names an email. Whether or not an account has it, the caller answers the same;
//!   requests are limited per email and per client address (`throttle`), counted for unknown
//!   emails too, so a refusal tells nothing about accounts either.
//! - The link carries a random 256-bit token; only its SHA-256 is stored (`password_resets`).
//!   It works once, for [`RESET_LINK_MINUTES`] minutes.
//! - Setting the new password (the sign-up rules) ends every session of the user and voids
//!   their other links, in one transaction; the (email, address) log-in back-off of the
//!   address that reset is cleared, since the reset proved the person holds the mailbox.
//! - Requests and resets are audited (`audit`), never with the email or the token.

use base64::Engine as _;
use rand::RngCore as _;

use super::{
    AccountError, Accounts, hash_password, hex_sha256, normalize_email, validate_password,
};
use crate::audit::{self, Actor, AuthEvent, Outcome};
use crate::billing::mail::{ACCOUNTS_FROM, Email, Mailer};
use crate::db::BeginWrite;
use crate::throttle::{self, LoginSubjects};
use crate::with_pool;

/// How long a reset link works.
pub const RESET_LINK_MINUTES: i64 = 30;
const RESET_LINK_MILLIS: i64 = RESET_LINK_MINUTES * 60 * 1000;

/// A reset link to send: to whom, and the token for its URL (shown once, never stored).
#[derive(Clone, PartialEq, Eq)]
pub struct ResetLink {
    pub tenant_id: String,
    pub user_id: String,
    pub email: String,
    pub company_name: String,
    pub token: String,
}

impl std::fmt::Debug for ResetLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetLink")
            .field("tenant_id", &self.tenant_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Whether a reset link can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetLinkState {
    Valid,
    /// Older than [`RESET_LINK_MINUTES`].
    Expired,
    /// Unknown, or used already.
    Invalid,
}

/// A password changed through a reset link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordChanged {
    pub tenant_id: String,
    pub user_id: String,
    /// Sessions of the user that the reset ended.
    pub sessions_ended: u64,
}

/// The email carrying a reset link; `url` is the page that takes the token.
pub fn reset_email(link: &ResetLink, url: &str) -> Email {
    Email {
        kind: "password_reset",
        // Each link is its own email: the dedupe key is a piece of the token's hash.
        dedupe_key: format!("password_reset:{}", &hex_sha256(&link.token)[..32]),
        to: link.email.clone(),
        subject: "Reset your zqsync password".to_owned(),
        body: format!(
            "Hello,\n\n\
             someone (we hope you) asked to reset the password of your zqsync account for {company}.\n\n\
             Choose a new password here (the link works once, for {RESET_LINK_MINUTES} minutes):\n\n\
             {url}\n\n\
             Setting a new password logs you out everywhere else.\n\n\
             If you did not ask for this, ignore this email: your password stays as it is.\n\n\
             zqsync",
            company = link.company_name,
        ),
    }
}

/// Sends a reset link's email without waiting for it (an SMTP server can take a while, and
/// the request for an unknown email must not answer faster than for a known one). The email is
/// recorded in `email_outbox` like every other; a failure is logged.
pub fn send_reset_email_in_background(mailer: &Mailer, link: &ResetLink, url: &str) {
    let mailer = mailer.clone();
    let tenant_id = link.tenant_id.clone();
    let email = reset_email(link, url);
    tokio::spawn(async move {
        if let Err(error) = mailer.send_as(ACCOUNTS_FROM, &tenant_id, &email).await {
            tracing::error!(%tenant_id, %error, "could not record a password reset email");
        }
    });
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

type LinkRow = (String, String, String, i64, Option<i64>);

impl Accounts {
    /// A "forgot your password" request: `Some(link)` to send when an account has this email,
    /// `None` when none does (answer both alike). Limited per email and per client address;
    /// audited.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client_addr: Option<&str>,
    ) -> Result<Option<ResetLink>, AccountError> {
        let mut actor = Actor {
            client_addr,
            email: Some(email),
            ..Actor::default()
        };
        let result = self.create_reset_link(email, client_addr).await;
        let outcome = match &result {
            Ok(Some(link)) => {
                actor.tenant_id = Some(&link.tenant_id);
                actor.user_id = Some(&link.user_id);
                Outcome::Success
            }
            Ok(None) => Outcome::Failure,
            Err(AccountError::TooManyResetRequests { .. }) => Outcome::RateLimited,
            Err(e) if e.is_user_error() => Outcome::Invalid,
            Err(_) => Outcome::Error,
        };
        audit::record(
            AuthEvent::PasswordResetRequest,
            outcome,
            &actor,
            result
                .as_ref()
                .err()
                .and_then(AccountError::retry_after_secs),
        );
        result
    }

    async fn create_reset_link(
        &self,
        email: &str,
        client_addr: Option<&str>,
    ) -> Result<Option<ResetLink>, AccountError> {
        let email = normalize_email(email)?;
        let now = self.clock.now_millis();
        let subjects = throttle::reset_subjects(&email, client_addr);
        if let Some(wait) = throttle::reset_wait(&self.db, &subjects, now).await? {
            return Err(AccountError::TooManyResetRequests {
                retry_after_secs: throttle::retry_after_secs(wait),
            });
        }
        throttle::record_reset(&self.db, &subjects, now).await?;
        let Some((account, _)) = self.find_user_by_email(&email).await? else {
            return Ok(None);
        };
        let token = new_token();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO password_resets (token_hash, tenant_id, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(hex_sha256(&token))
            .bind(&account.tenant_id)
            .bind(&account.user_id)
            .bind(now)
            .bind(now + RESET_LINK_MILLIS)
            .execute(pool)
            .await?;
        });
        Ok(Some(ResetLink {
            tenant_id: account.tenant_id,
            user_id: account.user_id,
            email: account.email,
            company_name: account.company_name,
            token,
        }))
    }

    /// The link's row: tenant, user, the user's email, expiry and use.
    async fn reset_link(&self, token: &str) -> Result<Option<LinkRow>, AccountError> {
        let row = with_pool!(&self.db, pool => {
            sqlx::query_as::<_, LinkRow>(
                "SELECT r.tenant_id, r.user_id, u.email, r.expires_at, r.used_at \
                 FROM password_resets r JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.user_id \
                 WHERE r.token_hash = $1",
            )
            .bind(hex_sha256(token))
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Whether a reset link still works (for the page, before a password is typed).
    pub async fn reset_link_state(&self, token: &str) -> Result<ResetLinkState, AccountError> {
        let now = self.clock.now_millis();
        Ok(match self.reset_link(token).await? {
            None | Some((_, _, _, _, Some(_))) => ResetLinkState::Invalid,
            Some((_, _, _, expires_at, None)) if expires_at <= now => ResetLinkState::Expired,
            Some(_) => ResetLinkState::Valid,
        })
    }

    /// Sets a new password through a reset link: the link is used up, the user's other links
    /// are voided and every session of theirs ends. Audited.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        client_addr: Option<&str>,
    ) -> Result<PasswordChanged, AccountError> {
        let row = self.reset_link(token).await?;
        let ids = row
            .as_ref()
            .map(|(tenant, user, email, _, _)| (tenant.clone(), user.clone(), email.clone()));
        let actor = Actor {
            tenant_id: ids.as_ref().map(|(tenant, _, _)| tenant.as_str()),
            user_id: ids.as_ref().map(|(_, user, _)| user.as_str()),
            client_addr,
            email: ids.as_ref().map(|(_, _, email)| email.as_str()),
        };
        let now = self.clock.now_millis();
        let result = match row {
            None | Some((_, _, _, _, Some(_))) => {
                Err((Outcome::Failure, AccountError::ResetLinkInvalid))
            }
            Some((_, _, _, expires_at, None)) if expires_at <= now => {
                Err((Outcome::Expired, AccountError::ResetLinkInvalid))
            }
            Some((tenant_id, user_id, email, _, None)) => self
                .set_password(token, new_password, &tenant_id, &user_id)
                .await
                .map(|sessions_ended| (email, sessions_ended))
                .map_err(|e| {
                    let outcome = match &e {
                        AccountError::ResetLinkInvalid => Outcome::Failure,
                        e if e.is_user_error() => Outcome::Invalid,
                        _ => Outcome::Error,
                    };
                    (outcome, e)
                }),
        };
        match result {
            Ok((email, sessions_ended)) => {
                // The reset proved the mailbox: this address may log in at once.
                throttle::clear_pair(&self.db, &LoginSubjects::new(&email, client_addr)).await?;
                audit::record(AuthEvent::PasswordReset, Outcome::Success, &actor, None);
                let (tenant_id, user_id, _) = ids.unwrap_or_default();
                Ok(PasswordChanged {
                    tenant_id,
                    user_id,
                    sessions_ended,
                })
            }
            Err((outcome, error)) => {
                audit::record(AuthEvent::PasswordReset, outcome, &actor, None);
                Err(error)
            }
        }
    }

    /// The password change itself: claims the link (once, before it expires), stores the new
    /// hash, voids the user's other links and ends their sessions, all or nothing. Returns the
    /// sessions ended.
    async fn set_password(
        &self,
        token: &str,
        new_password: &str,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<u64, AccountError> {
        validate_password(new_password)?;
        let hash = hash_password(new_password.to_owned()).await?;
        let now = self.clock.now_millis();
        let token_hash = hex_sha256(token);
        let ended: Option<u64> = with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            // Two tabs submitting one link: only the first claim succeeds.
            let claimed = sqlx::query(
                "UPDATE password_resets SET used_at = $1 \
                 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(&token_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 1 {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(&hash)
                    .bind(tenant_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "DELETE FROM password_resets \
                     WHERE tenant_id = $1 AND user_id = $2 AND token_hash <> $3",
                )
                .bind(tenant_id)
                .bind(user_id)
                .bind(&token_hash)
                .execute(&mut *tx)
                .await?;
                let ended = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Some(ended)
            } else {
                tx.rollback().await?;
                None
            }
        });
        ended.ok_or(AccountError::ResetLinkInvalid)
    }

    /// Housekeeping: forgets reset links past their time. Returns the rows removed.
    pub async fn purge_expired_reset_links(&self) -> Result<u64, AccountError> {
        let now = self.clock.now_millis();
        let removed = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_names_the_company_and_the_link_but_not_the_token_twice() {
        let link = ResetLink {
            tenant_id: "t".into(),
            user_id: "u".into(),
            email: "ann@acme.test".into(),
            company_name: "Acme".into(),
            token: "tok".into(),
        };
        let email = reset_email(&link, "https://zq.example/reset-password?token=tok");
        assert_eq!(email.to, "ann@acme.test");
        assert!(email.body.contains("Acme"));
        assert!(
            email
                .body
                .contains("https://zq.example/reset-password?token=tok")
        );
        assert!(email.body.contains("30 minutes"));
        assert!(!email.dedupe_key.contains("tok"));
        assert!(!format!("{link:?}").contains("tok"));
    }

    #[test]
    fn tokens_are_long_and_url_safe() {
        let token = new_token();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(token, new_token());
    }
}
