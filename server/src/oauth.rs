//! Connecting Zoho CRM and QuickBooks Online: `/connect/{zoho|qbo}` sends the browser to the
//! provider's consent page; the provider sends it back to our callback with a code, which the
//! connection store exchanges for tokens. Every outcome lands on the page the system is
//! managed from, with `?connected={provider}` or `?error={code}` ([`ConnectFailure`]): codes,
//! not text, so that nobody can make our page say their words with a crafted link.

use std::collections::HashMap;

use app::api::connections::ConnectFailure;
use app::ssr::RequestSession;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use engine::connections::{ConnectionError, IntuitCallback, Provider, ZohoCallback};
use engine::connectors::ConnectorError;

use crate::web::WebState;

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
        provider.as_str()
    ))
    .into_response()
}

fn failed(provider: Provider, failure: ConnectFailure) -> Response {
    Redirect::to(&format!("{}?error={}", home_of(provider), failure.code())).into_response()
}

/// The person pressed Deny (or the provider refused): back to the page, saying so.
fn consent_refused(provider: Provider, query: &HashMap<String, String>) -> Option<Response> {
    query.get("error").map(|_| {
        tracing::info!(provider = provider.as_str(), "consent was declined");
        failed(provider, ConnectFailure::AccessDenied)
    })
}

fn back_with_error(provider: Provider, error: &ConnectionError) -> Response {
    let failure = match error {
        ConnectionError::InvalidState => ConnectFailure::StateMismatch,
        ConnectionError::InvalidCallback(_) => ConnectFailure::IncompleteAnswer,
        ConnectionError::NotConfigured(_) => ConnectFailure::NotConfigured,
        ConnectionError::Remote(
            ConnectorError::RateLimited { .. } | ConnectorError::Transient { .. },
        ) => ConnectFailure::ProviderUnavailable,
        ConnectionError::Remote(ConnectorError::Unexpected { .. }) => {
            ConnectFailure::UnexpectedAnswer
        }
        ConnectionError::Remote(_)
        | ConnectionError::NotConnected(_)
        | ConnectionError::NeedsReconnect(_) => ConnectFailure::ProviderRefused,
        ConnectionError::Storage(_) | ConnectionError::Vault(_) => ConnectFailure::OurSide,
    };
    if failure == ConnectFailure::OurSide {
        tracing::error!(%error, provider = provider.as_str(), "connecting failed");
    } else {
        // The remote's status and error code, not its text: no token or personal data.
        let remote = match error {
            ConnectionError::Remote(remote) => Some(remote.remote()),
            _ => None,
        };
        tracing::info!(
            provider = provider.as_str(),
            failure = failure.code(),
            remote_status = remote.and_then(|r| r.status),
            remote_code = remote.and_then(|r| r.code.as_deref()),
            "connecting did not complete"
        );
    }
    failed(provider, failure)
}
