//! The field catalogue: what fields exist on each side of a pair.
//!
//! Mapping validation, the mapping page's pickers and the filter page's field
//! choices all need to know a field's type, whether QBO requires it to create a
//! record, and whether it refers to another record. QBO has no field metadata
//! API, so its standard fields live here as data (custom fields are discovered
//! at run time and added as [`FieldSource::Custom`]); Zoho's standard fields used
//! by the default mappings live here too, and [`ZohoField::from_metadata`] turns
//! Zoho's field metadata API answer into the same type.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pairs::{ModulePair, QboEntity, SalesOrderTarget, ZohoModule};

mod qbo_standard;
mod zoho_standard;

pub use qbo_standard::qbo_standard_fields;
pub use zoho_standard::zoho_standard_fields;

/// A field's type, shared by both systems so compatibility can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    Text,
    TextArea,
    Email,
    Phone,
    Url,
    Integer,
    Decimal,
    Currency,
    Percent,
    Boolean,
    Date,
    DateTime,
    Picklist,
    MultiPicklist,
    /// A reference to another record: Zoho lookups, QBO `…Ref` objects.
    Reference,
    /// Zoho subforms (line items); not mappable field by field.
    Subform,
    Other,
}

/// Coarse groups of [`DataType`] used to decide compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeFamily {
    Text,
    Number,
    Boolean,
    Date,
    Choice,
    Reference,
    Other,
}

impl DataType {
    pub fn family(self) -> TypeFamily {
        match self {
            DataType::Text
            | DataType::TextArea
            | DataType::Email
            | DataType::Phone
            | DataType::Url => TypeFamily::Text,
            DataType::Integer | DataType::Decimal | DataType::Currency | DataType::Percent => {
                TypeFamily::Number
            }
            DataType::Boolean => TypeFamily::Boolean,
            DataType::Date | DataType::DateTime => TypeFamily::Date,
            DataType::Picklist | DataType::MultiPicklist => TypeFamily::Choice,
            DataType::Reference => TypeFamily::Reference,
            DataType::Subform | DataType::Other => TypeFamily::Other,
        }
    }

    pub fn is_numeric(self) -> bool {
        self.family() == TypeFamily::Number
    }

    pub fn label(self) -> &'static str {
        match self {
            DataType::Text => "Text",
            DataType::TextArea => "Long text",
            DataType::Email => "Email",
            DataType::Phone => "Phone",
            DataType::Url => "URL",
            DataType::Integer => "Whole number",
            DataType::Decimal => "Number",
            DataType::Currency => "Currency",
            DataType::Percent => "Percent",
            DataType::Boolean => "Yes/No",
            DataType::Date => "Date",
            DataType::DateTime => "Date and time",
            DataType::Picklist => "Pick list",
            DataType::MultiPicklist => "Multi-select pick list",
            DataType::Reference => "Reference",
            DataType::Subform => "Line items",
            DataType::Other => "Other",
        }
    }

    /// Zoho's `data_type` metadata value → our type.
    pub fn from_zoho(data_type: &str) -> DataType {
        match data_type {
            "text" | "autonumber" => DataType::Text,
            "textarea" => DataType::TextArea,
            "email" => DataType::Email,
            "phone" => DataType::Phone,
            "website" => DataType::Url,
            "integer" | "bigint" => DataType::Integer,
            "double" | "decimal" => DataType::Decimal,
            "currency" => DataType::Currency,
            "percent" => DataType::Percent,
            "boolean" => DataType::Boolean,
            "date" => DataType::Date,
            "datetime" => DataType::DateTime,
            "picklist" => DataType::Picklist,
            "multiselectpicklist" => DataType::MultiPicklist,
            "lookup" | "ownerlookup" | "userlookup" => DataType::Reference,
            "subform" => DataType::Subform,
            _ => DataType::Other,
        }
    }
}

/// Standard fields come with the system; custom ones were added by the customer
/// (the mapping page marks QBO standard green and custom red).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    #[default]
    Standard,
    Custom,
}

/// What kind of record a reference field points at, so the engine knows which
/// links (or which settings) turn an id on one side into an id on the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// QBO Customer ↔ Zoho Account (or Contact).
    Customer,
    /// QBO Item ↔ Zoho Product.
    Item,
    /// QBO Vendor ↔ Zoho Vendor.
    Vendor,
    /// QBO ledger account (income/expense/asset/AP): comes from settings.
    Account,
    /// QBO payment terms (`SalesTermRef`).
    Term,
    TaxCode,
    Currency,
}

impl RefKind {
    pub fn label(self) -> &'static str {
        match self {
            RefKind::Customer => "customer",
            RefKind::Item => "product",
            RefKind::Vendor => "vendor",
            RefKind::Account => "account",
            RefKind::Term => "payment term",
            RefKind::TaxCode => "tax code",
            RefKind::Currency => "currency",
        }
    }

    /// The Zoho module a lookup of this kind points at, if any.
    pub fn zoho_module(self) -> Option<ZohoModule> {
        match self {
            RefKind::Customer => Some(ZohoModule::Accounts),
            RefKind::Item => Some(ZohoModule::Products),
            RefKind::Vendor => Some(ZohoModule::Vendors),
            _ => None,
        }
    }

    /// The pair whose links usually resolve this kind (Customer through
    /// Accounts ↔ Customers); `None` for kinds looked up by name in QBO.
    pub fn linked_pair(self) -> Option<ModulePair> {
        match self {
            RefKind::Customer => Some(ModulePair::AccountsCustomers),
            RefKind::Item => Some(ModulePair::ProductsItems),
            RefKind::Vendor => Some(ModulePair::VendorsVendors),
            _ => None,
        }
    }

    /// The kind of reference a Zoho lookup into `module` is.
    pub fn from_zoho_module(module: &str) -> Option<RefKind> {
        match module {
            "Accounts" | "Contacts" => Some(RefKind::Customer),
            "Products" => Some(RefKind::Item),
            "Vendors" => Some(RefKind::Vendor),
            _ => None,
        }
    }
}

/// Whether QBO needs a value for a field to create a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    #[default]
    Optional,
    /// Must be mapped to a Zoho field or given a static value.
    Required,
    /// Required by QBO but filled by the engine from tenant settings
    /// (Inventory Settings' accounts, item type, start date).
    FromSettings,
}

/// A QBO field. `path` is dotted for nested objects (`BillAddr.Line1`); custom
/// fields use `CustomField[<DefinitionId>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QboField {
    pub path: String,
    pub label: String,
    pub data_type: DataType,
    #[serde(default)]
    pub requirement: Requirement,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<RefKind>,
    #[serde(default)]
    pub source: FieldSource,
    /// Allowed values of QBO enumerations (e.g. `Item.Type`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// Prefix of QBO custom field paths: `CustomField[<DefinitionId>]`.
pub const QBO_CUSTOM_FIELD_PREFIX: &str = "CustomField[";

impl QboField {
    /// A QBO custom field (string-typed; legacy sales-form fields hold ≤31 chars
    /// but newer definitions more, so no length is assumed).
    pub fn custom(definition_id: &str, name: &str) -> QboField {
        QboField {
            path: format!("{QBO_CUSTOM_FIELD_PREFIX}{definition_id}]"),
            label: name.to_owned(),
            data_type: DataType::Text,
            requirement: Requirement::Optional,
            reference: None,
            source: FieldSource::Custom,
            choices: Vec::new(),
            max_length: None,
        }
    }

    /// The DefinitionId of a custom field path, `None` for standard paths.
    pub fn custom_definition_id(path: &str) -> Option<&str> {
        path.strip_prefix(QBO_CUSTOM_FIELD_PREFIX)?
            .strip_suffix(']')
    }
}

/// A Zoho CRM field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZohoField {
    pub api_name: String,
    pub label: String,
    pub data_type: DataType,
    #[serde(default)]
    pub source: FieldSource,
    /// Zoho refuses to create a record without it.
    #[serde(default)]
    pub required: bool,
    /// Zoho computes it (formulas, auto-numbers, totals): never written.
    #[serde(default)]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub picklist_values: Vec<String>,
    /// For lookups: the module looked up (`Accounts`, `Products`, `Vendors`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_module: Option<String>,
}

impl ZohoField {
    /// Reads one entry of Zoho's `GET /settings/fields` answer. `None` when the
    /// entry has no `api_name`.
    pub fn from_metadata(field: &Value) -> Option<ZohoField> {
        let api_name = field.get("api_name")?.as_str()?.to_owned();
        let label = field
            .get("display_label")
            .or_else(|| field.get("field_label"))
            .and_then(Value::as_str)
            .unwrap_or(&api_name)
            .to_owned();
        let raw_type = field.get("data_type").and_then(Value::as_str).unwrap_or("");
        let flag = |key: &str| field.get(key).and_then(Value::as_bool).unwrap_or(false);
        let api_update = field
            .pointer("/operation_type/api_update")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let read_only = flag("read_only")
            || flag("field_read_only")
            || !api_update
            || matches!(raw_type, "formula" | "autonumber");
        let picklist_values = field
            .get("pick_list_values")
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.get("actual_value").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let lookup_module = field
            .pointer("/lookup/module/api_name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(ZohoField {
            api_name,
            label,
            data_type: DataType::from_zoho(raw_type),
            source: if flag("custom_field") {
                FieldSource::Custom
            } else {
                FieldSource::Standard
            },
            required: flag("system_mandatory"),
            read_only,
            picklist_values,
            lookup_module,
        })
    }

    /// The kind of record this lookup points at, if it is a lookup we can resolve.
    pub fn reference(&self) -> Option<RefKind> {
        if self.data_type != DataType::Reference {
            return None;
        }
        self.lookup_module
            .as_deref()
            .and_then(RefKind::from_zoho_module)
    }
}

/// Something with a name and a label the pickers can search.
pub trait Searchable {
    fn name(&self) -> &str;
    fn label(&self) -> &str;
}

impl Searchable for ZohoField {
    fn name(&self) -> &str {
        &self.api_name
    }
    fn label(&self) -> &str {
        &self.label
    }
}

impl Searchable for QboField {
    fn name(&self) -> &str {
        &self.path
    }
    fn label(&self) -> &str {
        &self.label
    }
}

/// The autocomplete rule of SPEC §4: fields whose name or label *contains* the
/// typed text, case-insensitive, in catalogue order. Blank text matches all.
pub fn search<'a, F: Searchable>(fields: &'a [F], text: &str) -> Vec<&'a F> {
    let needle = text.trim().to_lowercase();
    fields
        .iter()
        .filter(|f| {
            needle.is_empty()
                || f.name().to_lowercase().contains(&needle)
                || f.label().to_lowercase().contains(&needle)
        })
        .collect()
}

/// The mappable fields of one pair: what the mapping page lists, what
/// validation checks against and what payload building reads types from.
/// Starts from the standard fields; "Sync Mappable Fields" replaces the Zoho
/// side with the org's metadata and adds discovered QBO custom fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCatalogue {
    pub qbo_entity: QboEntity,
    pub qbo: Vec<QboField>,
    pub zoho: Vec<ZohoField>,
}

impl FieldCatalogue {
    /// The label people see for a Zoho field (by API name), if the catalogue has it.
    pub fn zoho_label(&self, api_name: &str) -> Option<String> {
        self.zoho
            .iter()
            .find(|f| f.api_name == api_name)
            .map(|f| f.label.clone())
    }

    /// The label people see for a QuickBooks field (by path), if the catalogue has it.
    pub fn qbo_label(&self, path: &str) -> Option<String> {
        self.qbo
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.label.clone())
    }

    /// The standard fields of `pair` (Sales Orders per the tenant's target).
    pub fn standard(pair: ModulePair, sales_orders: SalesOrderTarget) -> FieldCatalogue {
        let qbo_entity = pair.qbo_entity(sales_orders);
        FieldCatalogue {
            qbo_entity,
            qbo: qbo_standard_fields(qbo_entity),
            zoho: zoho_standard_fields(pair.zoho_module()),
        }
    }

    pub fn qbo_field(&self, path: &str) -> Option<&QboField> {
        find_qbo(&self.qbo, path)
    }

    pub fn zoho_field(&self, api_name: &str) -> Option<&ZohoField> {
        find_zoho(&self.zoho, api_name)
    }

    /// Adds QBO custom fields not already listed (by path); keeps the order.
    pub fn add_qbo_custom_fields(&mut self, fields: Vec<QboField>) {
        for field in fields {
            if self.qbo_field(&field.path).is_none() {
                self.qbo.push(field);
            }
        }
    }

    /// Replaces the Zoho side with the org's field metadata. Subforms and
    /// fields of unknown type are dropped: they cannot be mapped one to one.
    pub fn set_zoho_fields(&mut self, fields: Vec<ZohoField>) {
        self.zoho = fields
            .into_iter()
            .filter(|f| !matches!(f.data_type, DataType::Subform | DataType::Other))
            .collect();
    }
}

/// QBO custom fields found on a record in use (SPEC §4: discovered "from
/// records in use"): each `CustomField` entry with a DefinitionId and a name.
pub fn qbo_custom_fields_from_record(record: &Value) -> Vec<QboField> {
    record
        .get("CustomField")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|cf| {
            let id = cf.get("DefinitionId").and_then(Value::as_str)?;
            let name = cf.get("Name").and_then(Value::as_str).unwrap_or(id);
            Some(QboField::custom(id, name))
        })
        .collect()
}

/// The legacy sales-form custom fields enabled in QBO company preferences
/// (`SalesFormsPrefs.CustomField`: booleans `UseSalesCustomN` switch slot N on,
/// strings `SalesCustomNameN` name it). Their DefinitionId is the slot number.
pub fn qbo_custom_fields_from_preferences(preferences: &Value) -> Vec<QboField> {
    let prefs = preferences.get("Preferences").unwrap_or(preferences);
    let entries: Vec<&Value> = prefs
        .pointer("/SalesFormsPrefs/CustomField")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|group| {
            group
                .get("CustomField")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .collect();
    let named = |prefix: &str, slot: char| {
        entries.iter().find(|e| {
            e.get("Name").and_then(Value::as_str).is_some_and(|n| {
                n.strip_prefix("SalesFormsPrefs.")
                    .and_then(|n| n.strip_prefix(prefix))
                    == Some(&slot.to_string())
            })
        })
    };
    ['1', '2', '3']
        .into_iter()
        .filter(|slot| {
            named("UseSalesCustom", *slot)
                .and_then(|e| e.get("BooleanValue"))
                .and_then(Value::as_bool)
                == Some(true)
        })
        .map(|slot| {
            let name = named("SalesCustomName", slot)
                .and_then(|e| e.get("StringValue"))
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty())
                .map_or_else(|| format!("Custom field {slot}"), str::to_owned);
            QboField::custom(&slot.to_string(), &name)
        })
        .collect()
}

/// Finds a QBO field by path.
pub fn find_qbo<'a>(fields: &'a [QboField], path: &str) -> Option<&'a QboField> {
    fields.iter().find(|f| f.path == path)
}

/// Finds a Zoho field by API name.
pub fn find_zoho<'a>(fields: &'a [ZohoField], api_name: &str) -> Option<&'a ZohoField> {
    fields.iter().find(|f| f.api_name == api_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Requirement::{FromSettings, Required};
    use serde_json::json;

    #[test]
    fn every_entity_has_unique_paths_and_a_required_field() {
        for entity in QboEntity::ALL {
            let fields = qbo_standard_fields(entity);
            let mut paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
            let n = paths.len();
            paths.sort_unstable();
            paths.dedup();
            assert_eq!(paths.len(), n, "duplicate path in {entity:?}");
            assert!(
                fields.iter().any(|f| f.requirement == Required),
                "{entity:?} needs a required field"
            );
            assert!(fields.iter().all(|f| f.source == FieldSource::Standard));
            // Reference fields say what they point at; others do not.
            for field in &fields {
                assert_eq!(
                    field.data_type == DataType::Reference,
                    field.reference.is_some(),
                    "{}",
                    field.path
                );
            }
        }
    }

    #[test]
    fn known_qbo_fields() {
        let customer = qbo_standard_fields(QboEntity::Customer);
        let display = find_qbo(&customer, "DisplayName").unwrap();
        assert_eq!(display.requirement, Required);
        assert_eq!(display.max_length, Some(100));
        let line1 = find_qbo(&customer, "BillAddr.Line1").unwrap();
        assert_eq!(line1.data_type, DataType::Text);
        assert!(find_qbo(&customer, "ShipAddr.PostalCode").is_some());
        assert!(find_qbo(&customer, "Balance").is_none(), "read-only");

        let items = qbo_standard_fields(QboEntity::Item);
        let income = find_qbo(&items, "IncomeAccountRef").unwrap();
        assert_eq!(income.requirement, FromSettings);
        assert_eq!(income.reference, Some(RefKind::Account));
        assert_eq!(find_qbo(&items, "Type").unwrap().choices.len(), 3);

        let invoice = qbo_standard_fields(QboEntity::Invoice);
        let customer_ref = find_qbo(&invoice, "CustomerRef").unwrap();
        assert_eq!(customer_ref.reference, Some(RefKind::Customer));
        assert!(find_qbo(&invoice, "DueDate").is_some());
        assert!(find_qbo(&invoice, "ExpirationDate").is_none());
        let estimate = qbo_standard_fields(QboEntity::Estimate);
        assert!(find_qbo(&estimate, "ExpirationDate").is_some());
        let po = qbo_standard_fields(QboEntity::PurchaseOrder);
        assert_eq!(
            find_qbo(&po, "VendorRef").unwrap().reference,
            Some(RefKind::Vendor)
        );
    }

    #[test]
    fn zoho_catalogue_has_each_modules_required_name() {
        let required = [
            (ZohoModule::Accounts, "Account_Name"),
            (ZohoModule::Contacts, "Last_Name"),
            (ZohoModule::Products, "Product_Name"),
            (ZohoModule::Quotes, "Subject"),
            (ZohoModule::SalesOrders, "Subject"),
            (ZohoModule::Invoices, "Subject"),
            (ZohoModule::Vendors, "Vendor_Name"),
            (ZohoModule::PurchaseOrders, "Subject"),
        ];
        for (module, name) in required {
            let fields = zoho_standard_fields(module);
            assert!(
                find_zoho(&fields, name).unwrap().required,
                "{module:?}.{name}"
            );
            let mut names: Vec<&str> = fields.iter().map(|f| f.api_name.as_str()).collect();
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "duplicate field in {module:?}");
        }
        let quotes = zoho_standard_fields(ZohoModule::Quotes);
        let account = find_zoho(&quotes, "Account_Name").unwrap();
        assert_eq!(account.reference(), Some(RefKind::Customer));
        assert!(find_zoho(&quotes, "Grand_Total").unwrap().read_only);
    }

    #[test]
    fn zoho_metadata_is_parsed() {
        let meta = json!({
            "api_name": "Industry", "field_label": "Industry", "display_label": "Industry type",
            "data_type": "picklist", "custom_field": false, "read_only": false,
            "system_mandatory": false,
            "pick_list_values": [
                {"display_value": "Retail", "actual_value": "Retail"},
                {"display_value": "Gov", "actual_value": "Government"}
            ],
            "operation_type": {"api_update": true}
        });
        let field = ZohoField::from_metadata(&meta).unwrap();
        assert_eq!(field.label, "Industry type");
        assert_eq!(field.data_type, DataType::Picklist);
        assert_eq!(field.picklist_values, vec!["Retail", "Government"]);
        assert!(!field.read_only);

        let custom = json!({"api_name": "QBO_Id", "field_label": "QBO Id", "data_type": "text",
            "custom_field": true, "operation_type": {"api_update": false}});
        let field = ZohoField::from_metadata(&custom).unwrap();
        assert_eq!(field.source, FieldSource::Custom);
        assert!(field.read_only, "api_update false means we cannot write it");

        let lookup = json!({"api_name": "Vendor_Name", "data_type": "lookup",
            "lookup": {"module": {"api_name": "Vendors", "id": "1"}}});
        let field = ZohoField::from_metadata(&lookup).unwrap();
        assert_eq!(field.label, "Vendor_Name");
        assert_eq!(field.reference(), Some(RefKind::Vendor));

        let formula = json!({"api_name": "Total", "data_type": "formula"});
        assert!(ZohoField::from_metadata(&formula).unwrap().read_only);
        assert!(ZohoField::from_metadata(&json!({"data_type": "text"})).is_none());
    }

    #[test]
    fn search_matches_name_or_label_case_insensitively() {
        let fields = zoho_standard_fields(ZohoModule::Accounts);
        let hits: Vec<&str> = search(&fields, "bILLing st")
            .iter()
            .map(|f| f.api_name.as_str())
            .collect();
        assert_eq!(hits, vec!["Billing_Street", "Billing_State"]);
        let hits: Vec<&str> = search(&fields, "_code")
            .iter()
            .map(|f| f.api_name.as_str())
            .collect();
        assert_eq!(hits, vec!["Billing_Code", "Shipping_Code"]);
        assert_eq!(search(&fields, "  ").len(), fields.len());
        assert!(search(&fields, "zzz").is_empty());
        let qbo = qbo_standard_fields(QboEntity::Customer);
        assert_eq!(search(&qbo, "freeform").len(), 4);
    }

    #[test]
    fn custom_qbo_fields() {
        let field = QboField::custom("2", "Crew #");
        assert_eq!(field.path, "CustomField[2]");
        assert_eq!(field.source, FieldSource::Custom);
        assert_eq!(QboField::custom_definition_id(&field.path), Some("2"));
        assert_eq!(QboField::custom_definition_id("DisplayName"), None);
        let json = serde_json::to_value(&field).unwrap();
        assert_eq!(json["source"], "custom");
        let back: QboField = serde_json::from_value(json).unwrap();
        assert_eq!(back, field);
    }

    #[test]
    fn catalogue_merges_discovered_fields() {
        let mut catalogue =
            FieldCatalogue::standard(ModulePair::SalesOrders, SalesOrderTarget::Estimate);
        assert_eq!(catalogue.qbo_entity, QboEntity::Estimate);
        assert!(catalogue.qbo_field("ExpirationDate").is_some());
        assert!(catalogue.zoho_field("Due_Date").is_some());
        let n = catalogue.qbo.len();
        catalogue.add_qbo_custom_fields(vec![
            QboField::custom("1", "Crew #"),
            QboField::custom("1", "Crew # again"),
        ]);
        assert_eq!(catalogue.qbo.len(), n + 1);
        assert_eq!(
            catalogue.qbo_field("CustomField[1]").unwrap().label,
            "Crew #"
        );
        catalogue.set_zoho_fields(vec![
            ZohoField::from_metadata(&json!({"api_name": "Subject", "data_type": "text"})).unwrap(),
            ZohoField::from_metadata(&json!({"api_name": "Ordered_Items", "data_type": "subform"}))
                .unwrap(),
        ]);
        assert_eq!(catalogue.zoho.len(), 1);
        assert!(catalogue.zoho_field("Due_Date").is_none());
    }

    #[test]
    fn custom_fields_are_discovered_from_records_and_preferences() {
        let invoice = json!({"CustomField": [
            {"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": "102"},
            {"DefinitionId": "2", "Type": "StringType"},
            {"Name": "no id"}
        ]});
        let found = qbo_custom_fields_from_record(&invoice);
        let labels: Vec<&str> = found.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, vec!["Crew #", "2"]);
        assert!(qbo_custom_fields_from_record(&json!({})).is_empty());

        let prefs = json!({"Preferences": {"SalesFormsPrefs": {"CustomField": [
            {"CustomField": [
                {"Name": "SalesFormsPrefs.UseSalesCustom1", "Type": "BooleanType", "BooleanValue": true},
                {"Name": "SalesFormsPrefs.UseSalesCustom2", "Type": "BooleanType", "BooleanValue": false},
                {"Name": "SalesFormsPrefs.UseSalesCustom3", "Type": "BooleanType", "BooleanValue": true}
            ]},
            {"CustomField": [
                {"Name": "SalesFormsPrefs.SalesCustomName1", "Type": "StringType", "StringValue": "Crew #"},
                {"Name": "SalesFormsPrefs.SalesCustomName2", "Type": "StringType", "StringValue": "Unused"}
            ]}
        ]}}});
        let found = qbo_custom_fields_from_preferences(&prefs);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.path.as_str(), f.label.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("CustomField[1]", "Crew #"),
                ("CustomField[3]", "Custom field 3")
            ]
        );
        assert!(qbo_custom_fields_from_preferences(&json!({})).is_empty());
    }

    #[test]
    fn type_families() {
        assert_eq!(DataType::from_zoho("currency").family(), TypeFamily::Number);
        assert_eq!(DataType::from_zoho("website"), DataType::Url);
        assert_eq!(DataType::from_zoho("ownerlookup"), DataType::Reference);
        assert_eq!(DataType::from_zoho("fileupload"), DataType::Other);
        assert!(DataType::Percent.is_numeric());
        assert!(!DataType::Phone.is_numeric());
    }
}
