//! Server-side plumbing shared by server functions and the server's middleware: the state
//! provided through Leptos context, the session cookie, and the request's session.

use std::sync::Arc;

use engine::accounts::{AccountError, Accounts};
use engine::connections::ConnectionStore;
use engine::integration::Integration;
use engine::sessions::{Session, Sessions};
use engine::{Clock, Db};
use http::HeaderValue;
use http::request::Parts;
use leptos::prelude::use_context;

use crate::error::AppError;

pub const SESSION_COOKIE: &str = "zqsync_session";

/// What server functions and pages need from the server, provided through Leptos context by
/// both the page handler and the server-function handler.
#[derive(Debug, Clone)]
pub struct ServerCtx {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub connections: Arc<ConnectionStore>,
    pub integration: Integration,
    /// Adds `Secure` to cookies: set when the public URL is https.
    pub cookie_secure: bool,
    /// No real Zoho/QBO credentials configured: the built-in simulators stand in.
    pub sandbox_mode: bool,
    /// Plans and billing through Stripe; `None` when the server runs without Stripe.
    pub billing: Option<engine::billing::Billing>,
    /// The sync engine's configuration, log, schedule and backfill stores.
    pub sync: engine::sync::SyncStores,
    /// The address the Help page gives for support (`ZQSYNC_SUPPORT_EMAIL`).
    pub support_email: String,
    /// The URL people use (`ZQSYNC_PUBLIC_URL`, or `http://<bind address>`), without a
    /// trailing `/`: links in emails start with it, never with a request's `Host`.
    pub public_url: String,
}

/// The session of the current request, resolved once by the server's middleware and stored
/// in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestSession {
    Active { session: Session, token: String },
    Expired,
    None,
}

/// The client's address, stored in the request's extensions by the server.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

pub fn server_ctx() -> Result<ServerCtx, AppError> {
    use_context::<ServerCtx>().ok_or_else(|| {
        tracing::error!("ServerCtx missing from the Leptos context");
        AppError::Internal
    })
}

fn request_parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from the Leptos context");
        AppError::Internal
    })
}

pub fn request_session() -> Result<RequestSession, AppError> {
    Ok(request_parts()?
        .extensions
        .get::<RequestSession>()
        .cloned()
        .unwrap_or(RequestSession::None))
}

/// The session every tenant-scoped server function starts with.
pub fn require_session() -> Result<Session, AppError> {
    match request_session()? {
        RequestSession::Active { session, .. } => Ok(session),
        RequestSession::Expired | RequestSession::None => Err(AppError::NotLoggedIn),
    }
}

pub fn client_addr() -> Option<String> {
    request_parts()
        .ok()
        .and_then(|parts| parts.extensions.get::<ClientAddr>().map(|a| a.0.clone()))
}

pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("zqsync_session=; Path=/; Max-Age=0"))
}

pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "zqsync_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure",
        )
    } else {
        HeaderValue::from_static("zqsync_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }
}

/// Reads the session token from a `Cookie` header.
pub fn session_token(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

pub fn set_cookie(value: HeaderValue) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Turns an engine error into what the browser may see; faults are logged here, once.
pub fn account_error(error: AccountError) -> AppError {
    if let Some(secs) = error.retry_after_secs()
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.insert_header(http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    match error {
        AccountError::TooManyAttempts { .. }
        | AccountError::TooManySignUps { .. }
        | AccountError::TooManyResetRequests { .. } => AppError::TooManyRequests(error.to_string()),
        AccountError::InvalidCredentials => AppError::WrongCredentials(error.to_string()),
        AccountError::DuplicateEmail => AppError::Conflict(error.to_string()),
        e if e.is_user_error() => AppError::Invalid(e.to_string()),
        e => internal(&e),
    }
}

pub fn internal(error: &dyn std::fmt::Display) -> AppError {
    tracing::error!(error = %error, "internal error in a server function");
    AppError::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_token_is_found_among_other_cookies() {
        assert_eq!(session_token("a=1; zqsync_session=abc; b=2"), Some("abc"));
        assert_eq!(session_token("zqsync_session="), None);
        assert_eq!(session_token("other=1"), None);
    }
}
