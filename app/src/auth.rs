//! Server functions for accounts: sign up, log in, log out, and who is logged in.

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconnectNotice {
    pub name: String,
    /// Where the Reconnect link goes: `/connect/{provider}`.
    pub reconnect_href: String,
}

/// Only same-site paths are followed after log-in: never an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[server(endpoint = "signup")]
pub async fn sign_up(
    company_name: String,
    email: String,
    password: String,
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
    leptos_axum::redirect("/");
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
            crate::billing::notice_of(&state)
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
        company_name: account.company_name,
        email: account.email,
        plan: account.plan,
        sandbox_mode: ctx.sandbox_mode,
        billing_notice,
        needs_reconnect,
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_paths_stay_on_site() {
        assert_eq!(safe_next(Some("/logs")), "/logs");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
