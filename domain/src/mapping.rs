//! Field mappings: which Zoho field (or fixed value) fills each QBO field.
//!
//! A mapping is the heart of the QuickBooks Mapping page and of every write
//! the engine makes. This module holds the mapping type, the built-in default
//! mapping of every pair ("Reset Default Mapping"), the validation the Submit
//! button runs (SPEC §4), and the pure transformation of a record from one
//! side into the payload for the other — including nested QBO paths, static
//! values, value maps, text transforms, combined fields and line items. References to other records (customer, vendor,
//! line-item products, terms) are left as the source system's ids and listed
//! as [`PendingReference`]s; the engine resolves them through its links, so
//! this crate stays free of IO and the browser can preview a mapping exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::fields::{
    DataType, FieldCatalogue, FieldSource, QboField, RefKind, Requirement, TypeFamily, ZohoField,
    find_qbo, find_zoho,
};
use crate::filters::FilterSet;
use crate::pairs::{Direction, ModulePair, QboEntity, SalesOrderTarget, System};
use crate::record::{
    DateValue, as_number, display_text, fingerprint_with, get_path, is_empty, parse_bool,
    parse_number, set_path, write_canonical_masked, write_json_string,
};

/// Where a QBO field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MappingSource {
    /// A Zoho field, by API name. Copied both ways.
    Zoho { field: String },
    /// A fixed value written on every Zoho → QBO write; never written to Zoho.
    Static { value: String },
    /// Several Zoho fields joined (e.g. First_Name + " " + Last_Name); empty
    /// ones are skipped. Zoho → QBO only: a joined value cannot be split back.
    Combine {
        fields: Vec<String>,
        separator: String,
    },
}

/// A text change applied to a value on its way Zoho → QBO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    Trim,
    Upper,
    Lower,
}

impl Transform {
    pub fn apply(self, text: &str) -> String {
        match self {
            Transform::Trim => text.trim().to_owned(),
            Transform::Upper => text.to_uppercase(),
            Transform::Lower => text.to_lowercase(),
        }
    }
}

/// One translation of a value: Zoho's `zoho` is written to QBO as `qbo` and
/// back (e.g. the Zoho pick-list value "Net 30" ↔ the QBO Term id "3").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ValueMapEntry {
    pub zoho: String,
    pub qbo: String,
}

/// One row of the mapping table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldMapping {
    pub qbo_field: String,
    #[serde(flatten)]
    pub source: MappingSource,
    /// Applied in order to text values going Zoho → QBO (not to values the
    /// value map translated, which are written exactly as entered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
    /// Value translations, both ways; values without an entry pass unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_map: Vec<ValueMapEntry>,
}

impl FieldMapping {
    pub fn new(qbo_field: &str, source: MappingSource) -> FieldMapping {
        FieldMapping {
            qbo_field: qbo_field.to_owned(),
            source,
            transforms: Vec::new(),
            value_map: Vec::new(),
        }
    }

    pub fn zoho(qbo_field: &str, zoho_field: &str) -> FieldMapping {
        FieldMapping::new(
            qbo_field,
            MappingSource::Zoho {
                field: zoho_field.to_owned(),
            },
        )
    }

    pub fn fixed(qbo_field: &str, value: &str) -> FieldMapping {
        FieldMapping::new(
            qbo_field,
            MappingSource::Static {
                value: value.to_owned(),
            },
        )
    }

    /// The Zoho field copied both ways, if the source is a single Zoho field.
    pub fn zoho_field(&self) -> Option<&str> {
        match &self.source {
            MappingSource::Zoho { field } => Some(field),
            MappingSource::Static { .. } | MappingSource::Combine { .. } => None,
        }
    }

    /// The QBO value a Zoho value translates to, if the value map has it
    /// (matched case-insensitively, ignoring surrounding blanks).
    pub fn map_to_qbo(&self, zoho_value: &str) -> Option<&str> {
        let key = zoho_value.trim();
        self.value_map
            .iter()
            .find(|e| e.zoho.trim().eq_ignore_ascii_case(key))
            .map(|e| e.qbo.as_str())
    }

    /// The Zoho value a QBO value translates back to, if the value map has it.
    pub fn map_to_zoho(&self, qbo_value: &str) -> Option<&str> {
        let key = qbo_value.trim();
        self.value_map
            .iter()
            .find(|e| e.qbo.trim().eq_ignore_ascii_case(key))
            .map(|e| e.zoho.as_str())
    }

    fn transform(&self, text: &str) -> String {
        self.transforms
            .iter()
            .fold(text.to_owned(), |acc, t| t.apply(&acc))
    }
}

/// The mapping of one module pair.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Mapping {
    pub fields: Vec<FieldMapping>,
}

impl Mapping {
    pub fn new(fields: Vec<FieldMapping>) -> Mapping {
        Mapping { fields }
    }

    pub fn get(&self, qbo_field: &str) -> Option<&MappingSource> {
        self.fields
            .iter()
            .find(|m| m.qbo_field == qbo_field)
            .map(|m| &m.source)
    }

    /// The whole row of `qbo_field`.
    pub fn row(&self, qbo_field: &str) -> Option<&FieldMapping> {
        self.fields.iter().find(|m| m.qbo_field == qbo_field)
    }

    /// Maps `qbo_field`, replacing any earlier source for it (transforms and
    /// value map of the row are kept).
    pub fn set(&mut self, qbo_field: &str, source: MappingSource) {
        match self.fields.iter_mut().find(|m| m.qbo_field == qbo_field) {
            Some(existing) => existing.source = source,
            None => self.fields.push(FieldMapping::new(qbo_field, source)),
        }
    }

    /// The X next to a mapping: forget `qbo_field`'s source.
    pub fn clear(&mut self, qbo_field: &str) {
        self.fields.retain(|m| m.qbo_field != qbo_field);
    }
}

// ---------------------------------------------------------------------------
// Defaults

const ADDRESS_PARTS: [&str; 5] = [
    "Line1",
    "City",
    "CountrySubDivisionCode",
    "PostalCode",
    "Country",
];

fn address(qbo_prefix: &str, zoho: [&str; 5]) -> Vec<FieldMapping> {
    ADDRESS_PARTS
        .iter()
        .zip(zoho)
        .map(|(part, z)| FieldMapping::zoho(&format!("{qbo_prefix}.{part}"), z))
        .collect()
}

const BILLING: [&str; 5] = [
    "Billing_Street",
    "Billing_City",
    "Billing_State",
    "Billing_Code",
    "Billing_Country",
];
const SHIPPING: [&str; 5] = [
    "Shipping_Street",
    "Shipping_City",
    "Shipping_State",
    "Shipping_Code",
    "Shipping_Country",
];

/// The built-in mapping of `pair` ("Reset Default Mapping"). Sales Orders map
/// to whichever QBO entity the tenant chose.
pub fn default_mapping(pair: ModulePair, sales_orders: SalesOrderTarget) -> Mapping {
    let m = FieldMapping::zoho;
    let mut fields = match pair {
        ModulePair::AccountsCustomers => {
            let mut f = vec![
                m("DisplayName", "Account_Name"),
                m("PrimaryPhone.FreeFormNumber", "Phone"),
                m("Fax.FreeFormNumber", "Fax"),
                m("WebAddr.URI", "Website"),
                m("Notes", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::ContactsCustomers => {
            let mut f = vec![
                m("DisplayName", "Full_Name"),
                m("GivenName", "First_Name"),
                m("FamilyName", "Last_Name"),
                m("PrimaryEmailAddr.Address", "Email"),
                m("PrimaryPhone.FreeFormNumber", "Phone"),
                m("Mobile.FreeFormNumber", "Mobile"),
                m("Fax.FreeFormNumber", "Fax"),
                m("Notes", "Description"),
            ];
            f.extend(address(
                "BillAddr",
                [
                    "Mailing_Street",
                    "Mailing_City",
                    "Mailing_State",
                    "Mailing_Zip",
                    "Mailing_Country",
                ],
            ));
            f
        }
        ModulePair::ProductsItems => vec![
            m("Name", "Product_Name"),
            m("Sku", "Product_Code"),
            m("Description", "Description"),
            m("UnitPrice", "Unit_Price"),
            m("QtyOnHand", "Qty_in_Stock"),
            m("ReorderPoint", "Reorder_Level"),
            m("Taxable", "Taxable"),
            m("Active", "Product_Active"),
        ],
        ModulePair::QuotesEstimates => {
            let mut f = vec![
                m("CustomerRef", "Account_Name"),
                m("ExpirationDate", "Valid_Till"),
                m("CustomerMemo.value", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::SalesOrders => {
            let due = match sales_orders {
                SalesOrderTarget::Invoice => "DueDate",
                SalesOrderTarget::Estimate => "ExpirationDate",
            };
            let mut f = vec![
                m("CustomerRef", "Account_Name"),
                m(due, "Due_Date"),
                m("CustomerMemo.value", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::InvoicesInvoices => {
            let mut f = vec![
                m("CustomerRef", "Account_Name"),
                m("TxnDate", "Invoice_Date"),
                m("DueDate", "Due_Date"),
                m("CustomerMemo.value", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("BillAddr", BILLING));
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
        ModulePair::VendorsVendors => {
            let mut f = vec![
                m("DisplayName", "Vendor_Name"),
                m("PrimaryEmailAddr.Address", "Email"),
                m("PrimaryPhone.FreeFormNumber", "Phone"),
                m("WebAddr.URI", "Website"),
            ];
            f.extend(address(
                "BillAddr",
                ["Street", "City", "State", "Zip_Code", "Country"],
            ));
            f
        }
        ModulePair::PurchaseOrders => {
            let mut f = vec![
                m("VendorRef", "Vendor_Name"),
                m("DocNumber", "PO_Number"),
                m("TxnDate", "PO_Date"),
                m("DueDate", "Due_Date"),
                m("Memo", "Terms_and_Conditions"),
                m("PrivateNote", "Description"),
            ];
            f.extend(address("ShipAddr", SHIPPING));
            f
        }
    };
    fields.shrink_to_fit();
    Mapping { fields }
}

// ---------------------------------------------------------------------------
// Validation

/// What a validation finding is about, for the UI to pick an icon or a test to assert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    UnknownQboField,
    UnknownZohoField,
    DuplicateQboField,
    RequiredQboFieldMissing,
    RequiredZohoFieldMissing,
    EmptyStaticValue,
    InvalidStaticValue,
    IncompatibleTypes,
    TypeMismatch,
    PicklistValues,
    ReferenceMismatch,
    ReadOnlyZohoField,
    ZohoFieldMappedTwice,
    InvalidValueMap,
    InvalidCombination,
    NotCopiedBack,
}

/// One finding of [`validate`]: shown next to `qbo_field` (or `zoho_field`
/// when the finding is about a Zoho field nothing maps to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingIssue {
    pub code: IssueCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qbo_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoho_field: Option<String>,
    pub message: String,
}

/// Errors block saving; warnings are shown but the mapping is saved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ValidationReport {
    pub errors: Vec<MappingIssue>,
    pub warnings: Vec<MappingIssue>,
}

impl ValidationReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Findings about one QBO field, errors first.
    pub fn for_qbo_field(&self, qbo_field: &str) -> Vec<&MappingIssue> {
        self.errors
            .iter()
            .chain(&self.warnings)
            .filter(|i| i.qbo_field.as_deref() == Some(qbo_field))
            .collect()
    }

    fn error(&mut self, code: IssueCode, qbo: Option<&str>, zoho: Option<&str>, message: String) {
        self.errors.push(issue(code, qbo, zoho, message));
    }

    fn warn(&mut self, code: IssueCode, qbo: Option<&str>, zoho: Option<&str>, message: String) {
        self.warnings.push(issue(code, qbo, zoho, message));
    }
}

fn issue(code: IssueCode, qbo: Option<&str>, zoho: Option<&str>, message: String) -> MappingIssue {
    MappingIssue {
        code,
        qbo_field: qbo.map(str::to_owned),
        zoho_field: zoho.map(str::to_owned),
        message,
    }
}

/// Checks a mapping before it is saved (SPEC §4) against the pair's mappable
/// fields (standard + custom). `direction` decides which side's requirements
/// apply (Disabled is checked as if bi-directional, so a mapping saved while
/// off is ready when turned on).
pub fn validate(
    mapping: &Mapping,
    catalogue: &FieldCatalogue,
    direction: Direction,
) -> ValidationReport {
    let qbo_entity = catalogue.qbo_entity;
    let qbo_fields = catalogue.qbo.as_slice();
    let zoho_fields = catalogue.zoho.as_slice();
    let writes_qbo = direction != Direction::QboToZoho;
    let writes_zoho = direction != Direction::ZohoToQbo;
    let mut report = ValidationReport::default();
    let mut seen_qbo = BTreeSet::new();
    let mut zoho_sources: BTreeMap<&str, Vec<&str>> = BTreeMap::new();

    for row in &mapping.fields {
        let path = row.qbo_field.as_str();
        if !seen_qbo.insert(path) {
            report.error(
                IssueCode::DuplicateQboField,
                Some(path),
                None,
                format!("{path} is mapped more than once; keep one Zoho field or static value per QuickBooks field."),
            );
            continue;
        }
        let Some(qbo) = find_qbo(qbo_fields, path) else {
            report.error(
                IssueCode::UnknownQboField,
                Some(path),
                None,
                format!("QuickBooks {} has no field {path}. Click Sync Mappable Fields to refresh the field list.", qbo_entity.label()),
            );
            continue;
        };
        match &row.source {
            MappingSource::Static { value } => validate_static(&mut report, qbo, value),
            MappingSource::Zoho { field } => {
                let Some(zoho) = find_zoho(zoho_fields, field) else {
                    report.error(
                        IssueCode::UnknownZohoField,
                        Some(path),
                        Some(field),
                        format!("Zoho has no field {field}. Click Sync Mappable Fields to refresh the field list, then choose another field."),
                    );
                    continue;
                };
                zoho_sources.entry(field).or_default().push(path);
                validate_pairing(&mut report, row, qbo, zoho, writes_zoho);
                validate_value_map(&mut report, row, qbo, zoho);
            }
            MappingSource::Combine { fields, .. } => {
                validate_combine(&mut report, qbo, fields, zoho_fields, writes_zoho);
            }
        }
        if !row.transforms.is_empty()
            && !matches!(
                (&row.source, qbo.data_type.family()),
                (MappingSource::Static { .. }, _) | (_, TypeFamily::Text | TypeFamily::Choice)
            )
        {
            report.error(
                IssueCode::IncompatibleTypes,
                Some(path),
                None,
                format!(
                    "Trim, upper case and lower case apply to text; {path} is {}.",
                    qbo.data_type.label().to_lowercase()
                ),
            );
        }
    }

    if writes_qbo {
        for qbo in qbo_fields
            .iter()
            .filter(|f| f.requirement == Requirement::Required)
        {
            if mapping.get(&qbo.path).is_none() {
                report.error(
                    IssueCode::RequiredQboFieldMissing,
                    Some(&qbo.path),
                    None,
                    format!(
                        "QuickBooks needs {} ({}) to create a {}: map a Zoho field to it or tick Static Field and enter a value.",
                        qbo.label,
                        qbo.path,
                        qbo_entity.label().to_lowercase()
                    ),
                );
            }
        }
    }

    if writes_zoho {
        for zoho in zoho_fields.iter().filter(|f| f.required && !f.read_only) {
            if !zoho_sources.contains_key(zoho.api_name.as_str()) {
                report.warn(
                    IssueCode::RequiredZohoFieldMissing,
                    None,
                    Some(&zoho.api_name),
                    format!(
                        "Zoho needs {} ({}) to create a record, but no QuickBooks field is mapped to it: records created in QuickBooks will fail to sync to Zoho.",
                        zoho.label, zoho.api_name
                    ),
                );
            }
        }
        for (zoho, paths) in &zoho_sources {
            if paths.len() > 1 {
                report.warn(
                    IssueCode::ZohoFieldMappedTwice,
                    Some(paths[0]),
                    Some(zoho),
                    format!(
                        "{zoho} fills {}; from QuickBooks to Zoho only {} is copied back.",
                        paths.join(", "),
                        paths[0]
                    ),
                );
            }
        }
    }
    report
}

fn validate_static(report: &mut ValidationReport, qbo: &QboField, value: &str) {
    let path = qbo.path.as_str();
    if value.trim().is_empty() {
        report.error(
            IssueCode::EmptyStaticValue,
            Some(path),
            None,
            format!("Enter a static value for {path}, or untick Static Field."),
        );
        return;
    }
    if let Err(problem) = convert_static(qbo, value) {
        report.error(IssueCode::InvalidStaticValue, Some(path), None, problem);
    }
}

fn validate_value_map(
    report: &mut ValidationReport,
    row: &FieldMapping,
    qbo: &QboField,
    zoho: &ZohoField,
) {
    let path = qbo.path.as_str();
    let mut seen = BTreeSet::new();
    for entry in &row.value_map {
        let (z, q) = (entry.zoho.trim(), entry.qbo.trim());
        if z.is_empty() || q.is_empty() {
            report.error(
                IssueCode::InvalidValueMap,
                Some(path),
                Some(&zoho.api_name),
                format!("Each value translation of {path} needs both a Zoho value and a QuickBooks value."),
            );
            continue;
        }
        if !seen.insert(z.to_lowercase()) {
            report.error(
                IssueCode::InvalidValueMap,
                Some(path),
                Some(&zoho.api_name),
                format!("The Zoho value \"{z}\" is translated twice for {path}; keep one."),
            );
        }
        if !qbo.choices.is_empty() && !qbo.choices.iter().any(|c| c.eq_ignore_ascii_case(q)) {
            report.error(
                IssueCode::InvalidValueMap,
                Some(path),
                Some(&zoho.api_name),
                format!(
                    "\"{q}\" is not allowed in {path}; QuickBooks accepts {}.",
                    qbo.choices.join(", ")
                ),
            );
        }
        if !zoho.picklist_values.is_empty()
            && !zoho
                .picklist_values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(z))
        {
            report.warn(
                IssueCode::PicklistValues,
                Some(path),
                Some(&zoho.api_name),
                format!(
                    "\"{z}\" is not one of {}'s values in Zoho, so this translation is never used.",
                    zoho.api_name
                ),
            );
        }
    }
}

fn validate_combine(
    report: &mut ValidationReport,
    qbo: &QboField,
    fields: &[String],
    zoho_fields: &[ZohoField],
    writes_zoho: bool,
) {
    let path = qbo.path.as_str();
    if fields.len() < 2 {
        report.error(
            IssueCode::InvalidCombination,
            Some(path),
            None,
            format!("Choose at least two Zoho fields to combine into {path}."),
        );
    }
    for name in fields {
        match find_zoho(zoho_fields, name) {
            None => report.error(
                IssueCode::UnknownZohoField,
                Some(path),
                Some(name),
                format!("Zoho has no field {name}. Click Sync Mappable Fields to refresh the field list, then choose another field."),
            ),
            Some(z) if matches!(z.data_type, DataType::Subform | DataType::Other) => report.error(
                IssueCode::IncompatibleTypes,
                Some(path),
                Some(name),
                format!("{name} ({}) cannot be combined into text.", z.data_type.label()),
            ),
            Some(_) => {}
        }
    }
    if !matches!(qbo.data_type.family(), TypeFamily::Text) || qbo.reference.is_some() {
        report.error(
            IssueCode::IncompatibleTypes,
            Some(path),
            None,
            format!(
                "Combined fields make text; {path} is {}.",
                qbo.data_type.label().to_lowercase()
            ),
        );
    }
    if writes_zoho {
        report.warn(
            IssueCode::NotCopiedBack,
            Some(path),
            None,
            format!("{path} combines several Zoho fields, so it is not copied back from QuickBooks to Zoho."),
        );
    }
}

fn validate_pairing(
    report: &mut ValidationReport,
    row: &FieldMapping,
    qbo: &QboField,
    zoho: &ZohoField,
    writes_zoho: bool,
) {
    let path = qbo.path.as_str();
    let name = zoho.api_name.as_str();
    let qf = qbo.data_type.family();
    let zf = zoho.data_type.family();

    if matches!(zoho.data_type, DataType::Subform | DataType::Other) {
        report.error(
            IssueCode::IncompatibleTypes,
            Some(path),
            Some(name),
            format!(
                "{name} ({}) cannot be mapped to a single QuickBooks field.",
                zoho.data_type.label()
            ),
        );
        return;
    }
    if let Some(kind) = qbo.reference {
        match (zoho.data_type, zoho.reference()) {
            (_, Some(zkind)) if zkind == kind => {}
            (DataType::Reference, _) => report.error(
                IssueCode::ReferenceMismatch,
                Some(path),
                Some(name),
                format!("{path} refers to a {}, but {name} looks up a different kind of record.", kind.label()),
            ),
            _ if kind.zoho_module().is_none() => {
                // Terms, tax codes…: Zoho has no such records; a name is looked up in QBO.
                if writes_zoho {
                    report.warn(
                        IssueCode::TypeMismatch,
                        Some(path),
                        Some(name),
                        format!("{path} is matched by name in QuickBooks; from QuickBooks to Zoho the {} name is written into {name}.", kind.label()),
                    );
                }
            }
            _ => report.error(
                IssueCode::ReferenceMismatch,
                Some(path),
                Some(name),
                format!(
                    "{path} refers to a {}: map it to a Zoho lookup of {} (for example Account_Name or Vendor_Name), not to {name}.",
                    kind.label(),
                    kind.zoho_module().map_or("that module", |m| m.api_name())
                ),
            ),
        }
        return;
    }

    match (zf, qf) {
        (a, b) if a == b => {}
        (TypeFamily::Choice, TypeFamily::Text) => {}
        (TypeFamily::Reference, TypeFamily::Text) => {
            if writes_zoho {
                report.warn(
                    IssueCode::NotCopiedBack,
                    Some(path),
                    Some(name),
                    format!("{name} is a lookup: the looked-up record's name is copied into {path}, but it is not written back from QuickBooks to Zoho."),
                );
            }
        }
        (TypeFamily::Number, TypeFamily::Text) => report.warn(
            IssueCode::TypeMismatch,
            Some(path),
            Some(name),
            format!("{name} is a number and {path} is text: numbers are copied as text, and text from QuickBooks that is not a number will be rejected by Zoho."),
        ),
        (TypeFamily::Text | TypeFamily::Choice, TypeFamily::Number) => report.warn(
            IssueCode::TypeMismatch,
            Some(path),
            Some(name),
            format!("{name} is text and {path} is a number: records whose {name} is not a number will fail to sync."),
        ),
        (TypeFamily::Text | TypeFamily::Choice, TypeFamily::Boolean | TypeFamily::Date | TypeFamily::Choice)
        | (TypeFamily::Boolean | TypeFamily::Date, TypeFamily::Text) => report.warn(
            IssueCode::TypeMismatch,
            Some(path),
            Some(name),
            format!(
                "{name} is {} and {path} is {}: values that do not fit will fail to sync.",
                zoho.data_type.label().to_lowercase(),
                qbo.data_type.label().to_lowercase()
            ),
        ),
        _ => report.error(
            IssueCode::IncompatibleTypes,
            Some(path),
            Some(name),
            format!(
                "{name} ({}) cannot fill {path} ({}); choose a {} field.",
                zoho.data_type.label(),
                qbo.data_type.label(),
                qbo.data_type.label().to_lowercase()
            ),
        ),
    }

    if !qbo.choices.is_empty() {
        let outside: Vec<&str> = zoho
            .picklist_values
            .iter()
            .filter(|v| {
                let effective = row.map_to_qbo(v).unwrap_or(v);
                !qbo.choices
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(effective))
            })
            .map(String::as_str)
            .collect();
        if !outside.is_empty() {
            report.warn(
                IssueCode::PicklistValues,
                Some(path),
                Some(name),
                format!(
                    "QuickBooks accepts only {} in {path}; records with {name} = {} will fail to sync.",
                    qbo.choices.join(", "),
                    outside.join(", ")
                ),
            );
        }
    }

    if writes_zoho && zoho.read_only {
        report.warn(
            IssueCode::ReadOnlyZohoField,
            Some(path),
            Some(name),
            format!(
                "{name} is read-only in Zoho: it is copied to QuickBooks but never written back."
            ),
        );
    }
    if writes_zoho && !zoho.picklist_values.is_empty() && qbo.choices.is_empty() {
        report.warn(
            IssueCode::PicklistValues,
            Some(path),
            Some(name),
            format!(
                "{name} is a pick list ({}); values from QuickBooks outside the list will be rejected by Zoho.",
                zoho.picklist_values.join(", ")
            ),
        );
    }
}

// ---------------------------------------------------------------------------
// Applying a mapping

/// A reference in a built payload that still holds the *source* system's id
/// (or, for static values and terms, a name). The engine replaces it with the
/// target system's id via [`MappedRecord::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReference {
    /// JSON pointer to the reference object in the payload, e.g.
    /// `/CustomerRef` or `/Line/1/SalesItemLineDetail/ItemRef`.
    pub pointer: String,
    pub kind: RefKind,
    /// The system the payload is for; its ids are what resolving yields.
    pub target: System,
    /// The id in the source system, when the source held a record reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// The referenced record's name, for name lookups and error messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 1-based line number for line-item products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The pair whose links translate `source_id` (a Zoho Contact lookup
    /// resolves through Contacts ↔ Customers, an Account lookup through
    /// Accounts ↔ Customers). `None` for references looked up by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_pair: Option<ModulePair>,
}

impl PendingReference {
    /// "line 2: product 'Widget' (Zoho id 123) is not synced to QuickBooks".
    pub fn unresolved_message(&self) -> String {
        let source = self.target.other();
        let mut what = format!("{} ", self.kind.label());
        if let Some(name) = &self.name {
            what.push_str(&format!("'{name}' "));
        }
        if let Some(id) = &self.source_id {
            what.push_str(&format!("({} id {id}) ", short_system(source)));
        }
        let prefix = self.line.map(|n| format!("line {n}: ")).unwrap_or_default();
        if self.source_id.is_some() {
            format!("{prefix}{what}is not synced to {}", self.target.label())
        } else {
            format!("{prefix}{what}was not found in {}", self.target.label())
        }
    }
}

fn short_system(system: System) -> &'static str {
    match system {
        System::Zoho => "Zoho",
        System::Qbo => "QuickBooks",
    }
}

/// References the engine could not resolve; the message lists each one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}", .0.iter().map(PendingReference::unresolved_message).collect::<Vec<_>>().join("; "))]
pub struct UnresolvedReferences(pub Vec<PendingReference>);

/// A payload built from a record, with its references still to resolve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappedRecord {
    pub payload: Value,
    pub references: Vec<PendingReference>,
    /// Things worth knowing that did not stop the record (shown in log details).
    pub notes: Vec<String>,
}

impl MappedRecord {
    /// What the sync stores per link to skip unchanged records: the fingerprint of the payload
    /// and of which records it references, by source id (names are left out of the payload,
    /// because Zoho answers lookups with names we never wrote). It is the fingerprint of
    /// `{"payload": <payload, references nulled>, "refs": [[pointer, id or name]…]}`, written
    /// straight into the hash rather than built.
    pub fn fingerprint(&self) -> String {
        let mut refs: Vec<(&str, Option<&str>)> = self
            .references
            .iter()
            .map(|r| {
                (
                    r.pointer.as_str(),
                    r.source_id.as_deref().or(r.name.as_deref()),
                )
            })
            .collect();
        refs.sort();
        let masked: Vec<&str> = refs.iter().map(|(pointer, _)| *pointer).collect();
        fingerprint_with(|out| {
            out.push("{\"payload\":");
            write_canonical_masked(&self.payload, &masked, out);
            out.push(",\"refs\":[");
            for (i, (pointer, id)) in refs.iter().enumerate() {
                if i > 0 {
                    out.push(",");
                }
                out.push("[");
                write_json_string(pointer, out);
                out.push(",");
                match id {
                    Some(id) => write_json_string(id, out),
                    None => out.push("null"),
                }
                out.push("]");
            }
            out.push("]}");
        })
    }

    /// Replaces each pending reference's id with `resolve(reference)`:
    /// `{"value": id}` in QBO payloads, `{"id": id}` in Zoho payloads. All
    /// references are attempted; those that return `None` are reported together.
    pub fn resolve(
        &mut self,
        mut resolve: impl FnMut(&PendingReference) -> Option<String>,
    ) -> Result<(), UnresolvedReferences> {
        let mut missing = Vec::new();
        for reference in &self.references {
            match resolve(reference) {
                Some(id) => {
                    let key = match reference.target {
                        System::Qbo => "value",
                        System::Zoho => "id",
                    };
                    if let Some(target) = self.payload.pointer_mut(&reference.pointer) {
                        *target = json!({ key: id });
                    }
                }
                None => missing.push(reference.clone()),
            }
        }
        if missing.is_empty() {
            self.references.clear();
            Ok(())
        } else {
            self.references.retain(|r| missing.contains(r));
            Err(UnresolvedReferences(missing))
        }
    }
}

/// A field whose value could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// Why a record could not be mapped; the message names each field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub struct MappingError {
    pub problems: Vec<FieldProblem>,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// The Zoho line-item key holding the list price. Zoho's own v8 SDK samples
/// write `ListPrice` while other sources write `List_Price`; we write
/// `List_Price` and read either.
pub const ZOHO_LIST_PRICE: &str = "List_Price";

fn line_detail_type(entity: QboEntity) -> &'static str {
    match entity {
        QboEntity::PurchaseOrder => "ItemBasedExpenseLineDetail",
        _ => "SalesItemLineDetail",
    }
}

fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

/// Builds the QBO payload for a Zoho record (Zoho → QBO). The catalogue gives
/// each mapped field's type; unknown paths are copied as text. A Zoho field
/// missing from the record (not fetched) is left out; one that is present but
/// empty clears a QBO text field (`""`), so a sparse update makes both agree.
pub fn zoho_to_qbo(
    mapping: &Mapping,
    pair: ModulePair,
    catalogue: &FieldCatalogue,
    record: &Value,
) -> Result<MappedRecord, MappingError> {
    let qbo_entity = catalogue.qbo_entity;
    let qbo_fields = catalogue.qbo.as_slice();
    let mut out = MappedRecord {
        payload: Value::Object(Map::new()),
        references: Vec::new(),
        notes: Vec::new(),
    };
    let mut problems = Vec::new();
    for row in &mapping.fields {
        let path = row.qbo_field.as_str();
        let field = find_qbo(qbo_fields, path);
        let result = match &row.source {
            MappingSource::Static { value } => match field {
                Some(QboField {
                    reference: Some(kind),
                    ..
                }) => {
                    out.references.push(PendingReference {
                        pointer: pointer_of(path),
                        kind: *kind,
                        target: System::Qbo,
                        source_id: None,
                        name: Some(value.clone()),
                        line: None,
                        linked_pair: None,
                    });
                    Ok(Some(json!({ "name": value })))
                }
                Some(f) => convert_static(f, value).map(Some),
                None => Ok(Some(Value::String(value.clone()))),
            },
            MappingSource::Zoho { field: zoho } => {
                let Some(value) = get_path(record, zoho) else {
                    // Not fetched: leave the QBO value alone.
                    continue;
                };
                if is_empty(Some(value)) {
                    // Emptied in Zoho: clear text in QBO so both sides agree. QBO
                    // has no "empty" for numbers, dates, yes/no or references.
                    let data_type = field.map_or(DataType::Text, |f| f.data_type);
                    if matches!(data_type.family(), TypeFamily::Text | TypeFamily::Choice) {
                        set_path(&mut out.payload, path, json!(""));
                    }
                    continue;
                }
                match field.and_then(|f| f.reference.map(|k| (f, k))) {
                    Some((_, kind)) => {
                        let (id, name) = reference_parts(value, "id");
                        if kind.zoho_module().is_some() {
                            out.references.push(PendingReference {
                                pointer: pointer_of(path),
                                kind,
                                target: System::Qbo,
                                source_id: id.clone(),
                                name: name.clone(),
                                line: None,
                                linked_pair: linked_pair(catalogue.zoho_field(zoho), kind),
                            });
                            Ok(Some(json!({ "value": id.or(name) })))
                        } else if let Some(id) = display_text(Some(value))
                            .and_then(|t| row.map_to_qbo(&t).map(str::to_owned))
                        {
                            // The value map names the QBO record directly.
                            Ok(Some(json!({ "value": id })))
                        } else {
                            // Terms etc.: Zoho holds the name; QBO is searched by name.
                            let name = display_text(Some(value));
                            out.references.push(PendingReference {
                                pointer: pointer_of(path),
                                kind,
                                target: System::Qbo,
                                source_id: None,
                                name: name.clone(),
                                line: None,
                                linked_pair: None,
                            });
                            Ok(Some(json!({ "name": name })))
                        }
                    }
                    None => {
                        let translated = display_text(Some(value))
                            .and_then(|t| row.map_to_qbo(&t).map(|m| json!(m)));
                        // A translated value is written exactly as the user typed it;
                        // others go through the row's transforms.
                        let transformed = match value {
                            Value::String(text)
                                if translated.is_none() && !row.transforms.is_empty() =>
                            {
                                Some(json!(row.transform(text)))
                            }
                            _ => None,
                        };
                        let value = translated
                            .as_ref()
                            .or(transformed.as_ref())
                            .unwrap_or(value);
                        to_qbo_value(field.map_or(DataType::Text, |f| f.data_type), value)
                            .and_then(|v| check_length(field, v))
                            .map(Some)
                    }
                }
            }
            MappingSource::Combine { fields, separator } => {
                let parts: Option<Vec<Option<String>>> = fields
                    .iter()
                    .map(|name| {
                        get_path(record, name).map(|v| {
                            display_text(Some(v))
                                .map(|t| t.trim().to_owned())
                                .filter(|t| !t.is_empty())
                        })
                    })
                    .collect();
                // A part not fetched: leave the QBO value alone.
                let Some(parts) = parts else { continue };
                let joined: Vec<String> = parts.into_iter().flatten().collect();
                let joined = joined.join(separator);
                let text = row
                    .map_to_qbo(&joined)
                    .map_or_else(|| row.transform(&joined), str::to_owned);
                check_length(field, json!(text)).map(Some)
            }
        };
        match result {
            Ok(Some(value)) => set_path(&mut out.payload, path, value),
            Ok(None) => {}
            Err(message) => problems.push(FieldProblem {
                field: path.to_owned(),
                message,
            }),
        }
    }

    if let Some(key) = pair.zoho_module().line_items_key()
        && let Some(rows) = record.get(key)
    {
        match zoho_lines_to_qbo(rows, qbo_entity, &mut out) {
            Ok(lines) => set_path(&mut out.payload, "Line", Value::Array(lines)),
            Err(mut line_problems) => problems.append(&mut line_problems),
        }
    }

    if problems.is_empty() {
        Ok(out)
    } else {
        Err(MappingError { problems })
    }
}

fn zoho_lines_to_qbo(
    rows: &Value,
    qbo_entity: QboEntity,
    out: &mut MappedRecord,
) -> Result<Vec<Value>, Vec<FieldProblem>> {
    let detail = line_detail_type(qbo_entity);
    let Some(rows) = rows.as_array() else {
        return Err(vec![FieldProblem {
            field: "Line".into(),
            message: "the Zoho line items are not a list".into(),
        }]);
    };
    let rows: Vec<&Value> = rows
        .iter()
        .filter(|r| r.get("_delete").and_then(Value::as_bool) != Some(true))
        .collect();
    if rows.is_empty() {
        return Err(vec![FieldProblem {
            field: "Line".into(),
            message: format!(
                "the record has no line items; a QuickBooks {} needs at least one product line",
                qbo_entity.label()
            ),
        }]);
    }
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        let number = index + 1;
        let product = row.get("Product_Name").filter(|p| !is_empty(Some(p)));
        let Some(product) = product else {
            problems.push(FieldProblem {
                field: format!("line {number}"),
                message: "no product is chosen".into(),
            });
            continue;
        };
        let (id, name) = reference_parts(product, "id");
        let qty = match row.get("Quantity").filter(|v| !v.is_null()) {
            None => 1.0,
            Some(v) => match as_number(v) {
                Some(q) => q,
                None => {
                    problems.push(FieldProblem {
                        field: format!("line {number}"),
                        message: format!("quantity {v} is not a number"),
                    });
                    continue;
                }
            },
        };
        let price = row
            .get(ZOHO_LIST_PRICE)
            .or_else(|| row.get("ListPrice"))
            .or_else(|| row.get("Unit_Price"))
            .and_then(as_number)
            .unwrap_or(0.0);
        let mut line = json!({
            "DetailType": detail,
            "Amount": round_cents(qty * price),
            detail: { "ItemRef": { "value": id.clone().or(name.clone()) }, "Qty": qty, "UnitPrice": price },
        });
        if let Some(text) = row
            .get("Description")
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty())
        {
            line["Description"] = json!(text);
        }
        if let Some(discount) = row
            .get("Discount")
            .and_then(as_number)
            .filter(|d| *d != 0.0)
        {
            out.notes.push(format!(
                "line {number}: the Zoho discount of {discount} was not copied (QuickBooks lines carry no discount; add a discount line in QuickBooks if needed)"
            ));
        }
        out.references.push(PendingReference {
            pointer: format!("/Line/{index}/{detail}/ItemRef"),
            kind: RefKind::Item,
            target: System::Qbo,
            source_id: id,
            name,
            line: Some(number),
            linked_pair: Some(ModulePair::ProductsItems),
        });
        lines.push(line);
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err(problems)
    }
}

/// Builds the Zoho payload for a QBO record (QBO → Zoho). Static values are
/// never written to Zoho, nor are read-only Zoho fields. QBO omits empty
/// properties, so a mapped field absent from the record is written as `null`
/// (Zoho's way to clear a field), except lookups.
pub fn qbo_to_zoho(
    mapping: &Mapping,
    pair: ModulePair,
    catalogue: &FieldCatalogue,
    record: &Value,
) -> Result<MappedRecord, MappingError> {
    let qbo_fields = catalogue.qbo.as_slice();
    let zoho_fields = catalogue.zoho.as_slice();
    let mut out = MappedRecord {
        payload: Value::Object(Map::new()),
        references: Vec::new(),
        notes: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut written = BTreeSet::new();
    for row in &mapping.fields {
        let Some(zoho_name) = row.zoho_field() else {
            continue;
        };
        // The first QBO field mapped from a Zoho field is the one copied back.
        if !written.insert(zoho_name) {
            continue;
        }
        let zoho = find_zoho(zoho_fields, zoho_name);
        if zoho.is_some_and(|z| z.read_only) {
            continue;
        }
        let value = get_path(record, &row.qbo_field);
        let qbo = find_qbo(qbo_fields, &row.qbo_field);
        if is_empty(value) {
            // QBO leaves empty properties out of its answers, so absent means
            // empty: clear the Zoho field. Lookups are left alone, and so are
            // yes/no fields: an absent QBO flag is not a clear "no".
            let keep = zoho.map(|z| z.data_type) == Some(DataType::Reference)
                || qbo.is_some_and(|q| q.reference.is_some() || q.data_type == DataType::Boolean);
            if !keep && let Value::Object(map) = &mut out.payload {
                map.insert(zoho_name.to_owned(), Value::Null);
            }
            continue;
        }
        let value = value.unwrap_or(&Value::Null);
        let zoho_type = zoho
            .map(|z| z.data_type)
            .or_else(|| qbo.map(|q| q.data_type))
            .unwrap_or(DataType::Text);
        let result = if zoho_type == DataType::Reference {
            let kind = zoho
                .and_then(ZohoField::reference)
                .or_else(|| qbo.and_then(|q| q.reference));
            match kind {
                Some(kind) if kind.zoho_module().is_some() => {
                    let (id, name) = reference_parts(value, "value");
                    out.references.push(PendingReference {
                        pointer: format!("/{}", escape_pointer(zoho_name)),
                        kind,
                        target: System::Zoho,
                        source_id: id.clone(),
                        name,
                        line: None,
                        linked_pair: linked_pair(zoho, kind),
                    });
                    Ok(json!({ "id": id }))
                }
                _ => {
                    out.notes.push(format!(
                        "{zoho_name} is a lookup zqsync cannot fill from {}; left unchanged",
                        row.qbo_field
                    ));
                    continue;
                }
            }
        } else {
            // A value map translates back: a QBO reference by its id, else by name.
            let (id, name) = reference_parts(value, "value");
            let translated = [id, name, display_text(Some(value))]
                .into_iter()
                .flatten()
                .find_map(|t| row.map_to_zoho(&t).map(|z| json!(z)));
            to_zoho_value(zoho_type, translated.as_ref().unwrap_or(value))
        };
        match result {
            Ok(v) => {
                if let Value::Object(map) = &mut out.payload {
                    map.insert(zoho_name.to_owned(), v);
                }
            }
            Err(message) => problems.push(FieldProblem {
                field: zoho_name.to_owned(),
                message,
            }),
        }
    }

    if let Some(key) = pair.zoho_module().line_items_key()
        && let Some(lines) = record.get("Line").and_then(Value::as_array)
    {
        let rows = qbo_lines_to_zoho(lines, key, &mut out);
        if let Value::Object(map) = &mut out.payload {
            map.insert(key.to_owned(), Value::Array(rows));
        }
    }

    if problems.is_empty() {
        Ok(out)
    } else {
        Err(MappingError { problems })
    }
}

fn qbo_lines_to_zoho(lines: &[Value], key: &str, out: &mut MappedRecord) -> Vec<Value> {
    let mut rows = Vec::new();
    for line in lines {
        let detail_type = line.get("DetailType").and_then(Value::as_str).unwrap_or("");
        if !matches!(
            detail_type,
            "SalesItemLineDetail" | "ItemBasedExpenseLineDetail"
        ) {
            if !matches!(detail_type, "SubTotalLineDetail" | "") {
                out.notes.push(format!(
                    "a QuickBooks {detail_type} line was not copied (Zoho line items hold products only)"
                ));
            }
            continue;
        }
        let detail = line.get(detail_type).unwrap_or(&Value::Null);
        let (id, name) = reference_parts(detail.get("ItemRef").unwrap_or(&Value::Null), "value");
        let qty = detail.get("Qty").and_then(as_number).unwrap_or(1.0);
        let price = detail
            .get("UnitPrice")
            .and_then(as_number)
            .unwrap_or_else(|| {
                let amount = line.get("Amount").and_then(as_number).unwrap_or(0.0);
                if qty == 0.0 {
                    0.0
                } else {
                    round_cents(amount / qty)
                }
            });
        let index = rows.len();
        let mut row = json!({
            "Product_Name": { "id": id.clone() },
            "Quantity": qty,
            ZOHO_LIST_PRICE: price,
        });
        if let Some(text) = line.get("Description").and_then(Value::as_str) {
            row["Description"] = json!(text);
        }
        out.references.push(PendingReference {
            pointer: format!("/{key}/{index}/Product_Name"),
            kind: RefKind::Item,
            target: System::Zoho,
            source_id: id,
            name,
            line: Some(index + 1),
            linked_pair: Some(ModulePair::ProductsItems),
        });
        rows.push(row);
    }
    rows
}

/// The pair whose links resolve a reference: from the Zoho lookup's module
/// when known, else the usual pair for the kind.
fn linked_pair(zoho: Option<&ZohoField>, kind: RefKind) -> Option<ModulePair> {
    zoho.and_then(|z| z.lookup_module.as_deref())
        .and_then(ModulePair::for_zoho_lookup)
        .or_else(|| kind.linked_pair())
}

/// (id, name) of a Zoho lookup (`{"id","name"}`), a QBO ref (`{"value","name"}`)
/// or a bare id string.
fn reference_parts(value: &Value, id_key: &str) -> (Option<String>, Option<String>) {
    match value {
        Value::Object(map) => {
            let text = |k: &str| {
                map.get(k)
                    .and_then(|v| display_text(Some(v)))
                    .filter(|s| !s.is_empty())
            };
            (text(id_key), text("name"))
        }
        other => (display_text(Some(other)), None),
    }
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// JSON pointer of a dotted QBO path.
fn pointer_of(path: &str) -> String {
    path.split('.')
        .map(|s| format!("/{}", escape_pointer(s)))
        .collect()
}

fn check_length(field: Option<&QboField>, value: Value) -> Result<Value, String> {
    if let (Some(max), Value::String(s)) = (field.and_then(|f| f.max_length), &value) {
        let len = s.chars().count();
        if len > max as usize {
            return Err(format!(
                "\"{s}\" is {len} characters long; QuickBooks allows at most {max}"
            ));
        }
    }
    Ok(value)
}

/// A static value typed for its QBO field, or why it does not fit.
fn convert_static(qbo: &QboField, value: &str) -> Result<Value, String> {
    let path = &qbo.path;
    let value = value.trim();
    let converted = match qbo.data_type.family() {
        TypeFamily::Number => parse_number(value)
            .map(|n| json!(n))
            .ok_or_else(|| format!("{path} is a number; \"{value}\" is not a number.")),
        TypeFamily::Boolean => parse_bool(value)
            .map(Value::Bool)
            .ok_or_else(|| format!("{path} is yes/no; enter true or false.")),
        TypeFamily::Date => DateValue::parse(value)
            .map(|_| json!(value))
            .ok_or_else(|| format!("{path} is a date; enter it as YYYY-MM-DD.")),
        TypeFamily::Choice if !qbo.choices.is_empty() => qbo
            .choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value))
            .map(|c| json!(c))
            .ok_or_else(|| format!("{path} must be one of {}.", qbo.choices.join(", "))),
        _ => Ok(json!(value)),
    }?;
    check_length(Some(qbo), converted).map_err(|m| format!("{path}: {m}."))
}

fn to_qbo_value(data_type: DataType, value: &Value) -> Result<Value, String> {
    match data_type.family() {
        TypeFamily::Number => as_number(value)
            .map(|n| json!(n))
            .ok_or_else(|| format!("{} is not a number", quoted(value))),
        TypeFamily::Boolean => match value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) => parse_bool(s)
                .map(Value::Bool)
                .ok_or_else(|| format!("{} is not yes/no", quoted(value))),
            _ => Err(format!("{} is not yes/no", quoted(value))),
        },
        TypeFamily::Date => {
            let text = display_text(Some(value)).unwrap_or_default();
            match DateValue::parse(&text) {
                // QBO date fields take the calendar date only.
                Some(_) if data_type == DataType::Date => Ok(json!(text[..10])),
                Some(_) => Ok(json!(text)),
                None => Err(format!("{} is not a date", quoted(value))),
            }
        }
        _ => Ok(json!(display_text(Some(value)).unwrap_or_default())),
    }
}

fn to_zoho_value(data_type: DataType, value: &Value) -> Result<Value, String> {
    match data_type.family() {
        TypeFamily::Number => as_number(value)
            .map(|n| json!(n))
            .ok_or_else(|| format!("{} is not a number", quoted(value))),
        TypeFamily::Boolean => match value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) => parse_bool(s)
                .map(Value::Bool)
                .ok_or_else(|| format!("{} is not yes/no", quoted(value))),
            _ => Err(format!("{} is not yes/no", quoted(value))),
        },
        TypeFamily::Date => {
            let text = display_text(Some(value)).unwrap_or_default();
            match DateValue::parse(&text) {
                Some(_) if data_type == DataType::Date => Ok(json!(text[..10])),
                Some(_) => Ok(json!(text)),
                None => Err(format!("{} is not a date", quoted(value))),
            }
        }
        TypeFamily::Choice if data_type == DataType::MultiPicklist => Ok(match value {
            Value::Array(_) => value.clone(),
            other => json!(
                display_text(Some(other))
                    .unwrap_or_default()
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            ),
        }),
        _ => Ok(json!(display_text(Some(value)).unwrap_or_default())),
    }
}

fn quoted(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// The Zoho fields to request when reading records of `pair` (Zoho's
/// `fields=` parameter is mandatory): `id` and `Modified_Time`, every Zoho
/// field the mapping reads (combined parts too), the fields `filters` test and
/// the line-item subform. Sorted, without duplicates. Zoho accepts at most
/// [`ZOHO_MAX_FIELDS_PER_READ`] per request. A field left out here is treated as
/// "not fetched" by [`zoho_to_qbo`] and never cleared in QBO.
pub fn zoho_fields_to_read(
    mapping: &Mapping,
    pair: ModulePair,
    filters: &FilterSet,
) -> Vec<String> {
    let mut names: BTreeSet<String> = ["id", "Modified_Time"].map(str::to_owned).into();
    for row in &mapping.fields {
        match &row.source {
            MappingSource::Zoho { field } => {
                names.insert(field.clone());
            }
            MappingSource::Combine { fields, .. } => names.extend(fields.iter().cloned()),
            MappingSource::Static { .. } => {}
        }
    }
    names.extend(
        filters
            .rows
            .iter()
            .map(|r| r.field.trim().to_owned())
            .filter(|f| !f.is_empty()),
    );
    if let Some(key) = pair.zoho_module().line_items_key() {
        names.insert(key.to_owned());
    }
    names.into_iter().collect()
}

/// Zoho's limit on the `fields` parameter of a records read.
pub const ZOHO_MAX_FIELDS_PER_READ: usize = 50;

/// Whether a field is a QBO custom field (red marker), for callers holding only a path.
pub fn is_custom_path(catalogue: &FieldCatalogue, path: &str) -> bool {
    catalogue
        .qbo_field(path)
        .is_some_and(|f| f.source == FieldSource::Custom)
        || QboField::custom_definition_id(path).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::{Condition, FilterRow};
    use proptest::prelude::*;
    use serde_json::json;

    /// Links store these hashes: the streaming version must give what building the value and
    /// fingerprinting it gave.
    #[test]
    fn mapped_fingerprints_match_the_built_value() {
        let reference = |pointer: &str, id: Option<&str>, name: Option<&str>| PendingReference {
            pointer: pointer.to_owned(),
            kind: RefKind::Item,
            target: System::Qbo,
            source_id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            line: None,
            linked_pair: None,
        };
        let mapped = MappedRecord {
            payload: json!({
                "CustomerRef": {"name": "Golden Pools"},
                "Line": [
                    {"Amount": 10, "SalesItemLineDetail": {"ItemRef": {"name": "Pump"}, "Qty": 2.0}},
                    {"Amount": 2.5, "SalesItemLineDetail": {"ItemRef": {"name": "Hose"}}},
                ],
                "a/b~c": {"x": 1},
                "PrivateNote": "Zoho CRM Invoices 77 \"quoted\"",
            }),
            references: vec![
                reference("/Line/1/SalesItemLineDetail/ItemRef", Some("9"), None),
                reference("/CustomerRef", Some("5"), Some("Golden Pools")),
                reference("/Line/0/SalesItemLineDetail/ItemRef", None, Some("Pump")),
                reference("/a~1b~0c", None, None),
            ],
            notes: Vec::new(),
        };
        let mut payload = mapped.payload.clone();
        let mut refs: Vec<(String, Option<String>)> = Vec::new();
        for reference in &mapped.references {
            if let Some(slot) = payload.pointer_mut(&reference.pointer) {
                *slot = Value::Null;
            }
            refs.push((
                reference.pointer.clone(),
                reference
                    .source_id
                    .clone()
                    .or_else(|| reference.name.clone()),
            ));
        }
        refs.sort();
        let built = crate::record::fingerprint(&json!({"payload": payload, "refs": refs}));
        assert_eq!(mapped.fingerprint(), built);
        let plain = MappedRecord {
            payload: json!({"DisplayName": "Golden Pools", "Balance": 0}),
            references: Vec::new(),
            notes: Vec::new(),
        };
        assert_eq!(
            plain.fingerprint(),
            crate::record::fingerprint(&json!({"payload": plain.payload, "refs": []}))
        );
    }

    fn catalogue(pair: ModulePair, target: SalesOrderTarget) -> FieldCatalogue {
        FieldCatalogue::standard(pair, target)
    }

    fn check(mapping: &Mapping, pair: ModulePair, direction: Direction) -> ValidationReport {
        validate(
            mapping,
            &catalogue(pair, SalesOrderTarget::Invoice),
            direction,
        )
    }

    fn codes(issues: &[MappingIssue]) -> Vec<IssueCode> {
        issues.iter().map(|i| i.code).collect()
    }

    #[test]
    fn every_default_mapping_is_valid_for_its_default_direction() {
        for target in [SalesOrderTarget::Invoice, SalesOrderTarget::Estimate] {
            for pair in ModulePair::ALL {
                let cat = catalogue(pair, target);
                let mapping = default_mapping(pair, target);
                assert!(!mapping.fields.is_empty());
                let report = validate(&mapping, &cat, Direction::ZohoToQbo);
                assert_eq!(report, ValidationReport::default(), "{pair:?} {target:?}");
                let both = validate(&mapping, &cat, Direction::Bidirectional);
                assert!(both.is_ok(), "{pair:?}: {:?}", both.errors);
            }
        }
    }

    #[test]
    fn defaults_include_the_spec_examples() {
        let accounts = default_mapping(ModulePair::AccountsCustomers, SalesOrderTarget::Invoice);
        let zoho = |m: &Mapping, q: &str| m.get(q).cloned();
        let src = |f: &str| Some(MappingSource::Zoho { field: f.into() });
        assert_eq!(zoho(&accounts, "DisplayName"), src("Account_Name"));
        assert_eq!(zoho(&accounts, "PrimaryPhone.FreeFormNumber"), src("Phone"));
        assert_eq!(zoho(&accounts, "BillAddr.Line1"), src("Billing_Street"));
        let products = default_mapping(ModulePair::ProductsItems, SalesOrderTarget::Invoice);
        assert_eq!(zoho(&products, "Name"), src("Product_Name"));
        assert_eq!(zoho(&products, "UnitPrice"), src("Unit_Price"));
        assert_eq!(zoho(&products, "QtyOnHand"), src("Qty_in_Stock"));
        let so_inv = default_mapping(ModulePair::SalesOrders, SalesOrderTarget::Invoice);
        let so_est = default_mapping(ModulePair::SalesOrders, SalesOrderTarget::Estimate);
        assert_eq!(zoho(&so_inv, "DueDate"), src("Due_Date"));
        assert_eq!(zoho(&so_est, "ExpirationDate"), src("Due_Date"));
        assert_eq!(zoho(&so_est, "DueDate"), None);
    }

    #[test]
    fn mapping_edits_and_serde_shape() {
        let mut mapping = Mapping::default();
        mapping.set(
            "DisplayName",
            MappingSource::Zoho {
                field: "Account_Name".into(),
            },
        );
        mapping.set(
            "SalesTermRef",
            MappingSource::Static {
                value: "Net 30".into(),
            },
        );
        mapping.set(
            "DisplayName",
            MappingSource::Zoho {
                field: "Account_Number".into(),
            },
        );
        assert_eq!(mapping.fields.len(), 2);
        assert_eq!(mapping.fields[0].zoho_field(), Some("Account_Number"));
        let json = serde_json::to_value(&mapping).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"fields": [
                {"qbo_field": "DisplayName", "kind": "zoho", "field": "Account_Number"},
                {"qbo_field": "SalesTermRef", "kind": "static", "value": "Net 30"}
            ]})
        );
        assert_eq!(serde_json::from_value::<Mapping>(json).unwrap(), mapping);
        mapping.clear("DisplayName");
        assert_eq!(mapping.get("DisplayName"), None);
        assert_eq!(mapping.fields.len(), 1);
    }

    #[test]
    fn validation_finds_unknown_duplicate_and_missing_fields() {
        let pair = ModulePair::AccountsCustomers;
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping.clear("DisplayName");
        mapping
            .fields
            .push(FieldMapping::zoho("NoSuchField", "Phone"));
        mapping.fields.push(FieldMapping::zoho("Notes", "Nope"));
        mapping
            .fields
            .push(FieldMapping::zoho("Fax.FreeFormNumber", "Phone"));
        let report = check(&mapping, pair, Direction::ZohoToQbo);
        let errors = codes(&report.errors);
        assert!(errors.contains(&IssueCode::UnknownQboField));
        assert!(errors.contains(&IssueCode::DuplicateQboField), "{errors:?}");
        assert!(errors.contains(&IssueCode::RequiredQboFieldMissing));
        assert!(!report.is_ok());
        let required = report.for_qbo_field("DisplayName");
        assert_eq!(required.len(), 1);
        assert!(
            required[0]
                .message
                .contains("QuickBooks needs Display name (DisplayName) to create a customer")
        );
        // "Notes" appears twice: once valid (Description) then a duplicate; the unknown
        // Zoho field is reported when it is the first mapping of its QBO field.
        let mut m2 = Mapping::default();
        m2.fields.push(FieldMapping::zoho("DisplayName", "Nope"));
        let r2 = check(&m2, pair, Direction::ZohoToQbo);
        assert_eq!(codes(&r2.errors), vec![IssueCode::UnknownZohoField]);
        assert!(r2.errors[0].message.contains("Sync Mappable Fields"));
    }

    #[test]
    fn required_qbo_fields_only_matter_when_writing_qbo() {
        let pair = ModulePair::AccountsCustomers;
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping.clear("DisplayName");
        assert!(check(&mapping, pair, Direction::QboToZoho).is_ok());
        assert!(!check(&mapping, pair, Direction::Bidirectional).is_ok());
        assert!(!check(&mapping, pair, Direction::Disabled).is_ok());
        // A static value satisfies the requirement.
        mapping.set(
            "DisplayName",
            MappingSource::Static {
                value: "Walk-in".into(),
            },
        );
        assert!(check(&mapping, pair, Direction::ZohoToQbo).is_ok());
    }

    #[test]
    fn required_zoho_fields_warn_when_writing_zoho() {
        let pair = ModulePair::AccountsCustomers;
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping.set("DisplayName", MappingSource::Static { value: "X".into() });
        let report = check(&mapping, pair, Direction::Bidirectional);
        assert!(report.is_ok());
        assert_eq!(
            codes(&report.warnings),
            vec![IssueCode::RequiredZohoFieldMissing]
        );
        assert_eq!(
            report.warnings[0].zoho_field.as_deref(),
            Some("Account_Name")
        );
        assert!(
            check(&mapping, pair, Direction::ZohoToQbo)
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn static_values_are_checked_against_the_field_type() {
        let pair = ModulePair::ProductsItems;
        let base = default_mapping(pair, SalesOrderTarget::Invoice);
        let with = |path: &str, value: &str| {
            let mut m = base.clone();
            m.set(
                path,
                MappingSource::Static {
                    value: value.into(),
                },
            );
            check(&m, pair, Direction::ZohoToQbo)
        };
        assert_eq!(
            codes(&with("UnitPrice", "  ").errors),
            vec![IssueCode::EmptyStaticValue]
        );
        let bad_number = with("UnitPrice", "ten");
        assert_eq!(
            codes(&bad_number.errors),
            vec![IssueCode::InvalidStaticValue]
        );
        assert!(
            bad_number.errors[0]
                .message
                .contains("\"ten\" is not a number")
        );
        assert!(with("UnitPrice", "10.50").is_ok());
        assert!(!with("Taxable", "perhaps").is_ok());
        assert!(with("Taxable", "yes").is_ok());
        assert!(!with("InvStartDate", "01/02/2026").is_ok());
        assert!(with("InvStartDate", "2026-01-02").is_ok());
        let bad_choice = with("Type", "Bundle");
        assert!(
            bad_choice.errors[0]
                .message
                .contains("Inventory, NonInventory, Service")
        );
        assert!(with("Type", "service").is_ok());
        assert!(!with("Name", &"x".repeat(101)).is_ok());
    }

    #[test]
    fn type_compatibility() {
        let pair = ModulePair::ProductsItems;
        let base = default_mapping(pair, SalesOrderTarget::Invoice);
        let with = |path: &str, zoho: &str, direction: Direction| {
            let mut m = base.clone();
            m.set(path, MappingSource::Zoho { field: zoho.into() });
            check(&m, pair, direction)
        };
        // number ↔ text warns both ways
        let r = with("Sku", "Unit_Price", Direction::ZohoToQbo);
        assert!(r.is_ok());
        assert_eq!(codes(&r.warnings), vec![IssueCode::TypeMismatch]);
        let r = with("PurchaseCost", "Product_Code", Direction::ZohoToQbo);
        assert_eq!(codes(&r.warnings), vec![IssueCode::TypeMismatch]);
        assert!(r.warnings[0].message.contains("is not a number will fail"));
        // date into a number cannot work
        let r = with("PurchaseCost", "Sales_Start_Date", Direction::ZohoToQbo);
        assert_eq!(codes(&r.errors), vec![IssueCode::IncompatibleTypes]);
        // a picklist into a QBO enumeration with other values warns with the values
        let r = with("Type", "Product_Category", Direction::ZohoToQbo);
        assert!(r.is_ok());
        // (standard Product_Category has no known values until Sync Mappable Fields)
        let mut cat = catalogue(pair, SalesOrderTarget::Invoice);
        cat.zoho
            .iter_mut()
            .find(|f| f.api_name == "Product_Category")
            .unwrap()
            .picklist_values = vec!["Service".into(), "Hardware".into()];
        let mut m = base.clone();
        m.set(
            "Type",
            MappingSource::Zoho {
                field: "Product_Category".into(),
            },
        );
        let r = validate(&m, &cat, Direction::ZohoToQbo);
        assert_eq!(codes(&r.warnings), vec![IssueCode::PicklistValues]);
        assert!(
            r.warnings[0]
                .message
                .contains("Product_Category = Hardware")
        );
    }

    #[test]
    fn references_need_matching_lookups() {
        let pair = ModulePair::InvoicesInvoices;
        let base = default_mapping(pair, SalesOrderTarget::Invoice);
        let with = |zoho: &str| {
            let mut m = base.clone();
            m.set("CustomerRef", MappingSource::Zoho { field: zoho.into() });
            check(&m, pair, Direction::ZohoToQbo)
        };
        assert!(with("Account_Name").is_ok());
        let text = with("Subject");
        assert_eq!(codes(&text.errors), vec![IssueCode::ReferenceMismatch]);
        assert!(text.errors[0].message.contains("Zoho lookup of Accounts"));
        let wrong_lookup = with("Sales_Order");
        assert_eq!(
            codes(&wrong_lookup.errors),
            vec![IssueCode::ReferenceMismatch]
        );
        // Subforms are never mappable.
        let mut cat = catalogue(pair, SalesOrderTarget::Invoice);
        cat.zoho.push(ZohoField {
            api_name: "Invoiced_Items".into(),
            label: "Invoiced Items".into(),
            data_type: DataType::Subform,
            source: FieldSource::Standard,
            required: false,
            read_only: false,
            picklist_values: vec![],
            lookup_module: None,
        });
        let mut m = base.clone();
        m.set(
            "PrivateNote",
            MappingSource::Zoho {
                field: "Invoiced_Items".into(),
            },
        );
        let r = validate(&m, &cat, Direction::ZohoToQbo);
        assert_eq!(codes(&r.errors), vec![IssueCode::IncompatibleTypes]);
    }

    #[test]
    fn read_only_and_doubly_used_zoho_fields_warn_when_writing_zoho() {
        let pair = ModulePair::InvoicesInvoices;
        let mut m = default_mapping(pair, SalesOrderTarget::Invoice);
        m.set(
            "DocNumber",
            MappingSource::Zoho {
                field: "Invoice_Number".into(),
            },
        );
        m.set(
            "BillEmail.Address",
            MappingSource::Zoho {
                field: "Description".into(),
            },
        );
        let one_way = check(&m, pair, Direction::ZohoToQbo);
        assert!(
            one_way
                .warnings
                .iter()
                .all(|w| w.code == IssueCode::TypeMismatch),
            "{:?}",
            one_way.warnings
        );
        m.set(
            "TrackingNum",
            MappingSource::Zoho {
                field: "Contact_Name".into(),
            },
        );
        let both = check(&m, pair, Direction::Bidirectional);
        let w = codes(&both.warnings);
        assert!(
            w.contains(&IssueCode::NotCopiedBack),
            "a lookup's name is not written back"
        );
        assert!(w.contains(&IssueCode::ReadOnlyZohoField));
        assert!(w.contains(&IssueCode::ZohoFieldMappedTwice));
        assert!(w.contains(&IssueCode::RequiredZohoFieldMissing), "Subject");
    }

    fn accounts_record() -> Value {
        serde_json::json!({
            "id": "4150868000000002175",
            "Account_Name": "Zylker Corp",
            "Phone": "(650) 555-3311",
            "Fax": null,
            "Website": "https://zylker.example",
            "Billing_Street": "4581 Finch St.",
            "Billing_City": "Bayshore",
            "Billing_State": "CA",
            "Billing_Code": "94326",
            "Shipping_Street": "",
            "Description": "Key account",
            "Owner": {"name": "Patricia", "id": "1"}
        })
    }

    #[test]
    fn zoho_account_becomes_a_qbo_customer() {
        let pair = ModulePair::AccountsCustomers;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping.set(
            "PreferredDeliveryMethod",
            MappingSource::Static {
                value: "email".into(),
            },
        );
        mapping.set(
            "SalesTermRef",
            MappingSource::Static {
                value: "Net 30".into(),
            },
        );
        mapping.set("CustomField[1]", MappingSource::Zoho { field: "id".into() });
        let out = zoho_to_qbo(&mapping, pair, &cat, &accounts_record()).unwrap();
        assert_eq!(
            out.payload,
            serde_json::json!({
                "DisplayName": "Zylker Corp",
                "PrimaryPhone": {"FreeFormNumber": "(650) 555-3311"},
                "WebAddr": {"URI": "https://zylker.example"},
                "Notes": "Key account",
                "BillAddr": {"Line1": "4581 Finch St.", "City": "Bayshore",
                             "CountrySubDivisionCode": "CA", "PostalCode": "94326"},
                "PreferredDeliveryMethod": "Email",
                "Fax": {"FreeFormNumber": ""},
                "ShipAddr": {"Line1": ""},
                "SalesTermRef": {"name": "Net 30"},
                "CustomField": [{"DefinitionId": "1", "Type": "StringType",
                                 "StringValue": "4150868000000002175"}]
            })
        );
        assert_eq!(out.references.len(), 1);
        let term = &out.references[0];
        assert_eq!(term.kind, RefKind::Term);
        assert_eq!(term.pointer, "/SalesTermRef");
        assert_eq!(term.name.as_deref(), Some("Net 30"));
        assert_eq!(term.source_id, None);
    }

    #[test]
    fn bad_values_name_their_fields() {
        let pair = ModulePair::ProductsItems;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let record = serde_json::json!({"Product_Name": "x".repeat(120), "Unit_Price": "ten",
                                        "Qty_in_Stock": "12", "Taxable": "yes"});
        let err = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap_err();
        let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["Name", "UnitPrice"]);
        assert!(
            err.to_string()
                .contains("UnitPrice: \"ten\" is not a number")
        );
        assert!(err.to_string().contains("QuickBooks allows at most 100"));
        let ok = serde_json::json!({"Product_Name": "Pump", "Unit_Price": "15.5",
                                    "Qty_in_Stock": 25, "Taxable": "yes"});
        let out = zoho_to_qbo(&mapping, pair, &cat, &ok).unwrap();
        assert_eq!(out.payload["UnitPrice"], 15.5);
        assert_eq!(out.payload["QtyOnHand"], 25.0);
        assert_eq!(out.payload["Taxable"], true);
    }

    fn quote_record() -> Value {
        serde_json::json!({
            "id": "900",
            "Subject": "Fountains",
            "Account_Name": {"name": "Zylker Corp", "id": "111"},
            "Valid_Till": "2026-06-30",
            "Quoted_Items": [
                {"Product_Name": {"name": "Pump", "id": "201"}, "Quantity": 2, "List_Price": 15.5,
                 "Description": "Fountain pump"},
                {"Product_Name": {"name": "Widget", "id": "202"}, "Quantity": "3", "ListPrice": 0.1,
                 "Discount": 1},
                {"Product_Name": {"id": "203"}, "_delete": true}
            ]
        })
    }

    #[test]
    fn quote_lines_become_estimate_lines_with_pending_products() {
        let pair = ModulePair::QuotesEstimates;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let mut out = zoho_to_qbo(&mapping, pair, &cat, &quote_record()).unwrap();
        assert_eq!(
            out.payload["CustomerRef"],
            serde_json::json!({"value": "111"})
        );
        assert_eq!(out.payload["ExpirationDate"], "2026-06-30");
        let lines = out.payload["Line"].as_array().unwrap();
        assert_eq!(lines.len(), 2, "deleted rows are dropped");
        assert_eq!(
            lines[0],
            serde_json::json!({"DetailType": "SalesItemLineDetail", "Amount": 31.0,
                "Description": "Fountain pump",
                "SalesItemLineDetail": {"ItemRef": {"value": "201"}, "Qty": 2.0, "UnitPrice": 15.5}})
        );
        assert_eq!(lines[1]["Amount"], 0.3, "rounded to cents");
        assert_eq!(out.notes.len(), 1);
        assert!(out.notes[0].starts_with("line 2: the Zoho discount"));
        let pointers: Vec<&str> = out.references.iter().map(|r| r.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/CustomerRef",
                "/Line/0/SalesItemLineDetail/ItemRef",
                "/Line/1/SalesItemLineDetail/ItemRef"
            ]
        );

        // The engine knows the customer and the pump, not the widget.
        let err = out
            .resolve(|r| match (r.kind, r.source_id.as_deref()) {
                (RefKind::Customer, Some("111")) => Some("24".into()),
                (RefKind::Item, Some("201")) => Some("5".into()),
                _ => None,
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: product 'Widget' (Zoho id 202) is not synced to QuickBooks Online"
        );
        assert_eq!(
            out.payload["CustomerRef"],
            serde_json::json!({"value": "24"})
        );
        assert_eq!(
            out.payload["Line"][0]["SalesItemLineDetail"]["ItemRef"],
            serde_json::json!({"value": "5"})
        );
        assert_eq!(out.references.len(), 1, "only the unresolved one remains");
        out.resolve(|_| Some("6".into())).unwrap();
        assert!(out.references.is_empty());
        assert_eq!(
            out.payload["Line"][1]["SalesItemLineDetail"]["ItemRef"]["value"],
            "6"
        );
    }

    #[test]
    fn line_item_problems_are_reported() {
        let pair = ModulePair::InvoicesInvoices;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let empty = serde_json::json!({"Account_Name": {"id": "1"}, "Invoiced_Items": []});
        let err = zoho_to_qbo(&mapping, pair, &cat, &empty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Line: the record has no line items; a QuickBooks Invoice needs at least one product line"
        );
        let no_product = serde_json::json!({"Invoiced_Items": [{"Quantity": 1}, {"Product_Name": {"id": "2"}, "Quantity": "lots"}]});
        let err = zoho_to_qbo(&mapping, pair, &cat, &no_product).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: no product is chosen; line 2: quantity \"lots\" is not a number"
        );
        // Without the subform in the record (a sparse read), Line is left alone.
        let header_only =
            serde_json::json!({"Account_Name": {"id": "1"}, "Due_Date": "2026-07-01"});
        let out = zoho_to_qbo(&mapping, pair, &cat, &header_only).unwrap();
        assert!(out.payload.get("Line").is_none());
    }

    #[test]
    fn purchase_orders_use_item_based_expense_lines_and_vendor_refs() {
        let pair = ModulePair::PurchaseOrders;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let record = serde_json::json!({
            "Vendor_Name": {"name": "Bob's", "id": "77"}, "PO_Date": "2026-05-05T10:00:00+05:30",
            "Purchase_Items": [{"Product_Name": {"id": "201"}, "Quantity": 4, "List_Price": 2.5}]
        });
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(out.payload["VendorRef"]["value"], "77");
        assert_eq!(
            out.payload["TxnDate"], "2026-05-05",
            "date fields take the calendar date"
        );
        assert_eq!(
            out.payload["Line"][0]["DetailType"],
            "ItemBasedExpenseLineDetail"
        );
        assert_eq!(
            out.payload["Line"][0]["ItemBasedExpenseLineDetail"]["Qty"],
            4.0
        );
        assert_eq!(out.references[0].kind, RefKind::Vendor);
        assert_eq!(out.references[1].kind, RefKind::Item);
    }

    #[test]
    fn qbo_invoice_becomes_a_zoho_invoice() {
        let pair = ModulePair::InvoicesInvoices;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping.set(
            "PrivateNote",
            MappingSource::Static {
                value: "never to Zoho".into(),
            },
        );
        mapping.set(
            "DocNumber",
            MappingSource::Zoho {
                field: "Invoice_Number".into(),
            },
        );
        let record = serde_json::json!({
            "Id": "130", "DocNumber": "1037", "TxnDate": "2026-04-08", "DueDate": "2026-05-08",
            "CustomerRef": {"value": "24", "name": "Sonnenschein Family Store"},
            "PrivateNote": "internal",
            "BillAddr": {"Line1": "1 Main St", "City": "Springfield"},
            "Line": [
                {"Id": "1", "LineNum": 1, "Description": "Rock Fountain", "Amount": 275,
                 "DetailType": "SalesItemLineDetail",
                 "SalesItemLineDetail": {"ItemRef": {"value": "5", "name": "Rock Fountain"},
                                         "UnitPrice": 275, "Qty": 1}},
                {"Amount": 10, "DetailType": "SalesItemLineDetail",
                 "SalesItemLineDetail": {"ItemRef": {"value": "6"}, "Qty": 4}},
                {"Amount": 10, "DetailType": "DiscountLineDetail", "DiscountLineDetail": {}},
                {"Amount": 285, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
            ]
        });
        let mut out = qbo_to_zoho(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(
            out.payload,
            serde_json::json!({
                "Account_Name": {"id": "24"},
                "Invoice_Date": "2026-04-08",
                "Due_Date": "2026-05-08",
                "Billing_Street": "1 Main St",
                "Billing_City": "Springfield",
                "Billing_State": null, "Billing_Code": null, "Billing_Country": null,
                "Shipping_Street": null, "Shipping_City": null, "Shipping_State": null,
                "Shipping_Code": null, "Shipping_Country": null,
                "Terms_and_Conditions": null,
                "Invoiced_Items": [
                    {"Product_Name": {"id": "5"}, "Quantity": 1.0, "List_Price": 275.0,
                     "Description": "Rock Fountain"},
                    {"Product_Name": {"id": "6"}, "Quantity": 4.0, "List_Price": 2.5}
                ]
            }),
            "static values and read-only Invoice_Number are not written to Zoho; fields QBO leaves out are cleared"
        );
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        assert!(out.notes[0].contains("DiscountLineDetail"));
        assert!(out.references.iter().all(|r| r.target == System::Zoho));
        let err = out
            .resolve(|r| (r.kind == RefKind::Customer).then(|| "4150".to_owned()))
            .unwrap_err();
        assert_eq!(
            err.0
                .iter()
                .map(PendingReference::unresolved_message)
                .collect::<Vec<_>>(),
            vec![
                "line 1: product 'Rock Fountain' (QuickBooks id 5) is not synced to Zoho CRM",
                "line 2: product (QuickBooks id 6) is not synced to Zoho CRM"
            ]
        );
        assert_eq!(
            out.payload["Account_Name"],
            serde_json::json!({"id": "4150"})
        );
    }

    #[test]
    fn references_name_the_pair_whose_links_resolve_them() {
        let pair = ModulePair::QuotesEstimates;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let record = quote_record();
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        let linked: Vec<Option<ModulePair>> =
            out.references.iter().map(|r| r.linked_pair).collect();
        assert_eq!(
            linked,
            vec![
                Some(ModulePair::AccountsCustomers),
                Some(ModulePair::ProductsItems),
                Some(ModulePair::ProductsItems)
            ]
        );
        // A quote billed to a contact resolves through Contacts ↔ Customers.
        mapping.set(
            "CustomerRef",
            MappingSource::Zoho {
                field: "Contact_Name".into(),
            },
        );
        assert!(validate(&mapping, &cat, Direction::Bidirectional).is_ok());
        let mut record = record;
        record["Contact_Name"] = serde_json::json!({"name": "Ann", "id": "333"});
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(
            out.references[0].linked_pair,
            Some(ModulePair::ContactsCustomers)
        );
        assert_eq!(out.references[0].source_id.as_deref(), Some("333"));
        let back = qbo_to_zoho(&mapping, pair, &cat, &out.payload).unwrap();
        assert_eq!(
            back.payload["Contact_Name"],
            serde_json::json!({"id": "333"})
        );
        assert_eq!(
            back.references[0].linked_pair,
            Some(ModulePair::ContactsCustomers)
        );
    }

    fn custom_zoho(api_name: &str, data_type: DataType, values: &[&str]) -> ZohoField {
        ZohoField {
            api_name: api_name.into(),
            label: api_name.replace('_', " "),
            data_type,
            source: FieldSource::Custom,
            required: false,
            read_only: false,
            picklist_values: values.iter().map(|v| (*v).to_owned()).collect(),
            lookup_module: None,
        }
    }

    #[test]
    fn transforms_change_text_on_the_way_to_qbo() {
        let pair = ModulePair::AccountsCustomers;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let display = mapping
            .fields
            .iter_mut()
            .find(|f| f.qbo_field == "DisplayName")
            .unwrap();
        display.transforms = vec![Transform::Trim, Transform::Upper];
        assert!(validate(&mapping, &cat, Direction::ZohoToQbo).is_ok());
        let mut record = accounts_record();
        record["Account_Name"] = json!("  Zylker Corp ");
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(out.payload["DisplayName"], "ZYLKER CORP");
        assert_eq!(Transform::Lower.apply("ÄB"), "äb");
        // A translated value is written as entered, untouched by transforms.
        let display = mapping
            .fields
            .iter_mut()
            .find(|f| f.qbo_field == "DisplayName")
            .unwrap();
        display.value_map = vec![ValueMapEntry {
            zoho: "zylker corp".into(),
            qbo: "Zylker (HQ)".into(),
        }];
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(out.payload["DisplayName"], "Zylker (HQ)");
        record["Account_Name"] = json!(" acme ");
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(out.payload["DisplayName"], "ACME");

        let pair = ModulePair::ProductsItems;
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping
            .fields
            .iter_mut()
            .find(|f| f.qbo_field == "UnitPrice")
            .unwrap()
            .transforms = vec![Transform::Trim];
        let report = check(&mapping, pair, Direction::ZohoToQbo);
        assert_eq!(codes(&report.errors), vec![IssueCode::IncompatibleTypes]);
        assert!(
            report.errors[0]
                .message
                .contains("apply to text; UnitPrice is currency")
        );
    }

    #[test]
    fn value_maps_translate_both_ways() {
        let pair = ModulePair::AccountsCustomers;
        let mut cat = catalogue(pair, SalesOrderTarget::Invoice);
        cat.zoho.push(custom_zoho(
            "Payment_Terms",
            DataType::Picklist,
            &["Net 30", "Due on receipt"],
        ));
        cat.zoho.push(custom_zoho(
            "Delivery",
            DataType::Picklist,
            &["Paper", "Mail"],
        ));
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let mut terms = FieldMapping::zoho("SalesTermRef", "Payment_Terms");
        terms.value_map = vec![ValueMapEntry {
            zoho: "Net 30".into(),
            qbo: "3".into(),
        }];
        mapping.fields.push(terms);
        let mut delivery = FieldMapping::zoho("PreferredDeliveryMethod", "Delivery");
        delivery.value_map = vec![
            ValueMapEntry {
                zoho: "Paper".into(),
                qbo: "Print".into(),
            },
            ValueMapEntry {
                zoho: "Mail".into(),
                qbo: "Email".into(),
            },
        ];
        mapping.fields.push(delivery);
        let report = validate(&mapping, &cat, Direction::ZohoToQbo);
        assert_eq!(
            report,
            ValidationReport::default(),
            "translated values fit QBO's choices"
        );

        let mut record = accounts_record();
        record["Payment_Terms"] = json!("net 30");
        record["Delivery"] = json!("Mail");
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(out.payload["SalesTermRef"], json!({"value": "3"}));
        assert_eq!(out.payload["PreferredDeliveryMethod"], "Email");
        assert!(out.references.is_empty(), "a mapped term needs no lookup");

        record["Payment_Terms"] = json!("Due on receipt");
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(
            out.payload["SalesTermRef"],
            json!({"name": "Due on receipt"})
        );
        assert_eq!(out.references[0].kind, RefKind::Term);

        let customer = json!({"DisplayName": "Zylker Corp",
            "SalesTermRef": {"value": "3", "name": "Net 30 days"},
            "PreferredDeliveryMethod": "Print"});
        let back = qbo_to_zoho(&mapping, pair, &cat, &customer).unwrap();
        assert_eq!(back.payload["Payment_Terms"], "Net 30");
        assert_eq!(back.payload["Delivery"], "Paper");
    }

    #[test]
    fn value_map_mistakes_are_reported() {
        let pair = ModulePair::AccountsCustomers;
        let mut cat = catalogue(pair, SalesOrderTarget::Invoice);
        cat.zoho.push(custom_zoho(
            "Delivery",
            DataType::Picklist,
            &["Paper", "Mail", "Fax"],
        ));
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let mut delivery = FieldMapping::zoho("PreferredDeliveryMethod", "Delivery");
        delivery.value_map = vec![
            ValueMapEntry {
                zoho: "Paper".into(),
                qbo: "Print".into(),
            },
            ValueMapEntry {
                zoho: "paper".into(),
                qbo: "Email".into(),
            },
            ValueMapEntry {
                zoho: "Mail".into(),
                qbo: "Carrier pigeon".into(),
            },
            ValueMapEntry {
                zoho: "".into(),
                qbo: "Email".into(),
            },
            ValueMapEntry {
                zoho: "Telex".into(),
                qbo: "None".into(),
            },
        ];
        mapping.fields.push(delivery);
        let report = validate(&mapping, &cat, Direction::ZohoToQbo);
        let messages: Vec<&str> = report.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(report.errors.len(), 3, "{messages:?}");
        assert!(messages[0].contains("\"paper\" is translated twice"));
        assert!(messages[1].contains("\"Carrier pigeon\" is not allowed"));
        assert!(messages[2].contains("needs both a Zoho value and a QuickBooks value"));
        let warnings: Vec<&str> = report.warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("\"Telex\" is not one of Delivery's values"))
        );
        // "Fax" has no translation and "Mail" translates to no QBO choice.
        assert!(
            warnings.iter().any(|w| w.contains("Delivery = Mail, Fax")),
            "{warnings:?}"
        );
    }

    #[test]
    fn combined_fields_join_into_qbo_text() {
        let pair = ModulePair::ContactsCustomers;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping.set(
            "DisplayName",
            MappingSource::Combine {
                fields: vec!["First_Name".into(), "Last_Name".into()],
                separator: " ".into(),
            },
        );
        assert!(check(&mapping, pair, Direction::ZohoToQbo).is_ok());
        let both = check(&mapping, pair, Direction::Bidirectional);
        assert!(both.is_ok());
        assert!(codes(&both.warnings).contains(&IssueCode::NotCopiedBack));

        let record = json!({"First_Name": " Ann ", "Last_Name": "Lee", "Email": "ann@example.com"});
        let out = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
        assert_eq!(out.payload["DisplayName"], "Ann Lee");
        let no_first = json!({"First_Name": null, "Last_Name": "Lee"});
        assert_eq!(
            zoho_to_qbo(&mapping, pair, &cat, &no_first)
                .unwrap()
                .payload["DisplayName"],
            "Lee"
        );
        let not_fetched = json!({"Last_Name": "Lee"});
        assert!(
            zoho_to_qbo(&mapping, pair, &cat, &not_fetched)
                .unwrap()
                .payload
                .get("DisplayName")
                .is_none()
        );

        let back = qbo_to_zoho(
            &mapping,
            pair,
            &cat,
            &json!({"DisplayName": "Ann Lee", "GivenName": "Ann"}),
        )
        .unwrap();
        assert_eq!(back.payload["First_Name"], "Ann");
        assert!(back.payload.get("DisplayName").is_none());
        assert!(back.payload.get("Full_Name").is_none());

        let json = serde_json::to_value(mapping.row("DisplayName").unwrap()).unwrap();
        assert_eq!(
            json,
            json!({"qbo_field": "DisplayName", "kind": "combine",
                                 "fields": ["First_Name", "Last_Name"], "separator": " "})
        );

        let mut bad = mapping.clone();
        bad.set(
            "DisplayName",
            MappingSource::Combine {
                fields: vec!["Nope".into()],
                separator: String::new(),
            },
        );
        let codes_bad = codes(&check(&bad, pair, Direction::ZohoToQbo).errors);
        assert_eq!(
            codes_bad,
            vec![IssueCode::InvalidCombination, IssueCode::UnknownZohoField]
        );
        let pair = ModulePair::ProductsItems;
        let mut into_number = default_mapping(pair, SalesOrderTarget::Invoice);
        into_number.set(
            "UnitPrice",
            MappingSource::Combine {
                fields: vec!["Product_Name".into(), "Product_Code".into()],
                separator: "-".into(),
            },
        );
        assert_eq!(
            codes(&check(&into_number, pair, Direction::ZohoToQbo).errors),
            vec![IssueCode::IncompatibleTypes]
        );
    }

    #[test]
    fn qbo_items_clear_emptied_zoho_fields_but_not_flags() {
        let pair = ModulePair::ProductsItems;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        let item = json!({"Name": "Pump", "UnitPrice": 15, "Type": "Inventory", "QtyOnHand": 25});
        let out = qbo_to_zoho(&mapping, pair, &cat, &item).unwrap();
        assert_eq!(
            out.payload,
            json!({"Product_Name": "Pump", "Unit_Price": 15.0, "Qty_in_Stock": 25.0,
                   "Product_Code": null, "Description": null, "Reorder_Level": null})
        );
    }

    #[test]
    fn fields_to_read_cover_mapping_filters_and_lines() {
        let pair = ModulePair::QuotesEstimates;
        let mut mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        mapping.set(
            "TrackingNum",
            MappingSource::Static {
                value: "n/a".into(),
            },
        );
        mapping.set(
            "DocNumber",
            MappingSource::Combine {
                fields: vec!["Subject".into(), "Carrier".into()],
                separator: "-".into(),
            },
        );
        let filters = FilterSet::new(
            crate::filters::Combinator::And,
            vec![
                FilterRow::new("Quote_Stage", Condition::Equals, "Confirmed"),
                FilterRow::new("Subject", Condition::IsNotEmpty, ""),
            ],
        );
        let fields = zoho_fields_to_read(&mapping, pair, &filters);
        for expected in [
            "id",
            "Modified_Time",
            "Account_Name",
            "Valid_Till",
            "Billing_Street",
            "Subject",
            "Carrier",
            "Quote_Stage",
            "Quoted_Items",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected} missing from {fields:?}"
            );
        }
        assert!(!fields.iter().any(|f| f == "n/a" || f == "TrackingNum"));
        let mut sorted = fields.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, fields);
        for pair in ModulePair::ALL {
            let defaults = default_mapping(pair, SalesOrderTarget::Invoice);
            assert!(
                zoho_fields_to_read(&defaults, pair, &FilterSet::default()).len()
                    <= ZOHO_MAX_FIELDS_PER_READ
            );
        }
    }

    #[test]
    fn unresolved_name_lookups_say_not_found() {
        let reference = PendingReference {
            pointer: "/SalesTermRef".into(),
            kind: RefKind::Term,
            target: System::Qbo,
            source_id: None,
            name: Some("Net 45".into()),
            line: None,
            linked_pair: None,
        };
        assert_eq!(
            reference.unresolved_message(),
            "payment term 'Net 45' was not found in QuickBooks Online"
        );
    }

    /// Links store the fingerprints of mapped records: the mapping may be rewritten, but what it
    /// builds must hash the same, or every linked record would be written again after an
    /// upgrade. Values computed by the first implementation (the two parallel directions).
    #[test]
    fn mapped_fingerprints_are_pinned() {
        let mut seen = Vec::new();
        for target in [SalesOrderTarget::Invoice, SalesOrderTarget::Estimate] {
            for pair in ModulePair::ALL {
                let cat = catalogue(pair, target);
                let mapping = default_mapping(pair, target);
                let mut record = Map::new();
                for (n, row) in mapping.fields.iter().enumerate() {
                    let name = row.zoho_field().unwrap();
                    let value = match cat.zoho_field(name).unwrap().data_type.family() {
                        TypeFamily::Number => json!(n as f64 * 12.5),
                        TypeFamily::Boolean => json!(n % 2 == 0),
                        TypeFamily::Date => json!(format!("2026-0{}-1{}", n % 9 + 1, n % 10)),
                        TypeFamily::Reference => {
                            json!({"id": format!("41508680000000{n}"), "name": format!("Record {n}")})
                        }
                        _ => json!(format!("Value {n}")),
                    };
                    record.insert(name.to_owned(), value);
                }
                if let Some(key) = pair.zoho_module().line_items_key() {
                    record.insert(key.to_owned(), json!([
                        {"Product_Name": {"id": "201", "name": "Pump"}, "Quantity": 2, "List_Price": 15.5, "Description": "Fountain pump"},
                        {"Product_Name": {"id": "202"}, "Quantity": "3", "ListPrice": 0.1, "Discount": 1},
                    ]));
                }
                let to_qbo = zoho_to_qbo(&mapping, pair, &cat, &Value::Object(record)).unwrap();
                seen.push(to_qbo.fingerprint());
                let mut resolved = to_qbo.clone();
                resolved
                    .resolve(|r| r.source_id.as_ref().map(|id| format!("Q{id}")))
                    .unwrap();
                seen.push(resolved.fingerprint());
                let back = qbo_to_zoho(&mapping, pair, &cat, &resolved.payload).unwrap();
                seen.push(back.fingerprint());
            }
        }
        let mut accounts =
            default_mapping(ModulePair::AccountsCustomers, SalesOrderTarget::Invoice);
        accounts.set(
            "SalesTermRef",
            MappingSource::Static {
                value: "Net 30".into(),
            },
        );
        accounts.set("CustomField[1]", MappingSource::Zoho { field: "id".into() });
        let cat = catalogue(ModulePair::AccountsCustomers, SalesOrderTarget::Invoice);
        seen.push(
            zoho_to_qbo(
                &accounts,
                ModulePair::AccountsCustomers,
                &cat,
                &accounts_record(),
            )
            .unwrap()
            .fingerprint(),
        );
        let invoice = json!({
            "Id": "130", "DocNumber": "1037", "TxnDate": "2026-04-08", "DueDate": "2026-05-08",
            "CustomerRef": {"value": "24", "name": "Sonnenschein Family Store"},
            "Line": [
                {"Amount": 275, "DetailType": "SalesItemLineDetail", "Description": "Rock Fountain",
                 "SalesItemLineDetail": {"ItemRef": {"value": "5", "name": "Rock Fountain"}, "UnitPrice": 275, "Qty": 1}},
                {"Amount": 10, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "6"}, "Qty": 4}},
                {"Amount": 10, "DetailType": "DiscountLineDetail", "DiscountLineDetail": {}}
            ]
        });
        let pair = ModulePair::InvoicesInvoices;
        let cat = catalogue(pair, SalesOrderTarget::Invoice);
        let mapping = default_mapping(pair, SalesOrderTarget::Invoice);
        seen.push(
            qbo_to_zoho(&mapping, pair, &cat, &invoice)
                .unwrap()
                .fingerprint(),
        );
        // Per pair and sales-order target: to QBO, to QBO resolved, and back to Zoho.
        let pinned = [
            "5e5e5c2d6a53d155",
            "5e5e5c2d6a53d155",
            "3f987dfc041dced6",
            "de75c387bcabf1ac",
            "de75c387bcabf1ac",
            "61d30e7cb15d2f9d",
            "0859e40cfb8f89cb",
            "0859e40cfb8f89cb",
            "5c0bd1166820ee3f",
            "926448397f4b8bbc",
            "926448397f4b8bbc",
            "fa9a9cdfdf4ba0f5",
            "b659dadbf8f848eb",
            "6e57f40aeed14c97",
            "95292d746cd4b081",
            "c8d80b999b7170b6",
            "41ab1d4eacef2c80",
            "3bbea2c8a72b9fc5",
            "76dcb1c0e39461d5",
            "1599d2e469a1b2c7",
            "7f5a5e16c1baf5e0",
            "ecbf1a7daf69e66f",
            "c6416c8bb463c55d",
            "4fd7ca50ca5e7acb",
            "5e5e5c2d6a53d155",
            "5e5e5c2d6a53d155",
            "3f987dfc041dced6",
            "de75c387bcabf1ac",
            "de75c387bcabf1ac",
            "61d30e7cb15d2f9d",
            "0859e40cfb8f89cb",
            "0859e40cfb8f89cb",
            "5c0bd1166820ee3f",
            "926448397f4b8bbc",
            "926448397f4b8bbc",
            "fa9a9cdfdf4ba0f5",
            "b659dadbf8f848eb",
            "6e57f40aeed14c97",
            "95292d746cd4b081",
            "b659dadbf8f848eb",
            "6e57f40aeed14c97",
            "3bbea2c8a72b9fc5",
            "76dcb1c0e39461d5",
            "1599d2e469a1b2c7",
            "7f5a5e16c1baf5e0",
            "ecbf1a7daf69e66f",
            "c6416c8bb463c55d",
            "4fd7ca50ca5e7acb",
            "74fb8677a631bcf2",
            "602da94eeb1e6d2b",
        ];
        assert_eq!(seen, pinned, "{seen:#?}");
    }

    proptest! {
        #[test]
        fn account_fields_round_trip(values in proptest::collection::vec("[A-Za-z0-9 .,'#-]{0,40}", 17)) {
            let pair = ModulePair::AccountsCustomers;
            let cat = catalogue(pair, SalesOrderTarget::Invoice);
            let mapping = default_mapping(pair, SalesOrderTarget::Invoice);
            let mut record = Map::new();
            for (row, value) in mapping.fields.iter().zip(&values) {
                record.insert(row.zoho_field().unwrap().to_owned(), json!(value));
            }
            let record = Value::Object(record);
            let to_qbo = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
            let back = qbo_to_zoho(&mapping, pair, &cat, &to_qbo.payload).unwrap();
            for row in &mapping.fields {
                let name = row.zoho_field().unwrap();
                let original = record.get(name).and_then(Value::as_str).unwrap();
                if original.trim().is_empty() {
                    prop_assert_eq!(
                        back.payload.get(name),
                        Some(&Value::Null),
                        "blank values clear the field on both sides"
                    );
                } else {
                    prop_assert_eq!(back.payload.get(name), Some(&json!(original)));
                }
            }
        }

        #[test]
        fn every_default_mapping_round_trips(
            pair_index in 0usize..8,
            estimate in any::<bool>(),
            seeds in proptest::collection::vec((1u64..u64::MAX / 4, any::<bool>()), 40),
        ) {
            let pair = ModulePair::ALL[pair_index];
            let target = if estimate { SalesOrderTarget::Estimate } else { SalesOrderTarget::Invoice };
            let cat = catalogue(pair, target);
            let mapping = default_mapping(pair, target);
            // A Zoho record with a typed value in every mapped field.
            let mut record = Map::new();
            for (row, (n, flag)) in mapping.fields.iter().zip(&seeds) {
                let name = row.zoho_field().unwrap();
                let field = cat.zoho_field(name).unwrap();
                let value = match field.data_type.family() {
                    TypeFamily::Number => json!(f64::from((n % 10_000_000) as u32) / 100.0),
                    TypeFamily::Boolean => json!(flag),
                    TypeFamily::Date => json!(format!("20{:02}-{:02}-{:02}", n % 40, n % 12 + 1, n % 28 + 1)),
                    TypeFamily::Reference => json!({"id": format!("{}", 4_150_868_000_000_000_000 + n % 1_000_000), "name": format!("Record {n}")}),
                    // Short enough for QBO's tightest limit (DocNumber, 21).
                    _ => json!(format!("V {}{}", n % 100_000_000, if *flag { " x" } else { "" })),
                };
                record.insert(name.to_owned(), value);
            }
            let record = Value::Object(record);
            let mut to_qbo = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
            // The engine's links, as a bijection: Zoho id ↔ "Q" + Zoho id.
            to_qbo.resolve(|r| r.source_id.as_ref().map(|id| format!("Q{id}"))).unwrap();
            let mut back = qbo_to_zoho(&mapping, pair, &cat, &to_qbo.payload).unwrap();
            back.resolve(|r| r.source_id.as_ref().and_then(|id| id.strip_prefix('Q')).map(str::to_owned)).unwrap();
            for row in &mapping.fields {
                let name = row.zoho_field().unwrap();
                let field = cat.zoho_field(name).unwrap();
                if field.read_only {
                    prop_assert!(back.payload.get(name).is_none(), "{} is read-only", name);
                    continue;
                }
                let original = &record[name];
                let round = &back.payload[name];
                match field.data_type.family() {
                    TypeFamily::Number => prop_assert_eq!(original.as_f64(), round.as_f64(), "{}", name),
                    TypeFamily::Reference => prop_assert_eq!(&original["id"], &round["id"], "{}", name),
                    _ => prop_assert_eq!(original, round, "{}", name),
                }
            }
        }

        #[test]
        fn line_items_round_trip(lines in proptest::collection::vec(
            ("[1-9][0-9]{0,18}", 1u32..1000, 0u32..10_000_000), 1..8)) {
            let pair = ModulePair::SalesOrders;
            let target = SalesOrderTarget::Estimate;
            let cat = catalogue(pair, target);
            let mapping = default_mapping(pair, target);
            let rows: Vec<Value> = lines.iter().map(|(id, qty, cents)| json!({
                "Product_Name": {"id": id}, "Quantity": qty, "List_Price": f64::from(*cents) / 100.0
            })).collect();
            let record = json!({"Account_Name": {"id": "1"}, "Ordered_Items": rows});
            let to_qbo = zoho_to_qbo(&mapping, pair, &cat, &record).unwrap();
            for (i, line) in to_qbo.payload["Line"].as_array().unwrap().iter().enumerate() {
                let detail = &line["SalesItemLineDetail"];
                let amount = detail["Qty"].as_f64().unwrap() * detail["UnitPrice"].as_f64().unwrap();
                prop_assert!((line["Amount"].as_f64().unwrap() - amount).abs() < 0.005 + 1e-9, "line {}", i);
            }
            let back = qbo_to_zoho(&mapping, pair, &cat, &to_qbo.payload).unwrap();
            let back_rows = back.payload["Ordered_Items"].as_array().unwrap();
            prop_assert_eq!(back_rows.len(), rows.len());
            for (original, round) in rows.iter().zip(back_rows) {
                prop_assert_eq!(&original["Product_Name"]["id"], &round["Product_Name"]["id"]);
                prop_assert_eq!(original["Quantity"].as_f64(), round["Quantity"].as_f64());
                prop_assert_eq!(original["List_Price"].as_f64(), round["List_Price"].as_f64());
            }
            prop_assert_eq!(
                back.references.iter().filter(|r| r.kind == RefKind::Item).count(),
                rows.len()
            );
        }
    }
}
