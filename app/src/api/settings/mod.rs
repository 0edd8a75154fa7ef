//! Server functions behind the Settings tabs Sync Direction, Sync Historical Data, Inventory
//! Settings and Schedule, one module per tab. Each starts with `require_session()` and reads or
//! writes the session's tenant only. Entitlements are checked here, on the server: a pair the
//! plan does not include cannot be switched on, and a backfill needs an annual plan, whatever
//! the page shows.

/// Sync Direction: which way each module pair flows, and the Sales Orders target.
pub mod directions;
/// Sync Historical Data: the backfills an annual plan can start, and their progress.
pub mod history;
/// Inventory Settings: the QuickBooks accounts for items, and the item types allowed.
pub mod inventory;
/// Schedule: the sync interval and the conflict policy.
pub mod schedule;

#[cfg(feature = "ssr")]
use common::{config_error, entitlements};

/// What every tab's functions need: the tenant's entitlements, and the configuration store's
/// errors as the browser sees them.
#[cfg(feature = "ssr")]
mod common {
    use engine::billing::Entitlements;

    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    pub async fn entitlements(ctx: &ServerCtx, tenant_id: &str) -> Result<Entitlements, AppError> {
        engine::billing::entitlements(&ctx.db, tenant_id)
            .await
            .map_err(|e| internal(&e))
    }

    #[allow(clippy::needless_pass_by_value)] // used as `map_err(config_error)`
    pub fn config_error(error: engine::sync::ConfigError) -> AppError {
        internal(&error)
    }
}
