//! The server functions (`/api/…`) and the views they answer with. Each function starts with
//! `require_session()` (or is one of the public few) and works on the session's tenant only.

/// Accounts: sign-up, log-in, log-out, who is logged in, the password reset.
pub mod auth;
/// Plans and billing: the Change Plan page's data, plan changes, Checkout's return, the Outbox.
pub mod billing;
/// The Zoho CRM and QuickBooks Online connections, the connection check and Activate.
pub mod connections;
/// The Filters page: a pair's filters, Submit, Remove All Filters.
pub mod filters;
/// The Logs page and the home summary: log rows, details, Retry / Re-create / Unlink.
pub mod logs;
/// The QuickBooks Mapping page: a pair's mapping, Submit, Reset, Sync Mappable Fields.
pub mod mapping;
/// The "Get started" checklist.
pub mod onboarding;
/// The sync run's status (polled) and "Sync now".
pub mod run_status;
/// The session's clock: time left (passive) and "Stay signed in".
pub mod session;
/// The Settings tabs: directions, historical data, inventory settings, schedule.
pub mod settings;
/// The support address the Help page links to.
pub mod support;
