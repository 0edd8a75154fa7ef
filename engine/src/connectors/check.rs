//! The connection check shown on the Connections and QuickBooks Online pages: a checklist of
//! what zqsync needs from each side, each red line with a hint saying how to fix it.

use domain::log::Notice;

use super::ConnectorError;
use super::qbo::{LegacyCustomField, QboClient};
use super::zoho::{PageCursor, ZohoClient};

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub label: String,
    pub ok: bool,
    /// What was found (company name, currency, missing modules, …).
    pub detail: String,
    /// How to fix a red line.
    pub fix: Option<String>,
}

fn line(label: &str, ok: bool, detail: String, fix: &str) -> CheckLine {
    CheckLine {
        label: label.to_owned(),
        ok,
        detail,
        fix: (!ok).then(|| fix.to_owned()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QboCheck {
    pub company_name: String,
    pub country: Option<String>,
    pub home_currency: Option<String>,
    pub offering_sku: Option<String>,
    pub tracks_inventory: bool,
    pub custom_fields: Vec<LegacyCustomField>,
    pub lines: Vec<CheckLine>,
}

/// Inventory items and purchase orders need QuickBooks Online Plus or Advanced.
fn sku_has_inventory(sku: &str) -> bool {
    let sku = sku.to_ascii_lowercase();
    sku.contains("plus") || sku.contains("advanced")
}

/// CompanyInfo (the "Verify" step) and Preferences.
pub async fn check_qbo(client: &QboClient) -> Result<QboCheck, ConnectorError> {
    let company = client.company_info().await?;
    let preferences = client.preferences().await?;
    let sku_ok = company
        .offering_sku
        .as_deref()
        .is_none_or(sku_has_inventory);
    let lines = vec![
        line(
            "Connected to a QuickBooks company",
            true,
            company.company_name.clone(),
            "",
        ),
        line(
            "Plan includes inventory and purchase orders",
            sku_ok,
            company
                .offering_sku
                .clone()
                .unwrap_or_else(|| "plan not reported".to_owned()),
            "Inventory items and purchase orders need QuickBooks Online Plus or Advanced. Upgrade the QuickBooks plan, or leave Products and Purchase Orders switched off.",
        ),
        line(
            "Inventory tracking is on",
            preferences.tracks_quantity_on_hand,
            if preferences.tracks_quantity_on_hand {
                "on"
            } else {
                "off"
            }
            .to_owned(),
            "In QuickBooks open Settings → Account and settings → Sales and turn on \"Track inventory quantity on hand\", then run the check again.",
        ),
        line(
            "Home currency",
            preferences.home_currency.is_some(),
            preferences
                .home_currency
                .clone()
                .unwrap_or_else(|| "not reported".to_owned()),
            "QuickBooks did not report a home currency. Open Settings → Account and settings → Advanced → Currency in QuickBooks and save it once, then run the check again.",
        ),
    ];
    Ok(QboCheck {
        company_name: company.company_name,
        country: company.country,
        home_currency: preferences.home_currency,
        offering_sku: company.offering_sku,
        tracks_inventory: preferences.tracks_quantity_on_hand,
        custom_fields: preferences.custom_fields,
        lines,
    })
}

/// The Zoho modules the module pairs use besides Accounts/Contacts.
pub const ZOHO_INVENTORY_MODULES: &[&str] = &[
    "Products",
    "Quotes",
    "Sales_Orders",
    "Invoices",
    "Purchase_Orders",
    "Vendors",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZohoCheck {
    pub modules: Vec<String>,
    pub has_products: bool,
    pub missing_modules: Vec<String>,
    pub lines: Vec<CheckLine>,
}

/// Modules (edition), field metadata and record access (the scopes granted).
pub async fn check_zoho(client: &ZohoClient) -> Result<ZohoCheck, ConnectorError> {
    let modules: Vec<String> = client
        .modules()
        .await?
        .into_iter()
        .filter(|m| m.api_supported)
        .map(|m| m.api_name)
        .collect();
    let missing: Vec<String> = ZOHO_INVENTORY_MODULES
        .iter()
        .filter(|name| !modules.iter().any(|m| m == *name))
        .map(|name| (*name).to_owned())
        .collect();
    let has_products = modules.iter().any(|m| m == "Products");
    // A missing scope shows as a refusal here; anything else is a real error for the caller.
    let fields = match client.fields("Accounts").await {
        Ok(fields) => Ok(fields.len()),
        Err(ConnectorError::NeedsReconnect { remote }) => Err(remote.raw.clone()),
        Err(other) => return Err(other),
    };
    let records = match client
        .list_page("Accounts", &["Account_Name"], None, &PageCursor::Page(1))
        .await
    {
        Ok(_) => Ok(()),
        Err(ConnectorError::NeedsReconnect { remote }) => Err(remote.raw.clone()),
        Err(other) => return Err(other),
    };
    let reconnect =
        "Reconnect Zoho CRM in Settings → Connections and accept every permission zqsync asks for.";
    let lines = vec![
        line(
            "Products module available",
            has_products,
            if has_products { "present" } else { "missing" }.to_owned(),
            Notice::ZohoWithoutProducts.message(),
        ),
        line(
            "Quotes, orders, invoices, purchase orders and vendors",
            missing.is_empty(),
            if missing.is_empty() {
                "all present".to_owned()
            } else {
                format!("missing: {}", missing.join(", "))
            },
            "Your Zoho CRM edition lacks these modules, so their module pairs cannot sync. Upgrade Zoho CRM, or leave those pairs switched off.",
        ),
        line(
            "Permission to read field settings",
            fields.is_ok(),
            match &fields {
                Ok(count) => format!("{count} Account fields"),
                Err(_) => "refused".to_owned(),
            },
            reconnect,
        ),
        line(
            "Permission to read and write records",
            records.is_ok(),
            if records.is_ok() {
                "granted"
            } else {
                "refused"
            }
            .to_owned(),
            reconnect,
        ),
    ];
    Ok(ZohoCheck {
        modules,
        has_products,
        missing_modules: missing,
        lines,
    })
}
