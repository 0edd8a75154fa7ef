//! Server functions of the session's clock, which the session watch
//! ([`crate::session::idle`]) asks: how long the session has left, and "Stay signed in".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Polled by the session watch: resolved without sliding the session's idle expiry.
pub const PASSIVE_ENDPOINTS: &[&str] = &["/api/session_time_left"];

/// The session's clock as the server sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClock {
    /// Milliseconds until the session ends unless a request counts as activity first.
    pub millis_left: i64,
    /// The idle limit (`ZQSYNC_SESSION_IDLE_SECS`).
    pub idle_secs: u64,
}

#[cfg(feature = "ssr")]
fn session_clock() -> Result<SessionClock, AppError> {
    use crate::ssr::*;
    let ctx = server_ctx()?;
    let session = require_session()?;
    Ok(SessionClock {
        millis_left: ctx.sessions.millis_left(&session),
        idle_secs: ctx.sessions.idle_secs(),
    })
}

/// How long the session has left. Passive: asking does not keep the session alive.
#[server(endpoint = "session_time_left")]
pub async fn session_time_left() -> Result<SessionClock, AppError> {
    session_clock()
}

/// "Stay signed in": a request that counts as activity, so the session's idle time restarts.
#[server(endpoint = "stay_signed_in")]
pub async fn stay_signed_in() -> Result<SessionClock, AppError> {
    session_clock()
}
