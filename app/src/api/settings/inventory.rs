//! The Inventory Settings tab's server functions: the QuickBooks accounts items use, and the
//! item types allowed.

use domain::settings::{InventorySettings, ItemTypes};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A ledger account a picker offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOption {
    pub id: String,
    pub name: String,
}

/// The Inventory Settings tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryView {
    /// Why the QuickBooks accounts could not be listed (e.g. not connected), with what to do.
    pub accounts_problem: Option<String>,
    pub income: Vec<AccountOption>,
    pub expense: Vec<AccountOption>,
    pub asset: Vec<AccountOption>,
    pub inventory: InventorySettings,
    pub item_types: ItemTypes,
}

/// The QuickBooks company's accounts for the pickers, the tab's view, and a chosen account
/// checked against the company's.
#[cfg(feature = "ssr")]
mod accounts {
    use domain::settings::AccountRef;
    use engine::sync::{AccountChoice, AccountKind};

    use super::super::config_error;
    use super::{AccountOption, InventoryView};
    use crate::error::AppError;
    use crate::ssr::{ServerCtx, internal};

    fn option(choice: &AccountChoice) -> AccountOption {
        AccountOption {
            id: choice.id.clone(),
            name: choice.name.clone(),
        }
    }

    fn of_kind(choices: &[AccountChoice], kind: AccountKind) -> Vec<AccountOption> {
        choices
            .iter()
            .filter(|c| c.kind == kind)
            .map(option)
            .collect()
    }

    /// The QuickBooks accounts by picker, or a message saying why they cannot be read.
    pub async fn accounts(
        ctx: &ServerCtx,
        tenant_id: &str,
    ) -> Result<Result<Vec<AccountChoice>, String>, AppError> {
        match engine::sync::list_accounts(&ctx.connections, tenant_id).await {
            Ok(choices) => Ok(Ok(choices)),
            Err(engine::connections::ConnectionError::NotConnected(_)) => Ok(Err(
                "QuickBooks Online is not connected, so its accounts cannot be listed. Connect it in Settings → Connections, then come back here."
                    .to_owned(),
            )),
            Err(e) if e.is_user_error() => Ok(Err(match &e {
                engine::connections::ConnectionError::Remote(remote) => remote.plain_message(),
                other => other.to_string(),
            })),
            Err(e) => Err(internal(&e)),
        }
    }

    pub async fn inventory_view(
        ctx: &ServerCtx,
        tenant_id: &str,
    ) -> Result<InventoryView, AppError> {
        let settings = ctx
            .sync
            .config
            .settings(tenant_id)
            .await
            .map_err(config_error)?;
        let (problem, choices) = match accounts(ctx, tenant_id).await? {
            Ok(choices) => (None, choices),
            Err(problem) => (Some(problem), Vec::new()),
        };
        Ok(InventoryView {
            accounts_problem: problem,
            income: of_kind(&choices, AccountKind::Income),
            expense: of_kind(&choices, AccountKind::CostOfGoodsSold),
            asset: of_kind(&choices, AccountKind::InventoryAsset),
            inventory: settings.inventory,
            item_types: settings.item_types,
        })
    }

    /// The account `id` chosen for `kind`: it must be one of the company's accounts of that kind.
    pub fn chosen_account(
        choices: &[AccountChoice],
        kind: AccountKind,
        id: &str,
    ) -> Result<AccountRef, AppError> {
        choices
            .iter()
            .find(|c| c.id == id && c.kind == kind)
            .map(|c| AccountRef {
                id: c.id.clone(),
                name: c.name.clone(),
            })
            .ok_or_else(|| {
                let what = match kind {
                    AccountKind::Income => "an income account",
                    AccountKind::CostOfGoodsSold => "a cost of goods sold account",
                    AccountKind::InventoryAsset => "an inventory asset account",
                };
                AppError::Invalid(format!(
                    "The account you chose is not {what} in your QuickBooks company (it may have been removed). Reload the page and choose again."
                ))
            })
    }
}

/// The Inventory Settings tab's data: the saved choices and the QuickBooks company's accounts.
#[server(endpoint = "inventory_settings")]
pub async fn load_inventory() -> Result<InventoryView, AppError> {
    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    accounts::inventory_view(&ctx, &session.tenant_id).await
}

/// Saves Inventory Settings. The three accounts (QBO account ids; empty = not chosen) are
/// applied only when `with_accounts` is present: the form leaves the pickers, and that flag,
/// out while QuickBooks cannot list its accounts, and the saved choices then stay as they are.
/// `service` / `non_inventory` are checkboxes: present means allowed.
#[server(endpoint = "save_inventory_settings")]
pub async fn save_inventory_settings(
    with_accounts: Option<String>,
    #[server(default)] income_account: String,
    #[server(default)] expense_account: String,
    #[server(default)] asset_account: String,
    service: Option<String>,
    non_inventory: Option<String>,
) -> Result<InventoryView, AppError> {
    use engine::sync::AccountKind;

    use crate::ssr::*;
    let session = require_session()?;
    let ctx = server_ctx()?;
    let tenant = &session.tenant_id;
    let mut settings = ctx
        .sync
        .config
        .settings(tenant)
        .await
        .map_err(super::config_error)?;
    if with_accounts.is_some() {
        let wanted = [
            (AccountKind::Income, income_account.trim()),
            (AccountKind::CostOfGoodsSold, expense_account.trim()),
            (AccountKind::InventoryAsset, asset_account.trim()),
        ];
        let choices = if wanted.iter().any(|(_, id)| !id.is_empty()) {
            accounts::accounts(&ctx, tenant)
                .await?
                .map_err(AppError::Invalid)?
        } else {
            Vec::new()
        };
        for (kind, id) in wanted {
            let chosen = if id.is_empty() {
                None
            } else {
                Some(accounts::chosen_account(&choices, kind, id)?)
            };
            let slot = match kind {
                AccountKind::Income => &mut settings.inventory.income_account,
                AccountKind::CostOfGoodsSold => &mut settings.inventory.expense_account,
                AccountKind::InventoryAsset => &mut settings.inventory.asset_account,
            };
            *slot = chosen;
        }
    }
    settings.item_types = ItemTypes {
        service: service.is_some(),
        non_inventory: non_inventory.is_some(),
    };
    ctx.sync
        .config
        .save_settings(tenant, &settings)
        .await
        .map_err(super::config_error)?;
    accounts::inventory_view(&ctx, tenant).await
}
