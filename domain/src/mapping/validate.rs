//! The checks the Submit button runs before a mapping is saved (SPEC §4).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::convert::convert_static;
use super::{FieldMapping, Mapping, MappingSource};
use crate::fields::{
    DataType, FieldCatalogue, QboField, Requirement, TypeFamily, ZohoField, find_qbo, find_zoho,
};
use crate::pairs::Direction;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldSource;
    use crate::mapping::ValueMapEntry;
    use crate::mapping::default_mapping;
    use crate::mapping::test_support::{catalogue, check, codes, custom_zoho};
    use crate::pairs::{ModulePair, SalesOrderTarget};

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
}
