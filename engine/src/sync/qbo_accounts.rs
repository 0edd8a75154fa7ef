//! The QuickBooks company's ledger accounts for Settings → Inventory Settings. A new QBO
//! inventory item needs three: an income account, a cost-of-goods-sold (expense) account and an
//! inventory asset account. QBO refuses an item whose accounts are of the wrong kind, so each
//! picker offers only the accounts QBO accepts there.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connections::{ConnectionError, ConnectionStore};

/// Which of the three inventory pickers an account belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// `IncomeAccountRef`: AccountType Income or Other Income.
    Income,
    /// `ExpenseAccountRef`: AccountType Cost of Goods Sold.
    CostOfGoodsSold,
    /// `AssetAccountRef`: AccountType Other Current Asset, sub-type Inventory.
    InventoryAsset,
}

impl AccountKind {
    pub const ALL: [AccountKind; 3] = [
        AccountKind::Income,
        AccountKind::CostOfGoodsSold,
        AccountKind::InventoryAsset,
    ];

    /// The kind of a QBO account, from its `AccountType` and `AccountSubType`; `None` for
    /// accounts no inventory picker takes (banks, receivables, …).
    pub fn of(account_type: &str, sub_type: &str) -> Option<AccountKind> {
        match account_type {
            "Income" | "Other Income" => Some(AccountKind::Income),
            "Cost of Goods Sold" => Some(AccountKind::CostOfGoodsSold),
            "Other Current Asset" if sub_type == "Inventory" => Some(AccountKind::InventoryAsset),
            _ => None,
        }
    }
}

/// One account a picker offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChoice {
    pub id: String,
    /// `FullyQualifiedName` when QBO sends it (sub-accounts read "Parent:Child"), else `Name`.
    pub name: String,
    pub kind: AccountKind,
    pub account_type: String,
    pub sub_type: String,
}

impl AccountChoice {
    /// Reads one row of `SELECT * FROM Account`; `None` for inactive accounts and kinds no
    /// picker takes.
    pub fn from_qbo(row: &Value) -> Option<AccountChoice> {
        if row.get("Active") == Some(&Value::Bool(false)) {
            return None;
        }
        let text = |key: &str| row.get(key).and_then(Value::as_str).unwrap_or_default();
        let kind = AccountKind::of(text("AccountType"), text("AccountSubType"))?;
        let id = text("Id");
        let name = match text("FullyQualifiedName") {
            "" => text("Name"),
            full => full,
        };
        if id.is_empty() || name.is_empty() {
            return None;
        }
        Some(AccountChoice {
            id: id.to_owned(),
            name: name.to_owned(),
            kind,
            account_type: text("AccountType").to_owned(),
            sub_type: text("AccountSubType").to_owned(),
        })
    }
}

/// The company's active accounts that an inventory item can use, sorted by kind then name.
pub async fn list_accounts(
    connections: &Arc<ConnectionStore>,
    tenant_id: &str,
) -> Result<Vec<AccountChoice>, ConnectionError> {
    let client = connections.qbo_client(tenant_id).await?;
    let rows = client.accounts().await?;
    let mut choices: Vec<AccountChoice> = rows.iter().filter_map(AccountChoice::from_qbo).collect();
    choices.sort_by_key(|c| (c.kind, c.name.to_lowercase()));
    Ok(choices)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn accounts_go_to_the_picker_qbo_accepts_them_in() {
        let rows = [
            json!({"Id": "1", "Name": "Sales of Product Income", "AccountType": "Income", "AccountSubType": "SalesOfProductIncome", "Active": true}),
            json!({"Id": "2", "Name": "Interest", "FullyQualifiedName": "Other:Interest", "AccountType": "Other Income", "AccountSubType": "InterestEarned"}),
            json!({"Id": "3", "Name": "Cost of Goods Sold", "AccountType": "Cost of Goods Sold", "AccountSubType": "SuppliesMaterialsCogs"}),
            json!({"Id": "4", "Name": "Inventory Asset", "AccountType": "Other Current Asset", "AccountSubType": "Inventory"}),
            json!({"Id": "5", "Name": "Undeposited Funds", "AccountType": "Other Current Asset", "AccountSubType": "UndepositedFunds"}),
            json!({"Id": "6", "Name": "Checking", "AccountType": "Bank", "AccountSubType": "Checking"}),
            json!({"Id": "7", "Name": "Old income", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome", "Active": false}),
            json!({"Name": "No id", "AccountType": "Income"}),
        ];
        let kinds: Vec<(String, String, AccountKind)> = rows
            .iter()
            .filter_map(AccountChoice::from_qbo)
            .map(|c| (c.id, c.name, c.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (
                    "1".into(),
                    "Sales of Product Income".into(),
                    AccountKind::Income
                ),
                ("2".into(), "Other:Interest".into(), AccountKind::Income),
                (
                    "3".into(),
                    "Cost of Goods Sold".into(),
                    AccountKind::CostOfGoodsSold
                ),
                (
                    "4".into(),
                    "Inventory Asset".into(),
                    AccountKind::InventoryAsset
                ),
            ]
        );
    }
}
