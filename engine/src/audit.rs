//! The audit trail of authentication: one structured `tracing` event per log-in, lock-out,
//! log-out, sign-up, password reset request and password reset (target `zqsync::audit`),
//! counted in
//! `zqsync_auth_events_total{event,outcome}`.
//!
//! Fields: `event`, `outcome`, `tenant_id`, `user_id`, `client_addr`, `email_hash` (the first
//! 16 hex digits of the SHA-256 of the normalised email, to correlate attempts on one
//! account) and `retry_after_secs`. Never the email itself, the password, the session token
//! or a cookie.

use crate::accounts::hex_sha256;

/// The log target of audit events: filter on it (`RUST_LOG=zqsync::audit=info`) or route it.
pub const TARGET: &str = "zqsync::audit";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthEvent {
    Login,
    /// A failed log-in started a wait for its address (see `throttle`).
    Lockout,
    Logout,
    Signup,
    /// "Forgot your password?": a reset link asked for.
    PasswordResetRequest,
    /// A new password set through a reset link.
    PasswordReset,
}

impl AuthEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Lockout => "lockout",
            Self::Logout => "logout",
            Self::Signup => "signup",
            Self::PasswordResetRequest => "password_reset_request",
            Self::PasswordReset => "password_reset",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// For a reset request: a link was sent.
    Success,
    /// Wrong password, unknown email or a malformed email; for a reset request, no account
    /// has the email; for a reset, the link is unknown or was used.
    Failure,
    /// Refused without checking the password: the address must wait.
    Throttled,
    /// A lock-out began.
    Started,
    /// Sign-up or reset input refused (missing company, weak password, malformed email, …).
    Invalid,
    /// Sign-up with an email that already has an account.
    Duplicate,
    /// Too many sign-ups from the address, or reset requests for the email or from the address.
    RateLimited,
    /// A password reset link past its 30 minutes.
    Expired,
    /// Log-out without a live session.
    NoSession,
    /// A fault on our side (logged separately with detail).
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Throttled => "throttled",
            Self::Started => "started",
            Self::Invalid => "invalid",
            Self::Duplicate => "duplicate",
            Self::RateLimited => "rate_limited",
            Self::Expired => "expired",
            Self::NoSession => "no_session",
            Self::Error => "error",
        }
    }
}

/// Who an event is about; every field is optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor<'a> {
    pub tenant_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub client_addr: Option<&'a str>,
    /// The email as typed: only its hash is logged.
    pub email: Option<&'a str>,
}

/// The logged stand-in for an email: 16 hex digits of the SHA-256 of its trimmed,
/// lower-cased form.
pub fn email_hash(email: &str) -> String {
    let mut hash = hex_sha256(&email.trim().to_lowercase());
    hash.truncate(16);
    hash
}

/// Logs and counts one authentication event.
pub fn record(
    event: AuthEvent,
    outcome: Outcome,
    actor: &Actor<'_>,
    retry_after_secs: Option<u64>,
) {
    let email_hash = actor.email.map(email_hash);
    tracing::info!(
        target: TARGET,
        event = event.as_str(),
        outcome = outcome.as_str(),
        tenant_id = actor.tenant_id,
        user_id = actor.user_id,
        client_addr = actor.client_addr,
        email_hash = email_hash.as_deref(),
        retry_after_secs,
        "auth audit"
    );
    metrics::counter!(
        "zqsync_auth_events_total",
        "event" => event.as_str(),
        "outcome" => outcome.as_str()
    )
    .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_hashes_are_short_and_normalised() {
        assert_eq!(
            email_hash(" Ann@Example.com "),
            email_hash("ann@example.com")
        );
        assert_eq!(email_hash("ann@example.com").len(), 16);
        assert!(!email_hash("ann@example.com").contains("ann"));
    }
}
