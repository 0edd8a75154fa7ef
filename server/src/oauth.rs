//! Connecting Zoho CRM and QuickBooks Online: `/connect/{zoho|qbo}` sends the browser to the
//! provider's consent page; the provider sends it back to our callback with a code, which the
//! connection store exchanges for tokens. Every outcome lands on the page the system is
//! managed from, with `?connected=` or a plain-language `?error=`.

use std::collections::HashMap;

use app::ssr::RequestSession;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use engine::connections::{ConnectionError, IntuitCallback, Provider, ZohoCallback};

use crate::web::{WebState, percent_encode};

/// Where the providers send the browser back after consent (registered with each OAuth app).
pub(crate) const ZOHO_CALLBACK: &str = "/oauth/zoho/callback";
pub(crate) const INTUIT_CALLBACK: &str = "/oauth/intuit/callback";

/// `/connect/{zoho|qbo}`: starts (or restarts) the OAuth consent for the tenant.
pub(crate) async fn connect(
    State(state): State<WebState>,
    Extension(session): Extension<RequestSession>,
    Path(provider): Path<String>,
) -> Response {
    let RequestSession::Active { session, .. } = session else {
        return Redirect::to("/login").into_response();
    };
    let Some(provider) = Provider::parse(&provider) else {
        return (StatusCode::NOT_FOUND, "There is no such system to connect.").into_response();
    };
    match state
        .ctx
        .connections
        .authorization_url(&session.tenant_id, provider)
        .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => back_with_error(provider, &error),
    }
}

pub(crate) async fn zoho_callback(
    State(state): State<WebState>,
    Extension(session): Extension<RequestSession>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let RequestSession::Active { session, .. } = session else {
        return Redirect::to("/login").into_response();
    };
    if let Some(refused) = consent_refused(Provider::Zoho, &query) {
        return refused;
    }
    let callback = ZohoCallback {
        code: query.get("code").cloned().unwrap_or_default(),
        state: query.get("state").cloned().unwrap_or_default(),
        accounts_server: query.get("accounts-server").cloned().unwrap_or_default(),
    };
    match state
        .ctx
        .connections
        .complete_zoho(&session.tenant_id, &callback)
        .await
    {
        Ok(_) => connected(Provider::Zoho),
        Err(error) => back_with_error(Provider::Zoho, &error),
    }
}

pub(crate) async fn intuit_callback(
    State(state): State<WebState>,
    Extension(session): Extension<RequestSession>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let RequestSession::Active { session, .. } = session else {
        return Redirect::to("/login").into_response();
    };
    if let Some(refused) = consent_refused(Provider::Qbo, &query) {
        return refused;
    }
    let callback = IntuitCallback {
        code: query.get("code").cloned().unwrap_or_default(),
        state: query.get("state").cloned().unwrap_or_default(),
        realm_id: query.get("realmId").cloned().unwrap_or_default(),
    };
    match state
        .ctx
        .connections
        .complete_qbo(&session.tenant_id, &callback)
        .await
    {
        Ok(_) => connected(Provider::Qbo),
        Err(error) => back_with_error(Provider::Qbo, &error),
    }
}

/// The page each system is managed from.
fn home_of(provider: Provider) -> &'static str {
    match provider {
        Provider::Zoho => "/settings",
        Provider::Qbo => "/quickbooks",
    }
}

fn connected(provider: Provider) -> Response {
    Redirect::to(&format!(
        "{}?connected={}",
        home_of(provider),
        percent_encode(provider.display_name())
    ))
    .into_response()
}

/// The person pressed Deny (or the provider refused): back to the page, saying so.
fn consent_refused(provider: Provider, query: &HashMap<String, String>) -> Option<Response> {
    query.get("error").map(|_| {
        let message = format!(
            "{} was not connected: access was declined on its sign-in page. Connect again and choose Accept.",
            provider.display_name()
        );
        Redirect::to(&format!("{}?error={}", home_of(provider), percent_encode(&message))).into_response()
    })
}

fn back_with_error(provider: Provider, error: &ConnectionError) -> Response {
    let message = if error.is_user_error() {
        match error {
            ConnectionError::Remote(remote) => remote.plain_message(),
            other => other.to_string(),
        }
    } else {
        tracing::error!(%error, provider = provider.as_str(), "connecting failed");
        "Connecting failed on our side. Try again in a minute; if it keeps happening, contact support.".to_owned()
    };
    Redirect::to(&format!(
        "{}?error={}",
        home_of(provider),
        percent_encode(&message)
    ))
    .into_response()
}
