//! The sync engine (issue 5; ARCHITECTURE "A record's journey"): configuration, links,
//! cursors, the log, the scheduler's lease table, backfills, and the run that ties them to the
//! connectors and the domain rules.

pub mod backfill;
pub mod config;
pub mod fields;
pub mod log;
pub mod preflight;
pub mod qbo_accounts;
pub mod retries;
pub mod run;
pub mod schedule;
pub mod store;
pub mod worker;

pub use backfill::{BackfillProgress, BackfillStatus, BackfillStore};
pub use config::{ConfigError, SyncConfigStore};
// (`DirectionsError` is defined below.)
pub use fields::{RefreshError, Refreshed, refresh_catalogue};
pub use log::{HourCount, LogAction, LogEntry, LogPage, LogQuery, LogStore, NewLogRow};
pub use qbo_accounts::{AccountChoice, AccountKind, list_accounts};
pub use retries::{RetryError, RetryQueued, RetryStore};
pub use schedule::{Claim, RunOutcome, RunRequest, ScheduleStatus, Scheduler};
pub use worker::{ClaimResult, RunReport, TenantRunner, Worker, WorkerConfig};

use std::sync::Arc;

use domain::pairs::{Flow, ModulePair, SyncDirections};

use crate::clock::Clock;
use crate::db::Db;

/// The sync engine's stores, as the server functions use them.
#[derive(Debug, Clone)]
pub struct SyncStores {
    pub config: SyncConfigStore,
    pub logs: LogStore,
    pub scheduler: Scheduler,
    pub backfills: BackfillStore,
    /// Links, cursors and the journal.
    pub links: store::SyncStore,
    clock: Arc<dyn Clock>,
}

impl SyncStores {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            config: SyncConfigStore::new(db.clone(), clock.clone()),
            logs: LogStore::new(db.clone()),
            scheduler: Scheduler::new(db.clone(), clock.clone()),
            backfills: BackfillStore::new(db.clone(), clock.clone()),
            links: store::SyncStore::new(db, clock.clone()),
            clock,
        }
    }

    /// Saves Sync Direction. Every flow it switches on starts now: only records created or
    /// changed from now on are copied that way, never older ones unasked (a backfill, or the
    /// start chosen at activation, copies those). Refused, saving nothing, when the directions
    /// conflict ([`SyncDirections::conflicts`]).
    pub async fn save_directions(
        &self,
        tenant_id: &str,
        directions: &SyncDirections,
    ) -> Result<(), DirectionsError> {
        if let Some(conflict) = directions.conflicts().into_iter().next() {
            return Err(DirectionsError::Conflict(conflict));
        }
        let before = self.config.directions(tenant_id).await?;
        let switched_on: Vec<(ModulePair, Flow)> = ModulePair::ALL
            .into_iter()
            .flat_map(|pair| {
                let was = before.get(pair);
                directions
                    .get(pair)
                    .flows()
                    .into_iter()
                    .filter(move |flow| !was.includes(*flow))
                    .map(move |flow| (pair, flow))
            })
            .collect();
        self.links
            .start_flows_at(tenant_id, &switched_on, self.clock.now_millis())
            .await
            .map_err(ConfigError::from)?;
        self.config.save_directions(tenant_id, directions).await?;
        Ok(())
    }
}

/// Why Sync Direction was not saved.
#[derive(Debug, thiserror::Error)]
pub enum DirectionsError {
    /// The user's choice would do harm; the message says what to change.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}
