//! Per-tenant sync settings and their rules.
//!
//! The Settings pages edit these and the engine obeys them, so their limits
//! (interval 1–60 minutes), defaults (15 minutes, QuickBooks wins, Inventory
//! items only) and the rules that depend on them (who wins a conflict, what a
//! new QBO inventory item needs from Inventory Settings, when a historical
//! backfill may start) live here once.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::pairs::{Flow, ModulePair, SyncDirections, System};
use crate::plans::Plan;
use crate::record::DateValue;

/// Who wins when a record changed on both sides since the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// The guide's behaviour, kept as the default.
    #[default]
    QboWins,
    ZohoWins,
    NewestWins,
}

impl ConflictPolicy {
    pub const ALL: [ConflictPolicy; 3] = [
        ConflictPolicy::QboWins,
        ConflictPolicy::ZohoWins,
        ConflictPolicy::NewestWins,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ConflictPolicy::QboWins => "QuickBooks wins",
            ConflictPolicy::ZohoWins => "Zoho wins",
            ConflictPolicy::NewestWins => "Newest change wins",
        }
    }

    /// The side whose version is kept. For "newest wins" the modification
    /// times (Zoho `Modified_Time`, QBO `MetaData.LastUpdatedTime`) are compared
    /// as instants; a tie or an unreadable time falls back to QuickBooks.
    pub fn winner(self, zoho_modified: &str, qbo_modified: &str) -> System {
        match self {
            ConflictPolicy::QboWins => System::Qbo,
            ConflictPolicy::ZohoWins => System::Zoho,
            ConflictPolicy::NewestWins => {
                let instant = |t: &str| DateValue::parse(t).map(DateValue::instant_or_midnight);
                match (instant(zoho_modified), instant(qbo_modified)) {
                    (Some(z), Some(q)) if z > q => System::Zoho,
                    _ => System::Qbo,
                }
            }
        }
    }
}

/// Minutes between scheduled runs: 1–60, default 15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct SyncInterval(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The sync interval must be between 1 and 60 minutes; {0} is not.")]
pub struct InvalidInterval(pub u32);

impl SyncInterval {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 60;
    pub const DEFAULT: SyncInterval = SyncInterval(15);

    pub fn new(minutes: u32) -> Result<SyncInterval, InvalidInterval> {
        if (Self::MIN..=Self::MAX).contains(&minutes) {
            Ok(SyncInterval(minutes))
        } else {
            Err(InvalidInterval(minutes))
        }
    }

    pub fn minutes(self) -> u32 {
        self.0
    }

    pub fn seconds(self) -> u64 {
        u64::from(self.0) * 60
    }
}

impl Default for SyncInterval {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u32> for SyncInterval {
    type Error = InvalidInterval;
    fn try_from(minutes: u32) -> Result<Self, Self::Error> {
        SyncInterval::new(minutes)
    }
}

impl From<SyncInterval> for u32 {
    fn from(interval: SyncInterval) -> Self {
        interval.0
    }
}

impl fmt::Display for SyncInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("every minute"),
            n => write!(f, "every {n} minutes"),
        }
    }
}

/// A QBO ledger account chosen in Inventory Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRef {
    pub id: String,
    pub name: String,
}

/// The accounts a new QBO inventory item needs (QBO requires all three).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InventorySettings {
    #[serde(default)]
    pub income_account: Option<AccountRef>,
    #[serde(default)]
    pub expense_account: Option<AccountRef>,
    #[serde(default)]
    pub asset_account: Option<AccountRef>,
}

/// Which Inventory Settings are missing; the message names them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}", missing_accounts_message(.0))]
pub struct InventorySettingsMissing(pub Vec<String>);

fn missing_accounts_message(missing: &[String]) -> String {
    let list = match missing {
        [] => "its accounts".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    let pronoun = if missing.len() == 1 { "it" } else { "them" };
    format!(
        "QuickBooks needs {list} to create an inventory item. Choose {pronoun} in Settings → Inventory Settings, then Retry."
    )
}

impl InventorySettings {
    /// Labels of the accounts not chosen yet.
    pub fn missing(&self) -> Vec<String> {
        [
            (&self.income_account, "an income account"),
            (
                &self.expense_account,
                "an expense (cost of goods sold) account",
            ),
            (&self.asset_account, "an inventory asset account"),
        ]
        .into_iter()
        .filter(|(account, _)| account.is_none())
        .map(|(_, label)| label.to_owned())
        .collect()
    }

    /// Completes a Zoho → QBO payload for a *new* item as an Inventory item:
    /// type, quantity tracking, start date (`today`, YYYY-MM-DD, unless mapped)
    /// and the three accounts. Quantity defaults to 0 when not mapped.
    pub fn apply_to_new_item(
        &self,
        payload: &mut Value,
        today: &str,
    ) -> Result<(), InventorySettingsMissing> {
        let (Some(income), Some(expense), Some(asset)) = (
            &self.income_account,
            &self.expense_account,
            &self.asset_account,
        ) else {
            return Err(InventorySettingsMissing(self.missing()));
        };
        let Some(item) = payload.as_object_mut() else {
            return Ok(());
        };
        let account = |a: &AccountRef| json!({"value": a.id, "name": a.name});
        item.insert("Type".into(), json!("Inventory"));
        item.insert("TrackQtyOnHand".into(), json!(true));
        item.entry("QtyOnHand").or_insert(json!(0));
        item.entry("InvStartDate").or_insert(json!(today));
        item.insert("IncomeAccountRef".into(), account(income));
        item.insert("ExpenseAccountRef".into(), account(expense));
        item.insert("AssetAccountRef".into(), account(asset));
        Ok(())
    }
}

/// Which QBO item types flow QBO → Zoho. The guide syncs Inventory items only;
/// Service and NonInventory items are opt-in (SPEC §6 **beyond**).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemTypes {
    #[serde(default)]
    pub service: bool,
    #[serde(default)]
    pub non_inventory: bool,
}

impl ItemTypes {
    /// Whether a QBO item of `item_type` (its `Type`) syncs to Zoho.
    /// Bundles (`Group`) and `Category` rows never do: they are not products.
    pub fn allows(self, item_type: &str) -> bool {
        match item_type {
            "Inventory" => true,
            "Service" => self.service,
            "NonInventory" => self.non_inventory,
            _ => false,
        }
    }
}

/// One line of the Sync Historical Data tab: copy every record of `pair`
/// modified since `since` (YYYY-MM-DD), in the direction(s) of Sync Direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillRequest {
    pub pair: ModulePair,
    pub since: String,
}

/// A backfill the engine may start: the pair, its first day and the flows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillPlan {
    pub pair: ModulePair,
    pub since: String,
    pub flows: Vec<Flow>,
}

/// Why a backfill cannot start; one message per problem, each saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}", .0.join(" "))]
pub struct BackfillRejected(pub Vec<String>);

impl BackfillRequest {
    /// Checks requests against the plan (annual only), the pair's direction and
    /// entitlement, and the date (a real date, not after `today`).
    pub fn check_all(
        requests: &[BackfillRequest],
        plan: Plan,
        directions: &SyncDirections,
        today: &str,
    ) -> Result<Vec<BackfillPlan>, BackfillRejected> {
        if let Err(e) = plan.check_historical_data() {
            return Err(BackfillRejected(vec![e.to_string()]));
        }
        if requests.is_empty() {
            return Err(BackfillRejected(vec![
                "Tick at least one module to sync its historical data.".to_owned(),
            ]));
        }
        let today_days = DateValue::parse(today).map(|d| d.days);
        let mut problems = Vec::new();
        let mut plans = Vec::new();
        for request in requests {
            let label = request.pair.label();
            if let Err(e) = plan.check_pair(request.pair) {
                problems.push(e.to_string());
                continue;
            }
            let flows = directions.get(request.pair).flows();
            if flows.is_empty() {
                problems.push(format!(
                    "{label} is disabled; choose a direction for it in Settings → Sync Direction first."
                ));
                continue;
            }
            let since = request.since.trim();
            let date = DateValue::parse(since).filter(|d| d.instant.is_none());
            match (date, today_days) {
                (None, _) => problems.push(format!(
                    "Enter the start date for {label} as YYYY-MM-DD (\"{since}\" is not a date)."
                )),
                (Some(d), Some(t)) if d.days > t => problems.push(format!(
                    "The start date for {label} is in the future; choose today or an earlier day."
                )),
                (Some(_), _) => plans.push(BackfillPlan {
                    pair: request.pair,
                    since: since.to_owned(),
                    flows,
                }),
            }
        }
        if problems.is_empty() {
            Ok(plans)
        } else {
            Err(BackfillRejected(problems))
        }
    }
}

/// A tenant's sync settings, stored as one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncSettings {
    #[serde(default)]
    pub interval: SyncInterval,
    #[serde(default)]
    pub conflict_policy: ConflictPolicy,
    #[serde(default)]
    pub inventory: InventorySettings,
    #[serde(default)]
    pub item_types: ItemTypes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_policies() {
        let zoho = "2026-05-05T10:00:00+05:30"; // 04:30Z
        let qbo = "2026-05-05T03:11:46-07:00"; // 10:11Z
        assert_eq!(ConflictPolicy::default(), ConflictPolicy::QboWins);
        assert_eq!(ConflictPolicy::QboWins.winner(zoho, qbo), System::Qbo);
        assert_eq!(ConflictPolicy::ZohoWins.winner(zoho, qbo), System::Zoho);
        assert_eq!(ConflictPolicy::NewestWins.winner(zoho, qbo), System::Qbo);
        assert_eq!(
            ConflictPolicy::NewestWins.winner("2026-05-05T11:00:00Z", qbo),
            System::Zoho
        );
        assert_eq!(
            ConflictPolicy::NewestWins.winner("2026-05-05T10:11:46Z", qbo),
            System::Qbo,
            "a tie keeps QuickBooks"
        );
        assert_eq!(
            ConflictPolicy::NewestWins.winner("yesterday", qbo),
            System::Qbo
        );
        assert_eq!(
            serde_json::to_string(&ConflictPolicy::NewestWins).unwrap(),
            "\"newest_wins\""
        );
    }

    #[test]
    fn interval_limits() {
        assert_eq!(SyncInterval::default().minutes(), 15);
        assert_eq!(SyncInterval::new(1).unwrap().seconds(), 60);
        assert!(SyncInterval::new(60).is_ok());
        assert_eq!(SyncInterval::new(0), Err(InvalidInterval(0)));
        assert_eq!(
            SyncInterval::new(61).unwrap_err().to_string(),
            "The sync interval must be between 1 and 60 minutes; 61 is not."
        );
        assert_eq!(
            serde_json::to_string(&SyncInterval::new(5).unwrap()).unwrap(),
            "5"
        );
        assert!(serde_json::from_str::<SyncInterval>("90").is_err());
        assert_eq!(SyncInterval::new(1).unwrap().to_string(), "every minute");
        assert_eq!(SyncInterval::DEFAULT.to_string(), "every 15 minutes");
    }

    fn account(id: &str, name: &str) -> Option<AccountRef> {
        Some(AccountRef {
            id: id.into(),
            name: name.into(),
        })
    }

    #[test]
    fn new_items_need_all_three_accounts() {
        let mut settings = InventorySettings {
            income_account: account("79", "Sales of Product Income"),
            ..InventorySettings::default()
        };
        let mut payload = json!({"Name": "Pump"});
        let err = settings
            .apply_to_new_item(&mut payload, "2026-05-05")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "QuickBooks needs an expense (cost of goods sold) account and an inventory asset account to create an inventory item. Choose them in Settings → Inventory Settings, then Retry."
        );
        assert_eq!(payload, json!({"Name": "Pump"}), "nothing changed");
        settings.expense_account = account("80", "Cost of Goods Sold");
        settings.asset_account = account("81", "Inventory Asset");
        assert!(settings.missing().is_empty());
        settings
            .apply_to_new_item(&mut payload, "2026-05-05")
            .unwrap();
        assert_eq!(
            payload,
            json!({"Name": "Pump", "Type": "Inventory", "TrackQtyOnHand": true, "QtyOnHand": 0,
                   "InvStartDate": "2026-05-05",
                   "IncomeAccountRef": {"value": "79", "name": "Sales of Product Income"},
                   "ExpenseAccountRef": {"value": "80", "name": "Cost of Goods Sold"},
                   "AssetAccountRef": {"value": "81", "name": "Inventory Asset"}})
        );
        let mut mapped = json!({"Name": "Valve", "QtyOnHand": 7.0, "InvStartDate": "2026-01-01"});
        settings
            .apply_to_new_item(&mut mapped, "2026-05-05")
            .unwrap();
        assert_eq!(mapped["QtyOnHand"], 7.0);
        assert_eq!(mapped["InvStartDate"], "2026-01-01");
        let one_missing = InventorySettings {
            asset_account: None,
            ..settings
        };
        assert!(
            one_missing
                .apply_to_new_item(&mut json!({}), "2026-05-05")
                .unwrap_err()
                .to_string()
                .contains("Choose it in")
        );
    }

    #[test]
    fn item_types_flowing_to_zoho() {
        let default = ItemTypes::default();
        assert!(default.allows("Inventory"));
        assert!(!default.allows("Service"));
        assert!(!default.allows("NonInventory"));
        let all = ItemTypes {
            service: true,
            non_inventory: true,
        };
        assert!(all.allows("Service") && all.allows("NonInventory"));
        assert!(!all.allows("Group"));
        assert!(!all.allows("Category"));
    }

    #[test]
    fn backfills_need_an_annual_plan_an_enabled_pair_and_a_past_date() {
        let mut directions = SyncDirections::default();
        // Transactional pairs start off; these are on.
        for pair in [
            ModulePair::InvoicesInvoices,
            ModulePair::QuotesEstimates,
            ModulePair::PurchaseOrders,
        ] {
            directions.set(pair, crate::pairs::Direction::ZohoToQbo);
        }
        let today = "2026-11-24";
        let request = |pair, since: &str| BackfillRequest {
            pair,
            since: since.into(),
        };
        let accounts = request(ModulePair::AccountsCustomers, "2024-01-01");

        let monthly = BackfillRequest::check_all(
            std::slice::from_ref(&accounts),
            Plan::StandardMonthly,
            &directions,
            today,
        )
        .unwrap_err();
        assert!(
            monthly
                .to_string()
                .contains("only available on annual plans")
        );

        let ok = BackfillRequest::check_all(
            &[
                accounts,
                request(ModulePair::InvoicesInvoices, "2026-11-24"),
            ],
            Plan::StandardAnnual,
            &directions,
            today,
        )
        .unwrap();
        assert_eq!(ok[0].flows, vec![Flow::ZohoToQbo, Flow::QboToZoho]);
        assert_eq!(ok[1].flows, vec![Flow::ZohoToQbo]);
        assert_eq!(ok[1].since, "2026-11-24");

        directions.set(ModulePair::ProductsItems, crate::pairs::Direction::Disabled);
        let err = BackfillRequest::check_all(
            &[
                request(ModulePair::ProductsItems, "2024-01-01"),
                request(ModulePair::PurchaseOrders, "2024-01-01"),
                request(ModulePair::AccountsCustomers, "01/01/2024"),
                request(ModulePair::QuotesEstimates, "2026-12-01"),
            ],
            Plan::StandardAnnual,
            &directions,
            today,
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 4);
        assert!(err.0[0].contains("Products ↔ Items is disabled"));
        assert!(err.0[1].contains("Upgrade to Professional (annual)"));
        assert!(err.0[2].contains("as YYYY-MM-DD"));
        assert!(err.0[3].contains("in the future"));
        assert!(
            BackfillRequest::check_all(&[], Plan::ProfessionalAnnual, &directions, today)
                .unwrap_err()
                .to_string()
                .contains("Tick at least one module")
        );
    }

    #[test]
    fn settings_document_round_trips_and_fills_defaults() {
        let settings: SyncSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, SyncSettings::default());
        assert_eq!(settings.interval.minutes(), 15);
        let custom = SyncSettings {
            interval: SyncInterval::new(5).unwrap(),
            conflict_policy: ConflictPolicy::ZohoWins,
            inventory: InventorySettings {
                income_account: account("1", "Income"),
                ..InventorySettings::default()
            },
            item_types: ItemTypes {
                service: true,
                non_inventory: false,
            },
        };
        let json = serde_json::to_value(&custom).unwrap();
        assert_eq!(json["interval"], 5);
        assert_eq!(json["conflict_policy"], "zoho_wins");
        assert_eq!(
            serde_json::from_value::<SyncSettings>(json).unwrap(),
            custom
        );
        assert!(serde_json::from_str::<SyncSettings>(r#"{"interval": 0}"#).is_err());
    }
}
