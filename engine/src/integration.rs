//! The integration's Activate switch (SPEC §2, step 3): per tenant, off until the owner turns
//! it on, and only allowed on when both systems are connected.

use std::sync::Arc;

use crate::clock::Clock;
use crate::connections::{ConnectionStatus, ConnectionStore, Provider};
use crate::db::Db;
use crate::sync::Scheduler;
use crate::with_pool;

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error("Connect {} first, then activate the integration.", .0.display_name())]
    NotConnected(Provider),
    #[error("{} needs to be reconnected before the integration can be activated.", .0.display_name())]
    NeedsReconnect(Provider),
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    #[error(transparent)]
    Connection(#[from] crate::connections::ConnectionError),
}

impl ActivationError {
    pub fn is_user_error(&self) -> bool {
        match self {
            Self::Storage(_) => false,
            Self::Connection(e) => e.is_user_error(),
            _ => true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Integration {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl Integration {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    pub async fn is_active(&self, tenant_id: &str) -> Result<bool, sqlx::Error> {
        let active: Option<(bool,)> = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT active FROM integration_settings WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(active.is_some_and(|(active,)| active))
    }

    /// Switches the integration on or off. On requires both connections to be usable; off is
    /// always allowed.
    pub async fn set_active(
        &self,
        connections: &ConnectionStore,
        tenant_id: &str,
        active: bool,
    ) -> Result<bool, ActivationError> {
        if active {
            let existing = connections.tenant_connections(tenant_id).await?;
            for provider in [Provider::Zoho, Provider::Qbo] {
                match existing.iter().find(|c| c.provider == provider) {
                    None => return Err(ActivationError::NotConnected(provider)),
                    Some(c) if c.status == ConnectionStatus::NeedsReconnect => {
                        return Err(ActivationError::NeedsReconnect(provider));
                    }
                    Some(_) => {}
                }
            }
        }
        let now = self.clock.now_millis();
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO integration_settings (tenant_id, active, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET active = excluded.active, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(active)
            .bind(now)
            .execute(pool)
            .await?;
        });
        if active {
            // Switched on, the integration runs at once, then on its schedule.
            Scheduler::new(self.db.clone(), self.clock.clone())
                .due_now(tenant_id)
                .await?;
        }
        tracing::info!(tenant_id, active, "integration switched");
        Ok(active)
    }
}
