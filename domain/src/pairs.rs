//! Module pairs and sync directions.
//!
//! Everything else in zqsync (mappings, filters, cursors, links, log rows, plan
//! entitlements) is keyed by a *module pair*: one Zoho CRM module matched with one
//! QuickBooks Online entity. This module is the single list of those pairs, the
//! stable string keys they are stored under, their UI labels, and the per-pair
//! sync direction with the defaults of SPEC §3.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the two systems zqsync keeps in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    Zoho,
    Qbo,
}

impl System {
    pub fn label(self) -> &'static str {
        match self {
            System::Zoho => "Zoho CRM",
            System::Qbo => "QuickBooks Online",
        }
    }

    pub fn other(self) -> System {
        match self {
            System::Zoho => System::Qbo,
            System::Qbo => System::Zoho,
        }
    }
}

/// A Zoho CRM module zqsync reads or writes (API names of CRM API v8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ZohoModule {
    Accounts,
    Contacts,
    Products,
    Quotes,
    #[serde(rename = "Sales_Orders")]
    SalesOrders,
    Invoices,
    Vendors,
    #[serde(rename = "Purchase_Orders")]
    PurchaseOrders,
}

impl ZohoModule {
    pub const ALL: [ZohoModule; 8] = [
        ZohoModule::Accounts,
        ZohoModule::Contacts,
        ZohoModule::Products,
        ZohoModule::Quotes,
        ZohoModule::SalesOrders,
        ZohoModule::Invoices,
        ZohoModule::Vendors,
        ZohoModule::PurchaseOrders,
    ];

    /// The module's API name, as used in URL paths (`/crm/v8/{api_name}`).
    pub fn api_name(self) -> &'static str {
        match self {
            ZohoModule::Accounts => "Accounts",
            ZohoModule::Contacts => "Contacts",
            ZohoModule::Products => "Products",
            ZohoModule::Quotes => "Quotes",
            ZohoModule::SalesOrders => "Sales_Orders",
            ZohoModule::Invoices => "Invoices",
            ZohoModule::Vendors => "Vendors",
            ZohoModule::PurchaseOrders => "Purchase_Orders",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ZohoModule::SalesOrders => "Sales Orders",
            ZohoModule::PurchaseOrders => "Purchase Orders",
            other => other.api_name(),
        }
    }

    pub fn from_api_name(name: &str) -> Option<ZohoModule> {
        ZohoModule::ALL.into_iter().find(|m| m.api_name() == name)
    }

    /// The subform holding line items in CRM API v8, for the inventory modules.
    pub fn line_items_key(self) -> Option<&'static str> {
        match self {
            ZohoModule::Quotes => Some("Quoted_Items"),
            ZohoModule::SalesOrders => Some("Ordered_Items"),
            ZohoModule::Invoices => Some("Invoiced_Items"),
            ZohoModule::PurchaseOrders => Some("Purchase_Items"),
            _ => None,
        }
    }
}

/// A QuickBooks Online entity zqsync reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QboEntity {
    Customer,
    Item,
    Estimate,
    Invoice,
    Vendor,
    PurchaseOrder,
}

impl QboEntity {
    pub const ALL: [QboEntity; 6] = [
        QboEntity::Customer,
        QboEntity::Item,
        QboEntity::Estimate,
        QboEntity::Invoice,
        QboEntity::Vendor,
        QboEntity::PurchaseOrder,
    ];

    /// The entity name as QBO spells it in JSON bodies and queries.
    pub fn name(self) -> &'static str {
        match self {
            QboEntity::Customer => "Customer",
            QboEntity::Item => "Item",
            QboEntity::Estimate => "Estimate",
            QboEntity::Invoice => "Invoice",
            QboEntity::Vendor => "Vendor",
            QboEntity::PurchaseOrder => "PurchaseOrder",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            QboEntity::PurchaseOrder => "Purchase Order",
            other => other.name(),
        }
    }

    /// The REST path segment (`/v3/company/{realm}/{path}`).
    pub fn path(self) -> &'static str {
        match self {
            QboEntity::Customer => "customer",
            QboEntity::Item => "item",
            QboEntity::Estimate => "estimate",
            QboEntity::Invoice => "invoice",
            QboEntity::Vendor => "vendor",
            QboEntity::PurchaseOrder => "purchaseorder",
        }
    }

    pub fn from_name(name: &str) -> Option<QboEntity> {
        QboEntity::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Transactions carry `Line` arrays and can be deleted; name-list entities
    /// (Customer, Item, Vendor) can only be made inactive.
    pub fn is_transaction(self) -> bool {
        matches!(
            self,
            QboEntity::Estimate | QboEntity::Invoice | QboEntity::PurchaseOrder
        )
    }
}

/// Which QBO entity Zoho Sales Orders become: SPEC §3 makes it a tenant setting.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SalesOrderTarget {
    #[default]
    Invoice,
    Estimate,
}

impl SalesOrderTarget {
    pub fn entity(self) -> QboEntity {
        match self {
            SalesOrderTarget::Invoice => QboEntity::Invoice,
            SalesOrderTarget::Estimate => QboEntity::Estimate,
        }
    }
}

/// Essential pairs must sync before transactional records can (a transaction
/// refers to customers and items); transactional pairs are gated by plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    Essential,
    Transactional,
}

/// A Zoho module matched with a QBO entity. Serialised as its stable storage key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum ModulePair {
    AccountsCustomers,
    ProductsItems,
    QuotesEstimates,
    SalesOrders,
    InvoicesInvoices,
    VendorsVendors,
    PurchaseOrders,
    ContactsCustomers,
}

/// A string that is not the key of any module pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown module pair \"{0}\"")]
pub struct UnknownPair(pub String);

impl ModulePair {
    /// Every pair in sync order: essentials first, then transactional records, so a
    /// run links customers and items before the transactions that refer to them.
    pub const ALL: [ModulePair; 8] = [
        ModulePair::AccountsCustomers,
        ModulePair::ProductsItems,
        ModulePair::ContactsCustomers,
        ModulePair::VendorsVendors,
        ModulePair::QuotesEstimates,
        ModulePair::SalesOrders,
        ModulePair::InvoicesInvoices,
        ModulePair::PurchaseOrders,
    ];

    /// Stable key for storage and URLs. Never change these: they are in databases.
    pub fn key(self) -> &'static str {
        match self {
            ModulePair::AccountsCustomers => "accounts_customers",
            ModulePair::ProductsItems => "products_items",
            ModulePair::QuotesEstimates => "quotes_estimates",
            ModulePair::SalesOrders => "sales_orders",
            ModulePair::InvoicesInvoices => "invoices_invoices",
            ModulePair::VendorsVendors => "vendors_vendors",
            ModulePair::PurchaseOrders => "purchase_orders",
            ModulePair::ContactsCustomers => "contacts_customers",
        }
    }

    pub fn from_key(key: &str) -> Result<ModulePair, UnknownPair> {
        ModulePair::ALL
            .into_iter()
            .find(|p| p.key() == key)
            .ok_or_else(|| UnknownPair(key.to_owned()))
    }

    /// Label for the UI, e.g. "Accounts ↔ Customers".
    pub fn label(self) -> &'static str {
        match self {
            ModulePair::AccountsCustomers => "Accounts ↔ Customers",
            ModulePair::ProductsItems => "Products ↔ Items",
            ModulePair::QuotesEstimates => "Quotes ↔ Estimates",
            ModulePair::SalesOrders => "Sales Orders ↔ Invoices or Estimates",
            ModulePair::InvoicesInvoices => "Invoices ↔ Invoices",
            ModulePair::VendorsVendors => "Vendors ↔ Vendors",
            ModulePair::PurchaseOrders => "Purchase Orders ↔ Purchase Orders",
            ModulePair::ContactsCustomers => "Contacts ↔ Customers",
        }
    }

    pub fn zoho_module(self) -> ZohoModule {
        match self {
            ModulePair::AccountsCustomers => ZohoModule::Accounts,
            ModulePair::ProductsItems => ZohoModule::Products,
            ModulePair::QuotesEstimates => ZohoModule::Quotes,
            ModulePair::SalesOrders => ZohoModule::SalesOrders,
            ModulePair::InvoicesInvoices => ZohoModule::Invoices,
            ModulePair::VendorsVendors => ZohoModule::Vendors,
            ModulePair::PurchaseOrders => ZohoModule::PurchaseOrders,
            ModulePair::ContactsCustomers => ZohoModule::Contacts,
        }
    }

    /// The QBO entity of this pair; only Sales Orders depend on the tenant's setting.
    pub fn qbo_entity(self, sales_orders: SalesOrderTarget) -> QboEntity {
        match self {
            ModulePair::AccountsCustomers | ModulePair::ContactsCustomers => QboEntity::Customer,
            ModulePair::ProductsItems => QboEntity::Item,
            ModulePair::QuotesEstimates => QboEntity::Estimate,
            ModulePair::SalesOrders => sales_orders.entity(),
            ModulePair::InvoicesInvoices => QboEntity::Invoice,
            ModulePair::VendorsVendors => QboEntity::Vendor,
            ModulePair::PurchaseOrders => QboEntity::PurchaseOrder,
        }
    }

    pub fn kind(self) -> PairKind {
        match self {
            ModulePair::AccountsCustomers | ModulePair::ProductsItems => PairKind::Essential,
            _ => PairKind::Transactional,
        }
    }

    pub fn is_essential(self) -> bool {
        self.kind() == PairKind::Essential
    }

    /// The pair whose links translate ids of a Zoho lookup into `module`.
    pub fn for_zoho_lookup(module: &str) -> Option<ModulePair> {
        match module {
            "Accounts" => Some(ModulePair::AccountsCustomers),
            "Contacts" => Some(ModulePair::ContactsCustomers),
            "Products" => Some(ModulePair::ProductsItems),
            "Vendors" => Some(ModulePair::VendorsVendors),
            _ => None,
        }
    }

    /// Whether records of this pair carry line items (Zoho subform ↔ QBO `Line`).
    pub fn has_line_items(self) -> bool {
        self.zoho_module().line_items_key().is_some()
    }

    /// Default direction (SPEC §3, issue 14). Essentials flow both ways so either system can
    /// be the place where customers and products are created. Everything else starts off:
    /// transactions write invoices, estimates and purchase orders into the books, so they run
    /// only once the user has reviewed their mapping and turned them on (a plan upgrade
    /// enables nothing by itself); Contacts ↔ Customers would compete with Accounts for QBO
    /// customers.
    pub fn default_direction(self) -> Direction {
        match self {
            ModulePair::AccountsCustomers | ModulePair::ProductsItems => Direction::Bidirectional,
            _ => Direction::Disabled,
        }
    }

    /// The direction offered when the user turns an off pair on: transactions flow from the
    /// CRM into the books, where they are acted on.
    pub fn suggested_direction(self) -> Direction {
        match self {
            ModulePair::AccountsCustomers | ModulePair::ProductsItems => Direction::Bidirectional,
            _ => Direction::ZohoToQbo,
        }
    }
}

impl fmt::Display for ModulePair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for ModulePair {
    type Err = UnknownPair;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModulePair::from_key(s)
    }
}

impl From<ModulePair> for &'static str {
    fn from(pair: ModulePair) -> Self {
        pair.key()
    }
}

impl TryFrom<String> for ModulePair {
    type Error = UnknownPair;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ModulePair::from_key(&value)
    }
}

/// One way records can move: the unit filters, cursors and log rows are kept per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    ZohoToQbo,
    QboToZoho,
}

impl Flow {
    pub const ALL: [Flow; 2] = [Flow::ZohoToQbo, Flow::QboToZoho];

    pub fn source(self) -> System {
        match self {
            Flow::ZohoToQbo => System::Zoho,
            Flow::QboToZoho => System::Qbo,
        }
    }

    pub fn target(self) -> System {
        self.source().other()
    }

    pub fn label(self) -> &'static str {
        match self {
            Flow::ZohoToQbo => "Zoho → QuickBooks",
            Flow::QboToZoho => "QuickBooks → Zoho",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Flow::ZohoToQbo => "zoho_to_qbo",
            Flow::QboToZoho => "qbo_to_zoho",
        }
    }
}

/// The direction setting of a pair (Settings → Sync Direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ZohoToQbo,
    QboToZoho,
    Bidirectional,
    Disabled,
}

impl Direction {
    pub const ALL: [Direction; 4] = [
        Direction::ZohoToQbo,
        Direction::QboToZoho,
        Direction::Bidirectional,
        Direction::Disabled,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Direction::ZohoToQbo => "Zoho → QuickBooks",
            Direction::QboToZoho => "QuickBooks → Zoho",
            Direction::Bidirectional => "Bi-Directional",
            Direction::Disabled => "Disable",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Direction::ZohoToQbo => "zoho_to_qbo",
            Direction::QboToZoho => "qbo_to_zoho",
            Direction::Bidirectional => "bidirectional",
            Direction::Disabled => "disabled",
        }
    }

    pub fn from_key(key: &str) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.key() == key)
    }

    pub fn is_enabled(self) -> bool {
        self != Direction::Disabled
    }

    /// Whether records move in `flow` under this setting.
    pub fn includes(self, flow: Flow) -> bool {
        matches!(
            (self, flow),
            (Direction::Bidirectional, _)
                | (Direction::ZohoToQbo, Flow::ZohoToQbo)
                | (Direction::QboToZoho, Flow::QboToZoho)
        )
    }

    /// The flows this setting runs, Zoho → QBO first.
    pub fn flows(self) -> Vec<Flow> {
        Flow::ALL
            .into_iter()
            .filter(|f| self.includes(*f))
            .collect()
    }

    /// Whether this setting ever writes into `system`.
    pub fn writes_to(self, system: System) -> bool {
        self.flows().iter().any(|f| f.target() == system)
    }
}

/// The per-tenant direction of every pair, plus the Sales Orders target.
/// Pairs missing from the stored map fall back to their default, so adding a
/// pair in a later release needs no data migration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncDirections {
    #[serde(default)]
    pub directions: BTreeMap<ModulePair, Direction>,
    #[serde(default)]
    pub sales_orders: SalesOrderTarget,
}

impl SyncDirections {
    pub fn get(&self, pair: ModulePair) -> Direction {
        self.directions
            .get(&pair)
            .copied()
            .unwrap_or_else(|| pair.default_direction())
    }

    pub fn set(&mut self, pair: ModulePair, direction: Direction) {
        self.directions.insert(pair, direction);
    }

    /// Enabled pairs in sync order (essentials first).
    pub fn enabled_pairs(&self) -> Vec<ModulePair> {
        ModulePair::ALL
            .into_iter()
            .filter(|p| self.get(*p).is_enabled())
            .collect()
    }

    /// The warning the Sync Direction page shows when an essential pair is off.
    pub fn warnings(&self) -> Vec<String> {
        ModulePair::ALL
            .into_iter()
            .filter(|p| p.is_essential() && !self.get(*p).is_enabled())
            .map(|p| {
                format!(
                    "{} is disabled: quotes, sales orders, invoices and purchase orders that \
                     refer to records not yet synced will fail. Keep it enabled unless you \
                     only use the Freemium plan.",
                    p.label()
                )
            })
            .collect()
    }

    /// Settings that must not be saved, each with what to do: Zoho Sales Orders and Zoho
    /// Invoices both becoming QuickBooks invoices would bill a sale entered as both twice.
    pub fn conflicts(&self) -> Vec<String> {
        let writes_invoices = |pair: ModulePair| {
            pair.qbo_entity(self.sales_orders) == QboEntity::Invoice
                && self.get(pair).includes(Flow::ZohoToQbo)
        };
        if writes_invoices(ModulePair::SalesOrders) && writes_invoices(ModulePair::InvoicesInvoices)
        {
            vec![
                "Sales Orders and Invoices would both create QuickBooks invoices, so a sale entered in Zoho CRM as an order and an invoice would be billed twice. Send Sales Orders to QuickBooks Estimates, or switch one of the two off."
                    .to_owned(),
            ]
        } else {
            Vec::new()
        }
    }

    /// QBO → Zoho: which pair a changed QBO record belongs to. Customers go to
    /// Accounts unless only Contacts ↔ Customers is on; invoices go to Invoices
    /// unless only Sales Orders → Invoice is on. `None` when no enabled pair
    /// reads that entity from QBO.
    pub fn pair_for_qbo_entity(&self, entity: QboEntity) -> Option<ModulePair> {
        // Preference order when two pairs share an entity: the dedicated pair wins.
        const PREFERENCE: [ModulePair; 8] = [
            ModulePair::AccountsCustomers,
            ModulePair::ContactsCustomers,
            ModulePair::ProductsItems,
            ModulePair::VendorsVendors,
            ModulePair::QuotesEstimates,
            ModulePair::InvoicesInvoices,
            ModulePair::SalesOrders,
            ModulePair::PurchaseOrders,
        ];
        PREFERENCE.into_iter().find(|p| {
            p.qbo_entity(self.sales_orders) == entity && self.get(*p).includes(Flow::QboToZoho)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        let mut keys: Vec<&str> = ModulePair::ALL.iter().map(|p| p.key()).collect();
        for pair in ModulePair::ALL {
            assert_eq!(ModulePair::from_key(pair.key()), Ok(pair));
            assert_eq!(pair.key().parse::<ModulePair>(), Ok(pair));
        }
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ModulePair::ALL.len());
        assert_eq!(
            ModulePair::from_key("leads_customers"),
            Err(UnknownPair("leads_customers".into()))
        );
    }

    #[test]
    fn pair_serialises_as_its_key_and_can_key_a_json_map() {
        let json = serde_json::to_string(&ModulePair::SalesOrders).unwrap();
        assert_eq!(json, "\"sales_orders\"");
        let back: ModulePair = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ModulePair::SalesOrders);
        assert!(serde_json::from_str::<ModulePair>("\"nope\"").is_err());

        let mut dirs = SyncDirections::default();
        dirs.set(ModulePair::QuotesEstimates, Direction::Bidirectional);
        let json = serde_json::to_value(&dirs).unwrap();
        assert_eq!(json["directions"]["quotes_estimates"], "bidirectional");
        let back: SyncDirections = serde_json::from_value(json).unwrap();
        assert_eq!(back, dirs);
    }

    #[test]
    fn essentials_come_first_and_are_the_only_essentials() {
        let essentials: Vec<_> = ModulePair::ALL
            .into_iter()
            .filter(|p| p.is_essential())
            .collect();
        assert_eq!(
            essentials,
            vec![ModulePair::AccountsCustomers, ModulePair::ProductsItems]
        );
        assert_eq!(&ModulePair::ALL[..2], essentials.as_slice());
    }

    #[test]
    fn pair_modules_and_entities() {
        assert_eq!(
            ModulePair::AccountsCustomers.zoho_module().api_name(),
            "Accounts"
        );
        assert_eq!(
            ModulePair::SalesOrders.zoho_module().api_name(),
            "Sales_Orders"
        );
        assert_eq!(
            ModulePair::SalesOrders.qbo_entity(SalesOrderTarget::Invoice),
            QboEntity::Invoice
        );
        assert_eq!(
            ModulePair::SalesOrders.qbo_entity(SalesOrderTarget::Estimate),
            QboEntity::Estimate
        );
        assert_eq!(
            ModulePair::ContactsCustomers.qbo_entity(SalesOrderTarget::default()),
            QboEntity::Customer
        );
        assert_eq!(
            ModulePair::for_zoho_lookup("Contacts"),
            Some(ModulePair::ContactsCustomers)
        );
        assert_eq!(ModulePair::for_zoho_lookup("Deals"), None);
        assert!(ModulePair::InvoicesInvoices.has_line_items());
        assert!(!ModulePair::VendorsVendors.has_line_items());
        assert_eq!(
            ZohoModule::PurchaseOrders.line_items_key(),
            Some("Purchase_Items")
        );
        assert_eq!(
            ZohoModule::from_api_name("Purchase_Orders"),
            Some(ZohoModule::PurchaseOrders)
        );
        assert_eq!(
            QboEntity::from_name("PurchaseOrder"),
            Some(QboEntity::PurchaseOrder)
        );
        assert_eq!(
            serde_json::to_string(&ZohoModule::SalesOrders).unwrap(),
            "\"Sales_Orders\""
        );
    }

    #[test]
    fn defaults_follow_spec() {
        let dirs = SyncDirections::default();
        assert_eq!(
            dirs.get(ModulePair::AccountsCustomers),
            Direction::Bidirectional
        );
        assert_eq!(
            dirs.get(ModulePair::ProductsItems),
            Direction::Bidirectional
        );
        // Nothing that writes transactions is on until the user turns it on.
        for pair in ModulePair::ALL.into_iter().filter(|p| !p.is_essential()) {
            assert_eq!(dirs.get(pair), Direction::Disabled, "{pair:?}");
        }
        assert_eq!(
            ModulePair::InvoicesInvoices.suggested_direction(),
            Direction::ZohoToQbo
        );
        assert_eq!(dirs.get(ModulePair::ContactsCustomers), Direction::Disabled);
        assert!(dirs.conflicts().is_empty());
        assert!(
            !dirs
                .enabled_pairs()
                .contains(&ModulePair::ContactsCustomers)
        );
        assert!(dirs.warnings().is_empty());
    }

    #[test]
    fn sales_orders_and_invoices_never_both_become_qbo_invoices() {
        let mut dirs = SyncDirections::default();
        dirs.set(
            ModulePair::SalesOrders,
            ModulePair::SalesOrders.suggested_direction(),
        );
        dirs.set(
            ModulePair::InvoicesInvoices,
            ModulePair::InvoicesInvoices.suggested_direction(),
        );
        assert_eq!(dirs.conflicts().len(), 1);
        assert!(dirs.conflicts()[0].contains("billed twice"));
        dirs.sales_orders = SalesOrderTarget::Estimate;
        assert!(dirs.conflicts().is_empty());
        dirs.sales_orders = SalesOrderTarget::Invoice;
        dirs.set(ModulePair::InvoicesInvoices, Direction::QboToZoho);
        assert!(dirs.conflicts().is_empty(), "QBO → Zoho writes no invoice");
    }

    #[test]
    fn direction_flows() {
        assert_eq!(Direction::Bidirectional.flows(), Flow::ALL.to_vec());
        assert_eq!(Direction::ZohoToQbo.flows(), vec![Flow::ZohoToQbo]);
        assert_eq!(Direction::QboToZoho.flows(), vec![Flow::QboToZoho]);
        assert!(Direction::Disabled.flows().is_empty());
        assert!(Direction::QboToZoho.writes_to(System::Zoho));
        assert!(!Direction::QboToZoho.writes_to(System::Qbo));
        for d in Direction::ALL {
            assert_eq!(Direction::from_key(d.key()), Some(d));
        }
        assert_eq!(Flow::QboToZoho.source(), System::Qbo);
        assert_eq!(Flow::QboToZoho.target(), System::Zoho);
    }

    #[test]
    fn disabling_an_essential_pair_warns() {
        let mut dirs = SyncDirections::default();
        dirs.set(ModulePair::ProductsItems, Direction::Disabled);
        let warnings = dirs.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("Products ↔ Items is disabled"));
        dirs.set(ModulePair::QuotesEstimates, Direction::Disabled);
        assert_eq!(dirs.warnings().len(), 1, "transactional pairs do not warn");
    }

    #[test]
    fn qbo_entity_routes_to_the_right_pair() {
        let mut dirs = SyncDirections::default();
        // Invoices ↔ Invoice defaults to Zoho → QBO only: nothing reads QBO invoices.
        assert_eq!(dirs.pair_for_qbo_entity(QboEntity::Invoice), None);
        assert_eq!(
            dirs.pair_for_qbo_entity(QboEntity::Customer),
            Some(ModulePair::AccountsCustomers)
        );
        dirs.set(ModulePair::SalesOrders, Direction::Bidirectional);
        assert_eq!(
            dirs.pair_for_qbo_entity(QboEntity::Invoice),
            Some(ModulePair::SalesOrders)
        );
        dirs.set(ModulePair::InvoicesInvoices, Direction::QboToZoho);
        assert_eq!(
            dirs.pair_for_qbo_entity(QboEntity::Invoice),
            Some(ModulePair::InvoicesInvoices)
        );
        dirs.sales_orders = SalesOrderTarget::Estimate;
        // Quotes ↔ Estimates is Zoho → QBO only, so QBO estimates go to Sales Orders.
        assert_eq!(
            dirs.pair_for_qbo_entity(QboEntity::Estimate),
            Some(ModulePair::SalesOrders)
        );
        dirs.set(ModulePair::QuotesEstimates, Direction::Bidirectional);
        assert_eq!(
            dirs.pair_for_qbo_entity(QboEntity::Estimate),
            Some(ModulePair::QuotesEstimates)
        );
    }
}
