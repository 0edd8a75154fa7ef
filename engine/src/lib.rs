//! zqsync's server-side library: storage, accounts and sessions; later the connectors and the
//! sync engine. Never compiled to wasm.

pub mod accounts;
pub mod clock;
pub mod db;
pub mod sessions;
mod throttle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use db::{Backend, Db, DbError};
pub mod connections;
pub mod connectors;
pub mod vault;
