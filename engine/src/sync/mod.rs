//! The sync engine (issue 5; ARCHITECTURE "A record's journey"): configuration, links,
//! cursors, the log, the scheduler's lease table, backfills, and the run that ties them to the
//! connectors and the domain rules.

pub mod backfill;
pub mod config;
pub mod fields;
pub mod log;
pub mod qbo_accounts;
pub mod retries;
pub mod run;
pub mod schedule;
pub mod store;
pub mod worker;

pub use backfill::{BackfillProgress, BackfillStatus, BackfillStore};
pub use config::{ConfigError, SyncConfigStore};
pub use fields::{RefreshError, Refreshed, refresh_catalogue};
pub use log::{HourCount, LogAction, LogEntry, LogPage, LogQuery, LogStore, NewLogRow};
pub use qbo_accounts::{AccountChoice, AccountKind, list_accounts};
pub use retries::{RetryError, RetryQueued, RetryStore};
pub use schedule::{Claim, RunOutcome, RunRequest, ScheduleStatus, Scheduler};
pub use worker::{ClaimResult, RunReport, TenantRunner, Worker, WorkerConfig};

use std::sync::Arc;

use crate::clock::Clock;
use crate::db::Db;

/// The sync engine's stores, as the server functions use them.
#[derive(Debug, Clone)]
pub struct SyncStores {
    pub config: SyncConfigStore,
    pub logs: LogStore,
    pub scheduler: Scheduler,
    pub backfills: BackfillStore,
}

impl SyncStores {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            config: SyncConfigStore::new(db.clone(), clock.clone()),
            logs: LogStore::new(db.clone()),
            scheduler: Scheduler::new(db.clone(), clock.clone()),
            backfills: BackfillStore::new(db, clock),
        }
    }
}
