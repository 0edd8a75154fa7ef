//! QuickBooks Online's standard fields, as data: QBO has no field metadata API, so each
//! entity's fields (type, whether a create needs it, what it refers to) are written here.

#[allow(clippy::wildcard_imports)] // the catalogue's types
use super::*;
use DataType as T;
use Requirement::{FromSettings, Optional, Required};
/// (path, label, type, requirement, reference, choices)
type QboSpec = (
    &'static str,
    &'static str,
    DataType,
    Requirement,
    Option<RefKind>,
    &'static [&'static str],
);

const fn f(path: &'static str, label: &'static str, data_type: DataType) -> QboSpec {
    (path, label, data_type, Optional, None, &[])
}

const fn req(path: &'static str, label: &'static str, data_type: DataType) -> QboSpec {
    (path, label, data_type, Required, None, &[])
}

const fn reference(
    path: &'static str,
    label: &'static str,
    kind: RefKind,
    requirement: Requirement,
) -> QboSpec {
    (path, label, T::Reference, requirement, Some(kind), &[])
}

const BILL_ADDR: &[QboSpec] = &[
    f("BillAddr.Line1", "Billing street", T::Text),
    f("BillAddr.Line2", "Billing street line 2", T::Text),
    f("BillAddr.City", "Billing city", T::Text),
    f("BillAddr.CountrySubDivisionCode", "Billing state", T::Text),
    f("BillAddr.PostalCode", "Billing postal code", T::Text),
    f("BillAddr.Country", "Billing country", T::Text),
];

const SHIP_ADDR: &[QboSpec] = &[
    f("ShipAddr.Line1", "Shipping street", T::Text),
    f("ShipAddr.Line2", "Shipping street line 2", T::Text),
    f("ShipAddr.City", "Shipping city", T::Text),
    f("ShipAddr.CountrySubDivisionCode", "Shipping state", T::Text),
    f("ShipAddr.PostalCode", "Shipping postal code", T::Text),
    f("ShipAddr.Country", "Shipping country", T::Text),
];

const CUSTOMER: &[QboSpec] = &[
    req("DisplayName", "Display name", T::Text),
    f("CompanyName", "Company name", T::Text),
    f("Title", "Title", T::Text),
    f("GivenName", "First name", T::Text),
    f("MiddleName", "Middle name", T::Text),
    f("FamilyName", "Last name", T::Text),
    f("Suffix", "Suffix", T::Text),
    f("PrintOnCheckName", "Print on check as", T::Text),
    f("PrimaryEmailAddr.Address", "Email", T::Email),
    f("PrimaryPhone.FreeFormNumber", "Phone", T::Phone),
    f("Mobile.FreeFormNumber", "Mobile", T::Phone),
    f("Fax.FreeFormNumber", "Fax", T::Phone),
    f("AlternatePhone.FreeFormNumber", "Other phone", T::Phone),
    f("WebAddr.URI", "Website", T::Url),
    f("Notes", "Notes", T::TextArea),
    f("Taxable", "Taxable", T::Boolean),
    f("ResaleNum", "Resale number", T::Text),
    f("Active", "Active", T::Boolean),
    reference("SalesTermRef", "Terms", RefKind::Term, Optional),
    (
        "PreferredDeliveryMethod",
        "Preferred delivery",
        T::Picklist,
        Optional,
        None,
        &["Print", "Email", "None"],
    ),
];

const ITEM: &[QboSpec] = &[
    req("Name", "Name", T::Text),
    f("Sku", "SKU", T::Text),
    f("Description", "Sales description", T::TextArea),
    f("PurchaseDesc", "Purchase description", T::TextArea),
    f("UnitPrice", "Sales price", T::Currency),
    f("PurchaseCost", "Cost", T::Currency),
    f("QtyOnHand", "Quantity on hand", T::Decimal),
    f("ReorderPoint", "Reorder point", T::Decimal),
    f("Taxable", "Taxable", T::Boolean),
    f("Active", "Active", T::Boolean),
    (
        "Type",
        "Type",
        T::Picklist,
        FromSettings,
        None,
        &["Inventory", "NonInventory", "Service"],
    ),
    (
        "TrackQtyOnHand",
        "Track quantity",
        T::Boolean,
        FromSettings,
        None,
        &[],
    ),
    (
        "InvStartDate",
        "Inventory start date",
        T::Date,
        FromSettings,
        None,
        &[],
    ),
    reference(
        "IncomeAccountRef",
        "Income account",
        RefKind::Account,
        FromSettings,
    ),
    reference(
        "ExpenseAccountRef",
        "Expense account (COGS)",
        RefKind::Account,
        FromSettings,
    ),
    reference(
        "AssetAccountRef",
        "Inventory asset account",
        RefKind::Account,
        FromSettings,
    ),
];

const SALES_TXN_HEAD: &[QboSpec] = &[
    reference("CustomerRef", "Customer", RefKind::Customer, Required),
    f("DocNumber", "Number", T::Text),
    f("TxnDate", "Date", T::Date),
    f("PrivateNote", "Memo (internal)", T::TextArea),
    f("CustomerMemo.value", "Message to customer", T::TextArea),
    f("BillEmail.Address", "Billing email", T::Email),
    f("ShipDate", "Ship date", T::Date),
    f("TrackingNum", "Tracking number", T::Text),
    reference("SalesTermRef", "Terms", RefKind::Term, Optional),
];

const INVOICE_ONLY: &[QboSpec] = &[f("DueDate", "Due date", T::Date)];

const ESTIMATE_ONLY: &[QboSpec] = &[
    f("ExpirationDate", "Expiration date", T::Date),
    (
        "TxnStatus",
        "Status",
        T::Picklist,
        Optional,
        None,
        &["Pending", "Accepted", "Closed", "Rejected"],
    ),
];

const VENDOR: &[QboSpec] = &[
    req("DisplayName", "Display name", T::Text),
    f("CompanyName", "Company name", T::Text),
    f("GivenName", "First name", T::Text),
    f("FamilyName", "Last name", T::Text),
    f("PrintOnCheckName", "Print on check as", T::Text),
    f("PrimaryEmailAddr.Address", "Email", T::Email),
    f("PrimaryPhone.FreeFormNumber", "Phone", T::Phone),
    f("Mobile.FreeFormNumber", "Mobile", T::Phone),
    f("WebAddr.URI", "Website", T::Url),
    f("AcctNum", "Account number", T::Text),
    f("Vendor1099", "Track payments for 1099", T::Boolean),
    f("Active", "Active", T::Boolean),
    reference("TermRef", "Terms", RefKind::Term, Optional),
];

const PURCHASE_ORDER: &[QboSpec] = &[
    reference("VendorRef", "Vendor", RefKind::Vendor, Required),
    f("DocNumber", "Number", T::Text),
    f("TxnDate", "Date", T::Date),
    f("DueDate", "Due date", T::Date),
    f("Memo", "Message to vendor", T::TextArea),
    f("PrivateNote", "Memo (internal)", T::TextArea),
    f("POEmail.Address", "Vendor email", T::Email),
    (
        "POStatus",
        "Status",
        T::Picklist,
        Optional,
        None,
        &["Open", "Closed"],
    ),
    reference("APAccountRef", "A/P account", RefKind::Account, Optional),
];

fn qbo_field_from_spec(spec: &QboSpec) -> QboField {
    let (path, label, data_type, requirement, reference, choices) = *spec;
    QboField {
        path: path.to_owned(),
        label: label.to_owned(),
        data_type,
        requirement,
        reference,
        source: FieldSource::Standard,
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        max_length: match path {
            "DisplayName" | "Name" => Some(100),
            "DocNumber" => Some(21),
            _ => None,
        },
    }
}

/// The standard QBO fields of `entity` a mapping may write (read-only fields such
/// as `Balance` and the `Line` array — handled by the line-item rules — excluded).
pub fn qbo_standard_fields(entity: QboEntity) -> Vec<QboField> {
    let parts: Vec<&[QboSpec]> = match entity {
        QboEntity::Customer => vec![CUSTOMER, BILL_ADDR, SHIP_ADDR],
        QboEntity::Item => vec![ITEM],
        QboEntity::Invoice => vec![SALES_TXN_HEAD, INVOICE_ONLY, BILL_ADDR, SHIP_ADDR],
        QboEntity::Estimate => vec![SALES_TXN_HEAD, ESTIMATE_ONLY, BILL_ADDR, SHIP_ADDR],
        QboEntity::Vendor => vec![VENDOR, BILL_ADDR],
        QboEntity::PurchaseOrder => vec![PURCHASE_ORDER, SHIP_ADDR],
    };
    parts
        .into_iter()
        .flat_map(|part| part.iter().map(qbo_field_from_spec))
        .collect()
}
