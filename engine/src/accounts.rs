//! Tenants and their users: sign-up, password log-in, and password reset (`reset`).

mod reset;
pub use reset::{
    PasswordChanged, RESET_LINK_MINUTES, ResetLink, ResetLinkState, reset_email,
    send_reset_email_in_background,
};

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::audit::{self, Actor, AuthEvent, Outcome};
use crate::clock::Clock;
use crate::db::{BeginWrite, Db};
use crate::throttle::{self, LoginSubjects, SignupLimit};
use crate::with_pool;

pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_COMPANY_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("Enter your company's name.")]
    CompanyMissing,
    #[error("The company name is too long (at most {MAX_COMPANY_CHARS} characters).")]
    CompanyTooLong,
    #[error("Enter a valid email address, like name@company.com.")]
    InvalidEmail,
    #[error("Choose a password of at least {MIN_PASSWORD_CHARS} characters.")]
    PasswordTooShort,
    #[error("That password is too long (at most {MAX_PASSWORD_BYTES} bytes).")]
    PasswordTooLong,
    #[error("An account with this email already exists. Log in instead, or use another email.")]
    DuplicateEmail,
    #[error("The email or password is not right. Check both and try again.")]
    InvalidCredentials,
    #[error("Too many failed log-ins. Wait {} and try again.", wait_text(*.retry_after_secs))]
    TooManyAttempts { retry_after_secs: u64 },
    #[error(
        "Too many sign-ups from your network. Wait {} and try again, or log in to an account you created.",
        wait_text(*.retry_after_secs)
    )]
    TooManySignUps { retry_after_secs: u64 },
    #[error(
        "Too many password reset requests. Wait {} and try again; the emails already sent stay valid for {RESET_LINK_MINUTES} minutes.",
        wait_text(*.retry_after_secs)
    )]
    TooManyResetRequests { retry_after_secs: u64 },
    #[error(
        "This password reset link does not work any more: it was used already, or it is older than {RESET_LINK_MINUTES} minutes. Ask for a new one."
    )]
    ResetLinkInvalid,
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// "30 seconds", "2 minutes": how long to wait, in words.
fn wait_text(secs: u64) -> String {
    match secs {
        0..=1 => "a second".to_owned(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

impl AccountError {
    /// How long the client should wait before trying again, for `Retry-After`.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts { retry_after_secs }
            | Self::TooManySignUps { retry_after_secs }
            | Self::TooManyResetRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Whether the message is about the user's input (safe and useful to show) rather than a
    /// fault on our side (logged, and replaced by a generic message at the edge).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Self::Storage(_) | Self::Hashing(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub company_name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub tenant_id: String,
    pub user_id: String,
    pub company_name: String,
    pub email: String,
    pub plan: String,
}

/// Lower-cases and checks an email address. Deliberately lenient: one `@`, a dot in the domain,
/// no spaces; the provider's own confirmation is the real test.
pub fn normalize_email(raw: &str) -> Result<String, AccountError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.'));
    if valid {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail)
    }
}

fn validate(new: &NewAccount) -> Result<(String, String), AccountError> {
    let company = new.company_name.trim().to_owned();
    if company.is_empty() {
        return Err(AccountError::CompanyMissing);
    }
    if company.chars().count() > MAX_COMPANY_CHARS {
        return Err(AccountError::CompanyTooLong);
    }
    let email = normalize_email(&new.email)?;
    validate_password(&new.password)?;
    Ok((company, email))
}

/// The rules every new password meets, at sign-up and at a reset.
pub fn validate_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::PasswordTooLong);
    }
    Ok(())
}

/// Argon2id is deliberately slow: keep it off the async worker threads.
async fn hash_password(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

async fn verify_password(password: String, hash: String) -> Result<bool, AccountError> {
    tokio::task::spawn_blocking(move || password_auth::verify_password(password, &hash).is_ok())
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

/// A hash of a password nobody knows, verified against when the email is unknown so that the
/// answer takes as long as for a known email.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| password_auth::generate_hash(uuid::Uuid::new_v4().to_string()))
}

#[derive(Debug, Clone)]
pub struct Accounts {
    db: Db,
    clock: Arc<dyn Clock>,
    signup_limit: SignupLimit,
}

impl Accounts {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            clock,
            signup_limit: SignupLimit::default(),
        }
    }

    /// Sign-ups allowed per client address (default: five per ten minutes).
    pub fn with_signup_limit(mut self, limit: SignupLimit) -> Self {
        self.signup_limit = limit;
        self
    }

    /// A sign-up from the web: limited per client address and audited, then
    /// [`Accounts::create_account`].
    pub async fn sign_up(
        &self,
        new: &NewAccount,
        client_addr: Option<&str>,
    ) -> Result<Account, AccountError> {
        let result = self.limited_sign_up(new, client_addr).await;
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(AccountError::DuplicateEmail) => Outcome::Duplicate,
            Err(AccountError::TooManySignUps { .. }) => Outcome::RateLimited,
            Err(e) if e.is_user_error() => Outcome::Invalid,
            Err(_) => Outcome::Error,
        };
        let account = result.as_ref().ok();
        audit::record(
            AuthEvent::Signup,
            outcome,
            &Actor {
                tenant_id: account.map(|a| a.tenant_id.as_str()),
                user_id: account.map(|a| a.user_id.as_str()),
                client_addr,
                email: Some(&new.email),
            },
            result
                .as_ref()
                .err()
                .and_then(AccountError::retry_after_secs),
        );
        result
    }

    async fn limited_sign_up(
        &self,
        new: &NewAccount,
        client_addr: Option<&str>,
    ) -> Result<Account, AccountError> {
        let Some(addr) = client_addr else {
            return self.create_account(new).await;
        };
        let subject = throttle::signup_subject(addr);
        let now = self.clock.now_millis();
        if let Some(wait) =
            throttle::signup_wait(&self.db, &subject, self.signup_limit, now).await?
        {
            return Err(AccountError::TooManySignUps {
                retry_after_secs: throttle::retry_after_secs(wait),
            });
        }
        validate(new)?;
        // Counted before the duplicate check: answers about taken emails are limited too.
        throttle::record_signup(&self.db, &subject, now).await?;
        self.create_account(new).await
    }

    /// Creates a tenant on the Freemium plan with its owner, without the sign-up limit or the
    /// audit: for accounts the operator creates (the sandbox's demo login).
    pub async fn create_account(&self, new: &NewAccount) -> Result<Account, AccountError> {
        let (company, email) = validate(new)?;
        if self.find_user_by_email(&email).await?.is_some() {
            return Err(AccountError::DuplicateEmail);
        }
        let hash = hash_password(new.password.clone()).await?;
        let tenant_id = uuid::Uuid::now_v7().to_string();
        let user_id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now_millis();
        let result: Result<(), sqlx::Error> = with_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO tenants (id, company_name, plan, created_at) VALUES ($1, $2, 'freemium', $3)",
            )
            .bind(&tenant_id)
            .bind(&company)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO users (id, tenant_id, email, password_hash, role, created_at) \
                 VALUES ($1, $2, $3, $4, 'owner', $5)",
            )
            .bind(&user_id)
            .bind(&tenant_id)
            .bind(&email)
            .bind(&hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        });
        match result {
            Ok(()) => {}
            // Two sign-ups with one email racing past the check above.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(AccountError::DuplicateEmail);
            }
            Err(e) => return Err(e.into()),
        }
        tracing::debug!(tenant_id = %tenant_id, "tenant created");
        Ok(Account {
            tenant_id,
            user_id,
            company_name: company,
            email,
            plan: "freemium".to_owned(),
        })
    }

    /// Checks an email and password. Failures slow down the address they come from (see
    /// `throttle`); every attempt is audited.
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        client_addr: Option<&str>,
    ) -> Result<Account, AccountError> {
        let actor = Actor {
            client_addr,
            email: Some(email),
            ..Actor::default()
        };
        let result = self.check_log_in(email, password, &actor).await;
        if let Err(error) = &result
            && !error.is_user_error()
        {
            audit::record(AuthEvent::Login, Outcome::Error, &actor, None);
        }
        result
    }

    async fn check_log_in(
        &self,
        email: &str,
        password: &str,
        actor: &Actor<'_>,
    ) -> Result<Account, AccountError> {
        let Ok(email) = normalize_email(email) else {
            audit::record(AuthEvent::Login, Outcome::Failure, actor, None);
            return Err(AccountError::InvalidCredentials);
        };
        let subjects = LoginSubjects::new(&email, actor.client_addr);
        let now = self.clock.now_millis();
        if let Some(wait) = throttle::login_wait(&self.db, &subjects, now).await? {
            let retry_after_secs = throttle::retry_after_secs(wait);
            audit::record(
                AuthEvent::Login,
                Outcome::Throttled,
                actor,
                Some(retry_after_secs),
            );
            return Err(AccountError::TooManyAttempts { retry_after_secs });
        }
        let found = self.find_user_by_email(&email).await?;
        let hash = found
            .as_ref()
            .map_or_else(|| decoy_hash().to_owned(), |(_, hash)| hash.clone());
        let password_ok = verify_password(password.to_owned(), hash).await?;
        let account = found.map(|(account, _)| account);
        let ids = account
            .as_ref()
            .map(|a| (a.tenant_id.clone(), a.user_id.clone()));
        let actor = Actor {
            tenant_id: ids.as_ref().map(|(tenant, _)| tenant.as_str()),
            user_id: ids.as_ref().map(|(_, user)| user.as_str()),
            ..*actor
        };
        match account {
            Some(account) if password_ok => {
                throttle::clear_pair(&self.db, &subjects).await?;
                audit::record(AuthEvent::Login, Outcome::Success, &actor, None);
                Ok(account)
            }
            _ => {
                let wait = throttle::record_login_failure(&self.db, &subjects, now).await?;
                audit::record(AuthEvent::Login, Outcome::Failure, &actor, None);
                if let Some(wait) = wait {
                    audit::record(
                        AuthEvent::Lockout,
                        Outcome::Started,
                        &actor,
                        Some(throttle::retry_after_secs(wait)),
                    );
                }
                Err(AccountError::InvalidCredentials)
            }
        }
    }

    /// Housekeeping: forgets log-in failures and sign-ups older than their windows. Returns
    /// the rows removed.
    pub async fn purge_expired_attempts(&self) -> Result<u64, AccountError> {
        Ok(throttle::purge(&self.db, self.clock.now_millis(), self.signup_limit).await?)
    }

    /// The account of a user within a tenant. Both ids must match: a user id alone never
    /// reaches across tenants.
    pub async fn get(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Option<Account>, AccountError> {
        let account = with_pool!(&self.db, pool => {
            sqlx::query_as::<_, Account>(
                "SELECT t.id AS tenant_id, u.id AS user_id, t.company_name, u.email, t.plan \
                 FROM users u JOIN tenants t ON t.id = u.tenant_id \
                 WHERE u.tenant_id = $1 AND u.id = $2",
            )
            .bind(tenant_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(account)
    }

    async fn find_user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(Account, String)>, AccountError> {
        let row: Option<(String, String, String, String, String, String)> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT t.id, u.id, t.company_name, u.email, t.plan, u.password_hash \
                 FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1",
            )
            .bind(email)
            .fetch_optional(pool)
            .await?
        });
        Ok(
            row.map(|(tenant_id, user_id, company_name, email, plan, hash)| {
                (
                    Account {
                        tenant_id,
                        user_id,
                        company_name,
                        email,
                        plan,
                    },
                    hash,
                )
            }),
        )
    }
}

pub(crate) fn hex_sha256(input: &str) -> String {
    Sha256::digest(input.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").ok().as_deref(),
            Some("ann@example.com")
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@x",
            "a b@x.com",
            "a@b@c.com",
            "a@.com",
            "a@x.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn sign_up_input_is_validated() {
        let ok = NewAccount {
            company_name: " Acme ".into(),
            email: "a@acme.com".into(),
            password: "0123456789".into(),
        };
        assert_eq!(
            validate(&ok).ok(),
            Some(("Acme".to_owned(), "a@acme.com".to_owned()))
        );
        let short = NewAccount {
            password: "012345678".into(),
            ..ok.clone()
        };
        assert!(matches!(
            validate(&short),
            Err(AccountError::PasswordTooShort)
        ));
        let no_company = NewAccount {
            company_name: "  ".into(),
            ..ok.clone()
        };
        assert!(matches!(
            validate(&no_company),
            Err(AccountError::CompanyMissing)
        ));
        let bad_email = NewAccount {
            email: "nope".into(),
            ..ok
        };
        assert!(matches!(
            validate(&bad_email),
            Err(AccountError::InvalidEmail)
        ));
    }
}
