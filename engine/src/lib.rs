//! zqsync's server-side library: storage, accounts and sessions, the Zoho CRM and QuickBooks
//! Online connectors with their token vault and connections; later the sync engine. Never
//! compiled to wasm.

pub mod accounts;
pub mod audit;
pub mod billing;
pub mod clock;
pub mod connections;
pub mod connectors;
pub mod db;
pub mod ids;
pub mod integration;
pub mod onboarding;
pub mod sessions;
pub mod sync;
mod throttle;
pub use throttle::SignupLimit;
pub mod vault;

pub use clock::{Clock, ManualClock, SystemClock};
pub use db::{Backend, Db, DbError};
pub use ids::{QboId, TenantId, ZohoId};
