//! The "Get started" checklist's memory (issue 14): the steps a person confirmed themselves
//! (the mapping reviewed, the directions chosen) and that the whole list was done once, after
//! which it never shows again. Steps the app can see for itself (a connection, Inventory
//! Settings, the Activate switch) are read from where they live, not stored here.

use std::collections::HashSet;
use std::sync::Arc;

use crate::clock::Clock;
use crate::db::Db;
use crate::with_pool;

/// A step only the person can say is done, or the list as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confirmed {
    /// The default mapping was looked at (or a mapping saved).
    MappingReviewed,
    /// The sync directions were chosen (or the defaults kept on purpose).
    DirectionsChosen,
    /// Every step was done once: the checklist is gone for good.
    Finished,
}

impl Confirmed {
    pub fn key(self) -> &'static str {
        match self {
            Self::MappingReviewed => "mapping_reviewed",
            Self::DirectionsChosen => "directions_chosen",
            Self::Finished => "finished",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        [
            Self::MappingReviewed,
            Self::DirectionsChosen,
            Self::Finished,
        ]
        .into_iter()
        .find(|c| c.key() == key)
    }
}

#[derive(Debug, Clone)]
pub struct OnboardingStore {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl OnboardingStore {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Records that `step` is done (the first time counts; again changes nothing).
    pub async fn confirm(&self, tenant_id: &str, step: Confirmed) -> Result<(), sqlx::Error> {
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO onboarding_steps (tenant_id, step, done_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, step) DO NOTHING",
            )
            .bind(tenant_id)
            .bind(step.key())
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn confirmed(&self, tenant_id: &str) -> Result<HashSet<Confirmed>, sqlx::Error> {
        let rows: Vec<(String,)> = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT step FROM onboarding_steps WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(key,)| Confirmed::from_key(&key))
            .collect())
    }
}
