//! Helpers the tests of the mapping's parts share.

use serde_json::Value;

use super::{IssueCode, Mapping, MappingIssue, ValidationReport, validate};
use crate::fields::{DataType, FieldCatalogue, FieldSource, ZohoField};
use crate::pairs::{Direction, ModulePair, SalesOrderTarget};

pub(super) fn catalogue(pair: ModulePair, target: SalesOrderTarget) -> FieldCatalogue {
    FieldCatalogue::standard(pair, target)
}

pub(super) fn check(mapping: &Mapping, pair: ModulePair, direction: Direction) -> ValidationReport {
    validate(
        mapping,
        &catalogue(pair, SalesOrderTarget::Invoice),
        direction,
    )
}

pub(super) fn codes(issues: &[MappingIssue]) -> Vec<IssueCode> {
    issues.iter().map(|i| i.code).collect()
}

pub(super) fn accounts_record() -> Value {
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

pub(super) fn quote_record() -> Value {
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

pub(super) fn custom_zoho(api_name: &str, data_type: DataType, values: &[&str]) -> ZohoField {
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
