//! Server functions for the two connections (Zoho CRM, QuickBooks Online): their state, the
//! connection check, disconnecting, and the integration's Activate switch. Connecting itself is
//! a browser redirect (`/connect/{zoho|qbo}` → the provider's consent page → our callback),
//! handled by the server's routes.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionState {
    NotConnected,
    Connected,
    NeedsReconnect,
}

/// One system's connection as the pages show it (never a token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// `zoho` or `qbo`: the path segment of `/connect/{provider}`.
    pub provider: String,
    pub name: String,
    pub state: ConnectionState,
    /// Why it needs reconnecting, in words a person can act on.
    pub reason: Option<String>,
    /// Zoho: data centre and API domain; QuickBooks: the company (realm) id.
    pub details: Vec<(String, String)>,
    /// Unix milliseconds.
    pub connected_at: Option<i64>,
    pub verified_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionsView {
    pub zoho: ConnectionView,
    pub qbo: ConnectionView,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLineView {
    pub label: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

/// The result of a connection check: a title (e.g. the QuickBooks company's name) and a
/// checklist with a fix hint on every red line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub provider: String,
    pub title: String,
    pub lines: Vec<CheckLineView>,
}

/// Why connecting a system failed, as the OAuth callbacks report it in their redirect
/// (`?error=<code>`). Only codes travel in URLs: the page shows our own message for each, so
/// a link cannot put its words into our red alert (content spoofing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The person pressed Deny, or the provider refused consent.
    AccessDenied,
    /// The `state` was not ours, expired or already used.
    StateMismatch,
    /// The callback lacked the code, realm or refresh token.
    IncompleteAnswer,
    /// This server has no OAuth app for the system.
    NotConfigured,
    /// The provider was busy or unreachable.
    ProviderUnavailable,
    /// The provider refused to exchange the code.
    ProviderRefused,
    /// The provider answered something we could not use.
    UnexpectedAnswer,
    /// A fault on our side (logged with detail).
    OurSide,
}

impl ConnectFailure {
    pub const ALL: [Self; 8] = [
        Self::AccessDenied,
        Self::StateMismatch,
        Self::IncompleteAnswer,
        Self::NotConfigured,
        Self::ProviderUnavailable,
        Self::ProviderRefused,
        Self::UnexpectedAnswer,
        Self::OurSide,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::StateMismatch => "state_mismatch",
            Self::IncompleteAnswer => "incomplete_answer",
            Self::NotConfigured => "not_configured",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::ProviderRefused => "provider_refused",
            Self::UnexpectedAnswer => "unexpected_answer",
            Self::OurSide => "our_side",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// What the page says, for `system` ("Zoho CRM", "QuickBooks Online").
    pub fn message(self, system: &str) -> String {
        match self {
            Self::AccessDenied => format!(
                "{system} was not connected: access was declined on its sign-in page. Connect again and choose Accept."
            ),
            Self::StateMismatch => {
                "This sign-in link has expired or was already used. Start connecting again.".to_owned()
            }
            Self::IncompleteAnswer => {
                format!("{system} sent back an incomplete answer. Start connecting again.")
            }
            Self::NotConfigured => {
                format!("{system} connections are not configured on this server.")
            }
            Self::ProviderUnavailable => format!(
                "{system} did not answer properly just now. Try connecting again in a minute."
            ),
            Self::ProviderRefused => format!(
                "{system} refused to complete the sign-in. Start connecting again; if it keeps happening, contact support."
            ),
            Self::UnexpectedAnswer => format!(
                "zqsync could not understand {system}'s answer. Try connecting again; if it keeps happening, contact support."
            ),
            Self::OurSide => {
                "Connecting failed on our side. Try again in a minute; if it keeps happening, contact support.".to_owned()
            }
        }
    }
}

/// The message for an `?error=` code; a code we do not know (a hand-made link) gets a
/// generic message, never its own text.
pub fn connect_failure_message(code: &str, system: &str) -> String {
    ConnectFailure::from_code(code).map_or_else(
        || {
            format!(
                "Connecting {system} did not work. Start connecting again; if it keeps happening, contact support."
            )
        },
        |failure| failure.message(system),
    )
}

#[cfg(feature = "ssr")]
mod convert {
    use engine::connections::{ConnectionError, ConnectionInfo, ConnectionStatus, Provider};

    use super::*;
    use crate::ssr::internal;

    pub(super) fn provider(text: &str) -> Result<Provider, AppError> {
        Provider::parse(text).ok_or_else(|| {
            AppError::Invalid(format!("Unknown system {text:?}: expected zoho or qbo."))
        })
    }

    #[allow(clippy::needless_pass_by_value)] // used as `map_err(connection_error)`
    pub(super) fn connection_error(error: ConnectionError) -> AppError {
        if error.is_user_error() {
            let message = match &error {
                ConnectionError::Remote(remote) => remote.plain_message(),
                other => other.to_string(),
            };
            AppError::Invalid(message)
        } else {
            internal(&error)
        }
    }

    pub(super) fn view(provider: Provider, info: Option<&ConnectionInfo>) -> ConnectionView {
        let Some(info) = info else {
            return ConnectionView {
                provider: provider.as_str().to_owned(),
                name: provider.display_name().to_owned(),
                state: ConnectionState::NotConnected,
                reason: None,
                details: Vec::new(),
                connected_at: None,
                verified_at: None,
            };
        };
        let mut details = Vec::new();
        if let Some(dc) = &info.data_centre {
            details.push(("Data centre".to_owned(), dc.to_uppercase()));
        }
        if let Some(domain) = &info.api_domain {
            details.push(("API domain".to_owned(), domain.clone()));
        }
        if let Some(realm) = &info.account_id {
            details.push(("Company id".to_owned(), realm.clone()));
        }
        ConnectionView {
            provider: provider.as_str().to_owned(),
            name: provider.display_name().to_owned(),
            state: match info.status {
                ConnectionStatus::Connected => ConnectionState::Connected,
                ConnectionStatus::NeedsReconnect => ConnectionState::NeedsReconnect,
            },
            reason: info.status_reason.clone(),
            details,
            connected_at: Some(info.connected_at),
            verified_at: info.verified_at,
        }
    }
}

#[server(endpoint = "connections")]
pub async fn connections() -> Result<ConnectionsView, AppError> {
    use engine::connections::Provider;

    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let all = ctx
        .connections
        .tenant_connections(&session.tenant_id)
        .await
        .map_err(convert::connection_error)?;
    let find = |p: Provider| convert::view(p, all.iter().find(|c| c.provider == p));
    let active = ctx
        .integration
        .is_active(&session.tenant_id)
        .await
        .map_err(|e| internal(&e))?;
    Ok(ConnectionsView {
        zoho: find(Provider::Zoho),
        qbo: find(Provider::Qbo),
        active,
    })
}

#[server(endpoint = "connection_check")]
pub async fn connection_check(provider: String) -> Result<CheckView, AppError> {
    use engine::connections::Provider;

    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let provider = convert::provider(&provider)?;
    let (title, lines) = match provider {
        Provider::Qbo => {
            let check = ctx
                .connections
                .verify_qbo(&session.tenant_id)
                .await
                .map_err(convert::connection_error)?;
            (check.company_name, check.lines)
        }
        Provider::Zoho => {
            let check = ctx
                .connections
                .verify_zoho(&session.tenant_id)
                .await
                .map_err(convert::connection_error)?;
            ("Zoho CRM organisation".to_owned(), check.lines)
        }
    };
    Ok(CheckView {
        provider: provider.as_str().to_owned(),
        title,
        lines: lines
            .into_iter()
            .map(|l| CheckLineView {
                label: l.label,
                ok: l.ok,
                detail: l.detail,
                fix: l.fix,
            })
            .collect(),
    })
}

#[server(endpoint = "disconnect")]
pub async fn disconnect(provider: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let provider = convert::provider(&provider)?;
    ctx.connections
        .disconnect(&session.tenant_id, provider)
        .await
        .map_err(convert::connection_error)?;
    // Without both connections nothing can run: switch the integration off with it.
    ctx.integration
        .set_active(&ctx.connections, &session.tenant_id, false)
        .await
        .map_err(|e| internal(&e))?;
    Ok(())
}

/// Activate's pre-flight: one flow of the first run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightRow {
    pub pair: String,
    pub flow: String,
    /// Records changed from this time on are copied (Unix millis).
    pub since: i64,
    pub count: Option<u64>,
    /// Why it could not be counted.
    pub problem: Option<String>,
}

/// Activate's pre-flight: a check that would make records fail, with where to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightCheckView {
    pub message: String,
    pub fix_href: String,
    pub fix_label: String,
}

/// What the first run after Activate will do, for the start the user is choosing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightView {
    /// 0: only records created or changed from now on; otherwise also the last `days` days.
    pub days: u32,
    pub rows: Vec<PreflightRow>,
    pub checks: Vec<PreflightCheckView>,
    /// Why the integration cannot be switched on at all (a connection missing), if so.
    pub blocked: Option<String>,
}

/// The longest look back Activate offers (older records: Sync Historical Data).
pub const MAX_START_DAYS: u32 = 30;

#[cfg(feature = "ssr")]
fn start_of(days: u32) -> Result<engine::sync::preflight::Start, AppError> {
    use engine::sync::preflight::Start;
    match days {
        0 => Ok(Start::FromNow),
        1..=MAX_START_DAYS => Ok(Start::LastDays(days)),
        _ => Err(AppError::Invalid(format!(
            "Choose from 1 to {MAX_START_DAYS} days to copy ({days} is too many; older records come with Sync Historical Data on annual plans)."
        ))),
    }
}

/// Activate's pre-flight for a start of `days` back (0: from now on). Reads counts from both
/// systems; changes nothing.
#[server(endpoint = "activation_preflight")]
pub async fn activation_preflight(days: u32) -> Result<PreflightView, AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let tenant = session.tenant_id.as_str();
    let start = start_of(days)?;
    let (_, blocked) = crate::api::run_status::status::sync_blocked(&ctx, tenant).await?;
    // An inactive integration is what this is for; only a missing connection blocks.
    let blocked = blocked.filter(|b| !b.starts_with("The integration is inactive"));
    let plan = engine::billing::entitlements(&ctx.db, tenant)
        .await
        .map_err(|e| internal(&e))?
        .effective;
    let now = ctx.clock.now();
    let preflight =
        engine::sync::preflight::preflight(&ctx.sync, &ctx.connections, tenant, plan, start, now)
            .await
            .map_err(|e| internal(&e))?;
    Ok(PreflightView {
        days,
        rows: preflight
            .flows
            .into_iter()
            .map(|f| {
                let (count, problem) = match f.count {
                    Ok(count) => (Some(count), None),
                    Err(problem) => (None, Some(problem)),
                };
                PreflightRow {
                    pair: f.pair.label().to_owned(),
                    flow: f.flow.label().to_owned(),
                    since: f.since_ms,
                    count,
                    problem,
                }
            })
            .collect(),
        checks: preflight
            .checks
            .into_iter()
            .map(|c| PreflightCheckView {
                message: c.message,
                fix_href: c.fix_href,
                fix_label: c.fix_label,
            })
            .collect(),
        blocked,
    })
}

/// The Activate switch. On: every runnable flow starts `days` back (0: from now on, the
/// pre-flight's default), then the integration is switched on and runs at once. Off: pauses
/// all syncing.
#[server(endpoint = "set_active")]
pub async fn set_active(
    active: bool,
    #[server(default)] days: Option<u32>,
) -> Result<bool, AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    let tenant = session.tenant_id.as_str();
    if active {
        let start = start_of(days.unwrap_or(0))?;
        // (A missing connection is refused by the switch below; moving the cursors of a tenant
        // that stays inactive changes nothing.)
        let plan = engine::billing::entitlements(&ctx.db, tenant)
            .await
            .map_err(|e| internal(&e))?
            .effective;
        // Before the switch: a worker may claim the tenant the moment it is on.
        engine::sync::preflight::start_flows(
            &ctx.sync,
            tenant,
            plan,
            start,
            ctx.clock.now_millis(),
        )
        .await
        .map_err(|e| internal(&e))?;
    }
    ctx.integration
        .set_active(&ctx.connections, tenant, active)
        .await
        .map_err(|e| {
            if e.is_user_error() {
                AppError::Invalid(e.to_string())
            } else {
                internal(&e)
            }
        })
}
