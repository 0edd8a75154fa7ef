//! Server functions for accounts: sign up, log in, log out, who is logged in, and the
//! password reset ("Forgot your password?").

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the shell shows about the logged-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub company_name: String,
    pub email: String,
    pub plan: String,
    pub sandbox_mode: bool,
    /// A billing problem (payment failed, subscription cancelled) with what to do; shown as
    /// a banner on every page.
    pub billing_notice: Option<String>,
    /// Systems whose connection stopped working: each gets a red banner with a Reconnect link.
    pub needs_reconnect: Vec<ReconnectNotice>,
    /// Names this tenant and user in the browser's storage (`tenant_id.user_id`), so drafts of
    /// unsaved edits are offered back only to the person who made them.
    pub draft_scope: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconnectNotice {
    pub name: String,
    /// Where the Reconnect link goes: `/connect/{provider}`.
    pub reconnect_href: String,
}

/// The demo login that sandbox mode creates (README; shown on the sandbox's log-in page).
pub const DEMO_EMAIL: &str = "demo@zqsync.test";
pub const DEMO_PASSWORD: &str = "sandbox-demo";

/// What the log-in page shows before anyone is logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPageInfo {
    /// Sandbox mode only: the demo login, `(email, password)`.
    pub demo_login: Option<(String, String)>,
}

/// Whether a password reset link can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetLinkCheck {
    Valid,
    Expired,
    /// Unknown, or used already.
    Invalid,
}

/// Where a log-in or sign-up goes next: `next` when it is a path on this site, else the home
/// page. Never an open redirect: only a single leading `/` (not `//host`, not `/\host`, not
/// `https://…`), no backslash anywhere, no control characters or whitespace (browsers drop tabs
/// and newlines from URLs, so `/\t/evil` would become `//evil`), and no server function.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_safe_next(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_safe_next(path: &str) -> bool {
    path.len() <= 2048
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
        && !path.starts_with("/api/")
}

/// `value` for a URL's query string: everything but unreserved characters and `/`
/// percent-encoded.
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `path` with `?next=…` (or `&next=…`) for a destination other than the home page.
pub fn with_next(path: &str, next: &str) -> String {
    if next.is_empty() || next == "/" || !is_safe_next(next) {
        return path.to_owned();
    }
    let joiner = if path.contains('?') { '&' } else { '?' };
    format!("{path}{joiner}next={}", encode_query_value(next))
}

#[server(endpoint = "signup")]
pub async fn sign_up(
    company_name: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let new = engine::accounts::NewAccount {
        company_name,
        email,
        password,
    };
    let account = ctx
        .accounts
        .sign_up(&new, client_addr().as_deref())
        .await
        .map_err(account_error)?;
    let token = ctx
        .sessions
        .create(&account.tenant_id, &account.user_id)
        .await
        .map_err(|e| internal(&e))?;
    set_cookie(session_cookie(&token, ctx.cookie_secure));
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "login")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let account = ctx
        .accounts
        .log_in(&email, &password, client_addr().as_deref())
        .await
        .map_err(account_error)?;
    // A fresh token on every log-in: a token planted before log-in is never promoted.
    if let RequestSession::Active { token, .. } = request_session()? {
        ctx.sessions
            .delete(&token)
            .await
            .map_err(|e| internal(&e))?;
    }
    let token = ctx
        .sessions
        .create(&account.tenant_id, &account.user_id)
        .await
        .map_err(|e| internal(&e))?;
    set_cookie(session_cookie(&token, ctx.cookie_secure));
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn log_out() -> Result<(), AppError> {
    use crate::ssr::*;
    use engine::audit::{Actor, AuthEvent, Outcome};
    let ctx = server_ctx()?;
    let addr = client_addr();
    if let RequestSession::Active { token, session } = request_session()? {
        ctx.sessions
            .delete(&token)
            .await
            .map_err(|e| internal(&e))?;
        let actor = Actor {
            tenant_id: Some(&session.tenant_id),
            user_id: Some(&session.user_id),
            client_addr: addr.as_deref(),
            email: None,
        };
        engine::audit::record(AuthEvent::Logout, Outcome::Success, &actor, None);
    } else {
        let actor = Actor {
            client_addr: addr.as_deref(),
            ..Actor::default()
        };
        engine::audit::record(AuthEvent::Logout, Outcome::NoSession, &actor, None);
    }
    set_cookie(clear_session_cookie(ctx.cookie_secure));
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(endpoint = "account")]
pub async fn current_account() -> Result<AccountView, AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let account = ctx
        .accounts
        .get(&session.tenant_id, &session.user_id)
        .await
        .map_err(account_error)?
        // The user was removed while logged in.
        .ok_or(AppError::NotLoggedIn)?;
    let billing_notice = match &ctx.billing {
        Some(billing) => {
            let state = billing
                .state(&session.tenant_id)
                .await
                .map_err(|e| internal(&e))?;
            crate::api::billing::notice_of(&state)
        }
        None => None,
    };
    let needs_reconnect = ctx
        .connections
        .tenant_connections(&session.tenant_id)
        .await
        .map_err(|e| internal(&e))?
        .into_iter()
        .filter(|c| c.status == engine::connections::ConnectionStatus::NeedsReconnect)
        .map(|c| ReconnectNotice {
            name: c.provider.display_name().to_owned(),
            reconnect_href: format!("/connect/{}", c.provider.as_str()),
        })
        .collect();
    Ok(AccountView {
        draft_scope: format!("{}.{}", account.tenant_id, account.user_id),
        company_name: account.company_name,
        email: account.email,
        plan: account.plan,
        sandbox_mode: ctx.sandbox_mode,
        billing_notice,
        needs_reconnect,
    })
}

/// The log-in page's extras: the demo login in sandbox mode.
#[server(endpoint = "auth_page")]
pub async fn auth_page_info() -> Result<LoginPageInfo, AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    Ok(LoginPageInfo {
        demo_login: ctx
            .sandbox_mode
            .then(|| (DEMO_EMAIL.to_owned(), DEMO_PASSWORD.to_owned())),
    })
}

/// "Forgot your password?": emails a reset link when an account has this email. The answer is
/// the same either way (the page says "If an account exists for that email, we sent a link");
/// the email goes out in the background, so the time taken does not tell either. Limited per
/// email and per client address (429).
#[server(endpoint = "forgot_password")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let link = ctx
        .accounts
        .request_password_reset(&email, client_addr().as_deref())
        .await
        .map_err(account_error)?;
    if let Some(link) = link {
        let url = format!(
            "{}{RESET_PAGE}?token={}",
            ctx.public_url.trim_end_matches('/'),
            link.token
        );
        match &ctx.billing {
            Some(billing) => {
                engine::accounts::send_reset_email_in_background(billing.mailer(), &link, &url);
            }
            None => tracing::warn!(
                tenant_id = %link.tenant_id,
                "no mailer on this server: a password reset link was not sent"
            ),
        }
    }
    leptos_axum::redirect(&format!("{FORGOT_PAGE}?sent=1"));
    Ok(())
}

/// Whether a reset link still works: the page says so before a password is typed.
#[server(endpoint = "reset_link")]
pub async fn reset_link_status(token: String) -> Result<ResetLinkCheck, AppError> {
    use crate::ssr::*;
    use engine::accounts::ResetLinkState;
    let ctx = server_ctx()?;
    let state = ctx
        .accounts
        .reset_link_state(&token)
        .await
        .map_err(account_error)?;
    Ok(match state {
        ResetLinkState::Valid => ResetLinkCheck::Valid,
        ResetLinkState::Expired => ResetLinkCheck::Expired,
        ResetLinkState::Invalid => ResetLinkCheck::Invalid,
    })
}

/// Sets a new password through a reset link (the sign-up rules); every session of the user
/// ends, so the log-in page follows.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    ctx.accounts
        .reset_password(&token, &password, client_addr().as_deref())
        .await
        .map_err(account_error)?;
    leptos_axum::redirect("/login?reset=1");
    Ok(())
}

/// The pages of the password reset, open with or without a session.
pub const FORGOT_PAGE: &str = "/forgot-password";
pub const RESET_PAGE: &str = "/reset-password";

#[cfg(test)]
mod tests {
    use super::{safe_next, with_next};

    #[test]
    fn next_paths_stay_on_site() {
        assert_eq!(safe_next(Some("/logs")), "/logs");
        assert_eq!(
            safe_next(Some("/?pair=items_products")),
            "/?pair=items_products"
        );
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "\\\\evil",
            "/\t/evil.example",
            "/\n/evil.example",
            " /logs",
            "evil.example",
            "",
            "/api/logout",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn next_travels_encoded() {
        assert_eq!(with_next("/login", "/"), "/login");
        assert_eq!(with_next("/login", "//evil"), "/login");
        assert_eq!(
            with_next("/login?expired=1", "/?pair=items_products"),
            "/login?expired=1&next=/%3Fpair%3Ditems_products"
        );
    }
}
