//! The plan table and entitlement checks.
//!
//! SPEC §8 asks for the module sets and prices to live in one table in code.
//! This is that table: the Change Plan page renders it, billing mirrors it as
//! Stripe prices (found by lookup key), and the engine and server functions ask
//! it whether a pair may run or a historical backfill may start — entitlements
//! are enforced on the server from the same data the UI shows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::pairs::{ModulePair, SyncDirections};

/// Every change to a paid plan starts a trial of this many days (SPEC §8).
pub const TRIAL_DAYS: u32 = 15;

/// Plan price currency (ISO 4217, lower case as Stripe spells it).
pub const CURRENCY: &str = "usd";

/// A plan a tenant can be on. Serialised as its stable storage key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Plan {
    #[default]
    Freemium,
    StandardMonthly,
    StandardAnnual,
    ProfessionalMonthly,
    ProfessionalAnnual,
}

/// The product line of a plan, independent of how often it is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Freemium,
    Standard,
    Professional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingInterval {
    Month,
    Year,
}

impl BillingInterval {
    /// Stripe's `recurring.interval` value.
    pub fn stripe_interval(self) -> &'static str {
        match self {
            BillingInterval::Month => "month",
            BillingInterval::Year => "year",
        }
    }
}

const ESSENTIALS: &[ModulePair] = &[ModulePair::AccountsCustomers, ModulePair::ProductsItems];

const STANDARD_PAIRS: &[ModulePair] = &[
    ModulePair::AccountsCustomers,
    ModulePair::ProductsItems,
    ModulePair::ContactsCustomers,
    ModulePair::QuotesEstimates,
    ModulePair::InvoicesInvoices,
];

const PROFESSIONAL_PAIRS: &[ModulePair] = &[
    ModulePair::AccountsCustomers,
    ModulePair::ProductsItems,
    ModulePair::ContactsCustomers,
    ModulePair::QuotesEstimates,
    ModulePair::InvoicesInvoices,
    ModulePair::SalesOrders,
    ModulePair::VendorsVendors,
    ModulePair::PurchaseOrders,
];

/// One row of the plan table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlanRow {
    pub plan: Plan,
    pub key: &'static str,
    pub label: &'static str,
    pub tier: Tier,
    /// `None` for the free plan, which has no Stripe subscription.
    pub interval: Option<BillingInterval>,
    /// Price per billing interval, in cents.
    pub price_cents: u32,
    /// Stripe Price `lookup_key`; `None` for the free plan.
    pub stripe_lookup_key: Option<&'static str>,
    pub pairs: &'static [ModulePair],
    pub historical_data: bool,
}

/// The one plan table (SPEC §8). Annual plans cost ten months of the monthly
/// price and unlock Historical Data.
pub const PLAN_TABLE: [PlanRow; 5] = [
    PlanRow {
        plan: Plan::Freemium,
        key: "freemium",
        label: "Freemium",
        tier: Tier::Freemium,
        interval: None,
        price_cents: 0,
        stripe_lookup_key: None,
        pairs: ESSENTIALS,
        historical_data: false,
    },
    PlanRow {
        plan: Plan::StandardMonthly,
        key: "standard_monthly",
        label: "Standard (monthly)",
        tier: Tier::Standard,
        interval: Some(BillingInterval::Month),
        price_cents: 4_900,
        stripe_lookup_key: Some("zqsync_standard_monthly"),
        pairs: STANDARD_PAIRS,
        historical_data: false,
    },
    PlanRow {
        plan: Plan::StandardAnnual,
        key: "standard_annual",
        label: "Standard (annual)",
        tier: Tier::Standard,
        interval: Some(BillingInterval::Year),
        price_cents: 49_000,
        stripe_lookup_key: Some("zqsync_standard_annual"),
        pairs: STANDARD_PAIRS,
        historical_data: true,
    },
    PlanRow {
        plan: Plan::ProfessionalMonthly,
        key: "professional_monthly",
        label: "Professional (monthly)",
        tier: Tier::Professional,
        interval: Some(BillingInterval::Month),
        price_cents: 9_900,
        stripe_lookup_key: Some("zqsync_professional_monthly"),
        pairs: PROFESSIONAL_PAIRS,
        historical_data: false,
    },
    PlanRow {
        plan: Plan::ProfessionalAnnual,
        key: "professional_annual",
        label: "Professional (annual)",
        tier: Tier::Professional,
        interval: Some(BillingInterval::Year),
        price_cents: 99_000,
        stripe_lookup_key: Some("zqsync_professional_annual"),
        pairs: PROFESSIONAL_PAIRS,
        historical_data: true,
    },
];

/// A string that names no plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown plan \"{0}\"")]
pub struct UnknownPlan(pub String);

/// Why a tenant may not do something on its plan; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum EntitlementError {
    #[error(
        "{pair} is not included in the {plan} plan. Upgrade to {upgrade} or higher to sync it."
    )]
    PairNotIncluded {
        pair: String,
        plan: String,
        upgrade: String,
    },
    #[error(
        "Historical Data is only available on annual plans. You are on {plan}; change to an annual plan to sync historical records."
    )]
    HistoricalDataNotIncluded { plan: String },
}

/// What a plan change involves, so billing and the UI agree on the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    pub from: Plan,
    pub to: Plan,
    /// Leaving Freemium for a paid plan asks for a payment method (Stripe Checkout).
    pub needs_payment_method: bool,
    /// The old plan had a subscription that must be cancelled (no proration).
    pub cancels_subscription: bool,
    /// The new plan is paid and starts a `TRIAL_DAYS` trial.
    pub starts_trial: bool,
    /// `true` when the new plan allows fewer pairs or drops Historical Data.
    pub is_downgrade: bool,
}

impl Plan {
    pub const ALL: [Plan; 5] = [
        Plan::Freemium,
        Plan::StandardMonthly,
        Plan::StandardAnnual,
        Plan::ProfessionalMonthly,
        Plan::ProfessionalAnnual,
    ];

    pub fn row(self) -> &'static PlanRow {
        // The table is ordered like `Plan::ALL`; the test `table_is_in_enum_order` keeps it so.
        &PLAN_TABLE[self as usize]
    }

    pub fn key(self) -> &'static str {
        self.row().key
    }

    pub fn label(self) -> &'static str {
        self.row().label
    }

    pub fn tier(self) -> Tier {
        self.row().tier
    }

    pub fn interval(self) -> Option<BillingInterval> {
        self.row().interval
    }

    pub fn price_cents(self) -> u32 {
        self.row().price_cents
    }

    pub fn stripe_lookup_key(self) -> Option<&'static str> {
        self.row().stripe_lookup_key
    }

    pub fn pairs(self) -> &'static [ModulePair] {
        self.row().pairs
    }

    pub fn is_paid(self) -> bool {
        self.price_cents() > 0
    }

    pub fn allows(self, pair: ModulePair) -> bool {
        self.pairs().contains(&pair)
    }

    pub fn allows_historical_data(self) -> bool {
        self.row().historical_data
    }

    /// Pairs this plan does not include (shown locked with an upgrade link).
    pub fn gated_pairs(self) -> Vec<ModulePair> {
        ModulePair::ALL
            .into_iter()
            .filter(|p| !self.allows(*p))
            .collect()
    }

    /// The cheapest plan of the same billing interval that includes `pair`.
    pub fn cheapest_upgrade_for(self, pair: ModulePair) -> Option<Plan> {
        let interval = self.interval().unwrap_or(BillingInterval::Month);
        Plan::ALL
            .into_iter()
            .filter(|p| p.interval() == Some(interval) && p.allows(pair))
            .min_by_key(|p| p.price_cents())
    }

    /// Pairs `self` includes that `other` does not: "what each adds" on the
    /// Change Plan page.
    pub fn adds_over(self, other: Plan) -> Vec<ModulePair> {
        self.pairs()
            .iter()
            .copied()
            .filter(|p| !other.allows(*p))
            .collect()
    }

    /// The pairs the engine runs: enabled in Sync Direction *and* allowed by
    /// the plan, essentials first. Gated pairs keep their settings but never run.
    pub fn runnable_pairs(self, directions: &SyncDirections) -> Vec<ModulePair> {
        directions
            .enabled_pairs()
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }

    pub fn check_pair(self, pair: ModulePair) -> Result<(), EntitlementError> {
        if self.allows(pair) {
            return Ok(());
        }
        let upgrade = self
            .cheapest_upgrade_for(pair)
            .map_or("a paid plan", |p| p.label());
        Err(EntitlementError::PairNotIncluded {
            pair: pair.label().to_owned(),
            plan: self.label().to_owned(),
            upgrade: upgrade.to_owned(),
        })
    }

    pub fn check_historical_data(self) -> Result<(), EntitlementError> {
        if self.allows_historical_data() {
            Ok(())
        } else {
            Err(EntitlementError::HistoricalDataNotIncluded {
                plan: self.label().to_owned(),
            })
        }
    }

    pub fn from_key(key: &str) -> Result<Plan, UnknownPlan> {
        Plan::ALL
            .into_iter()
            .find(|p| p.key() == key)
            .ok_or_else(|| UnknownPlan(key.to_owned()))
    }

    /// Maps a Stripe price's lookup key (from a webhook) back to the plan.
    pub fn from_stripe_lookup_key(lookup_key: &str) -> Result<Plan, UnknownPlan> {
        Plan::ALL
            .into_iter()
            .find(|p| p.stripe_lookup_key() == Some(lookup_key))
            .ok_or_else(|| UnknownPlan(lookup_key.to_owned()))
    }

    /// The steps of moving from `self` to `to` (SPEC §8).
    pub fn change_to(self, to: Plan) -> PlanChange {
        let loses_pair = self.pairs().iter().any(|p| !to.allows(*p));
        PlanChange {
            from: self,
            to,
            needs_payment_method: !self.is_paid() && to.is_paid(),
            cancels_subscription: self.is_paid() && self != to,
            starts_trial: to.is_paid() && self != to,
            is_downgrade: loses_pair
                || (self.allows_historical_data() && !to.allows_historical_data()),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Plan {
    type Err = UnknownPlan;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::from_key(s)
    }
}

impl From<Plan> for &'static str {
    fn from(plan: Plan) -> Self {
        plan.key()
    }
}

impl TryFrom<String> for Plan {
    type Error = UnknownPlan;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Plan::from_key(&value)
    }
}

/// Formats cents as dollars for the Change Plan page, e.g. `4900` → `"$49.00"`.
pub fn format_price(cents: u32) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pairs::Direction;

    #[test]
    fn table_is_in_enum_order() {
        for (i, plan) in Plan::ALL.into_iter().enumerate() {
            assert_eq!(PLAN_TABLE[i].plan, plan);
            assert_eq!(plan.row().plan, plan);
        }
    }

    #[test]
    fn keys_and_lookup_keys_round_trip() {
        for plan in Plan::ALL {
            assert_eq!(Plan::from_key(plan.key()), Ok(plan));
            assert_eq!(plan.key().parse::<Plan>(), Ok(plan));
            let json = serde_json::to_string(&plan).unwrap();
            assert_eq!(json, format!("\"{}\"", plan.key()));
            assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
            match plan.stripe_lookup_key() {
                Some(lk) => assert_eq!(Plan::from_stripe_lookup_key(lk), Ok(plan)),
                None => assert!(!plan.is_paid()),
            }
        }
        assert_eq!(Plan::from_key("gold"), Err(UnknownPlan("gold".into())));
        assert!(Plan::from_stripe_lookup_key("freemium").is_err());
        assert!(serde_json::from_str::<Plan>("\"gold\"").is_err());
    }

    #[test]
    fn freemium_is_free_and_essentials_only() {
        let free = Plan::Freemium;
        assert_eq!(free.price_cents(), 0);
        assert!(!free.is_paid());
        assert!(free.allows(ModulePair::AccountsCustomers));
        assert!(free.allows(ModulePair::ProductsItems));
        for pair in ModulePair::ALL.into_iter().filter(|p| !p.is_essential()) {
            assert!(!free.allows(pair), "{pair} must be gated on Freemium");
        }
        assert!(!free.allows_historical_data());
        assert_eq!(free.gated_pairs().len(), ModulePair::ALL.len() - 2);
    }

    #[test]
    fn paid_plans_grow_and_annual_unlocks_history() {
        for plan in Plan::ALL.into_iter().filter(|p| p.is_paid()) {
            assert!(plan.stripe_lookup_key().is_some());
            for essential in [ModulePair::AccountsCustomers, ModulePair::ProductsItems] {
                assert!(plan.allows(essential));
            }
            assert_eq!(
                plan.allows_historical_data(),
                plan.interval() == Some(BillingInterval::Year)
            );
        }
        for pair in Plan::StandardMonthly.pairs() {
            assert!(Plan::ProfessionalMonthly.allows(*pair));
        }
        assert!(Plan::ProfessionalMonthly.gated_pairs().is_empty());
        assert!(!Plan::StandardMonthly.allows(ModulePair::PurchaseOrders));
        assert_eq!(Plan::StandardMonthly.pairs(), Plan::StandardAnnual.pairs());
        assert!(Plan::StandardAnnual.price_cents() < 12 * Plan::StandardMonthly.price_cents());
    }

    #[test]
    fn entitlement_errors_say_what_to_do() {
        assert_eq!(
            Plan::StandardMonthly.check_pair(ModulePair::QuotesEstimates),
            Ok(())
        );
        let err = Plan::Freemium
            .check_pair(ModulePair::QuotesEstimates)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Quotes ↔ Estimates is not included in the Freemium plan. Upgrade to Standard (monthly) or higher to sync it."
        );
        let err = Plan::StandardAnnual
            .check_pair(ModulePair::PurchaseOrders)
            .unwrap_err();
        assert!(err.to_string().contains("Upgrade to Professional (annual)"));
        assert_eq!(Plan::StandardAnnual.check_historical_data(), Ok(()));
        let err = Plan::ProfessionalMonthly
            .check_historical_data()
            .unwrap_err();
        assert!(err.to_string().contains("only available on annual plans"));
    }

    #[test]
    fn plan_changes() {
        let up = Plan::Freemium.change_to(Plan::StandardMonthly);
        assert!(up.needs_payment_method && up.starts_trial && !up.cancels_subscription);
        assert!(!up.is_downgrade);

        let paid = Plan::StandardMonthly.change_to(Plan::ProfessionalAnnual);
        assert!(!paid.needs_payment_method && paid.starts_trial && paid.cancels_subscription);
        assert!(!paid.is_downgrade);

        let down = Plan::ProfessionalMonthly.change_to(Plan::Freemium);
        assert!(!down.needs_payment_method && !down.starts_trial && down.cancels_subscription);
        assert!(down.is_downgrade);

        let history_lost = Plan::StandardAnnual.change_to(Plan::StandardMonthly);
        assert!(history_lost.is_downgrade);

        let same = Plan::StandardMonthly.change_to(Plan::StandardMonthly);
        assert!(!same.starts_trial && !same.cancels_subscription && !same.needs_payment_method);
    }

    #[test]
    fn what_each_plan_adds_and_what_runs() {
        assert!(Plan::Freemium.adds_over(Plan::StandardMonthly).is_empty());
        assert_eq!(
            Plan::StandardMonthly.adds_over(Plan::Freemium),
            vec![
                ModulePair::ContactsCustomers,
                ModulePair::QuotesEstimates,
                ModulePair::InvoicesInvoices
            ]
        );
        assert_eq!(
            Plan::ProfessionalAnnual.adds_over(Plan::StandardAnnual),
            vec![
                ModulePair::SalesOrders,
                ModulePair::VendorsVendors,
                ModulePair::PurchaseOrders
            ]
        );

        let mut directions = SyncDirections::default();
        directions.set(ModulePair::ContactsCustomers, Direction::Bidirectional);
        assert_eq!(
            Plan::Freemium.runnable_pairs(&directions),
            vec![ModulePair::AccountsCustomers, ModulePair::ProductsItems]
        );
        let standard = Plan::StandardMonthly.runnable_pairs(&directions);
        assert!(standard.contains(&ModulePair::ContactsCustomers));
        assert!(!standard.contains(&ModulePair::PurchaseOrders));
        directions.set(ModulePair::ProductsItems, Direction::Disabled);
        assert!(
            !Plan::ProfessionalMonthly
                .runnable_pairs(&directions)
                .contains(&ModulePair::ProductsItems)
        );
        assert_eq!(
            Plan::ProfessionalMonthly.runnable_pairs(&directions)[0],
            ModulePair::AccountsCustomers
        );
    }

    #[test]
    fn prices_format() {
        assert_eq!(format_price(0), "$0.00");
        assert_eq!(format_price(4_900), "$49.00");
        assert_eq!(format_price(99_005), "$990.05");
        let row = serde_json::to_value(Plan::StandardAnnual.row()).unwrap();
        assert_eq!(row["price_cents"], 49_000);
        assert_eq!(row["pairs"][0], "accounts_customers");
    }
}
