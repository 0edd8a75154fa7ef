//! A record as Zoho checks, stores and shows it: each field's value validated for its type
//! (lookups resolved to `{name, id}`, subform rows merged and totalled), unique fields, system
//! fields and totals on write; every field and the system flags on a full read.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::meta::{FieldDef, ModuleDef};
use super::{Store, mandatory_missing, owner, parse_time, record_error, zoho_time};
use crate::util::round2;

impl Store {
    /// Checks and normalises one field value; `Err` is the per-record error entry.
    fn coerce(
        &mut self,
        field: &FieldDef,
        value: &Value,
        path: &str,
        existing: Option<&Value>,
    ) -> Result<Value, Value> {
        let invalid = |expected: &str| {
            record_error(
                "INVALID_DATA",
                "invalid data",
                json!({"expected_data_type": expected, "api_name": field.api_name, "json_path": path}),
            )
        };
        if value.is_null() {
            return if field.mandatory {
                Err(mandatory_missing(field.api_name, path))
            } else {
                Ok(Value::Null)
            };
        }
        match field.data_type {
            "text" | "textarea" | "phone" | "website" | "picklist" => value
                .as_str()
                .map(|_| value.clone())
                .ok_or_else(|| invalid(field.data_type)),
            "email" => value
                .as_str()
                .filter(|s| s.contains('@'))
                .map(|_| value.clone())
                .ok_or_else(|| invalid("email")),
            "integer" => value
                .as_i64()
                .map(|_| value.clone())
                .ok_or_else(|| invalid("integer")),
            "double" | "currency" => value
                .as_f64()
                .map(|_| value.clone())
                .ok_or_else(|| invalid(field.data_type)),
            "boolean" => value
                .as_bool()
                .map(|_| value.clone())
                .ok_or_else(|| invalid("boolean")),
            "date" => value
                .as_str()
                .filter(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
                .map(|_| value.clone())
                .ok_or_else(|| invalid("date")),
            "datetime" => value
                .as_str()
                .filter(|s| parse_time(s).is_some())
                .map(|_| value.clone())
                .ok_or_else(|| invalid("datetime")),
            "ownerlookup" => {
                let id = value
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("ownerlookup"))?;
                if id == owner()["id"] {
                    Ok(owner())
                } else {
                    Err(invalid("ownerlookup"))
                }
            }
            "lookup" => {
                let id = match value {
                    Value::Object(map) => map.get("id").and_then(Value::as_str).map(str::to_owned),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                }
                .ok_or_else(|| invalid("lookup"))?;
                let target = field
                    .related
                    .and_then(|t| self.record_module(t))
                    .ok_or_else(|| invalid("lookup"))?;
                let row = self.get(target.api_name, &id).ok_or_else(|| {
                    record_error(
                        "INVALID_DATA",
                        "the related id given seems to be invalid",
                        json!({"api_name": field.api_name, "json_path": path}),
                    )
                })?;
                Ok(json!({"name": row[target.display_field].clone(), "id": id}))
            }
            "subform" => {
                let rows = value.as_array().ok_or_else(|| invalid("jsonarray"))?;
                let sub = field
                    .related
                    .and_then(|t| self.module(t).cloned())
                    .ok_or_else(|| invalid("jsonarray"))?;
                let previous: Vec<Value> = existing
                    .and_then(|e| e[field.api_name].as_array().cloned())
                    .unwrap_or_default();
                let mut out = Vec::new();
                for (index, row) in rows.iter().enumerate() {
                    let row_path = format!("{path}[{index}]");
                    let Some(input) = row.as_object() else {
                        return Err(invalid("jsonobject"));
                    };
                    if input.get("_delete").is_some() {
                        continue;
                    }
                    // Rows with an id update the stored row; rows without one are new; omitted rows go.
                    let base = input
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| previous.iter().find(|p| p["id"] == id))
                        .cloned();
                    let mut line = base
                        .as_ref()
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    for def in &sub.fields {
                        if def.read_only {
                            continue;
                        }
                        let given = input.get(def.api_name).or_else(|| {
                            if def.api_name == "List_Price" {
                                input.get("ListPrice")
                            } else {
                                None
                            }
                        });
                        match given {
                            Some(v) => {
                                let checked = self.coerce(
                                    def,
                                    v,
                                    &format!("{row_path}.{}", def.api_name),
                                    None,
                                )?;
                                line.insert(def.api_name.into(), checked);
                            }
                            None if base.is_none() && def.mandatory => {
                                return Err(mandatory_missing(
                                    def.api_name,
                                    &format!("{row_path}.{}", def.api_name),
                                ));
                            }
                            None => {
                                line.entry(def.api_name).or_insert(Value::Null);
                            }
                        }
                    }
                    let quantity = line.get("Quantity").and_then(Value::as_f64).unwrap_or(0.0);
                    let price = line
                        .get("List_Price")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0);
                    let discount = line.get("Discount").and_then(Value::as_f64).unwrap_or(0.0);
                    let total = round2(quantity * price);
                    line.insert("Total".into(), json!(total));
                    line.insert("Net_Total".into(), json!(round2(total - discount)));
                    line.insert("Sequence_Number".into(), json!(index + 1));
                    if !line.contains_key("id") {
                        let id = self.allocate_id();
                        line.insert("id".into(), json!(id));
                    }
                    out.push(Value::Object(line));
                }
                Ok(Value::Array(out))
            }
            _ => Ok(value.clone()),
        }
    }

    /// Builds the stored record from input, validating every field. `existing` = update.
    /// `check_unique: false` is for the seed, which generates unique values by construction
    /// (the linear duplicate scan would make 100k-record seeds quadratic).
    pub(super) fn build_checked(
        &mut self,
        module: &ModuleDef,
        input: &Map<String, Value>,
        index: usize,
        existing: Option<&Value>,
        now: DateTime<Utc>,
        check_unique: bool,
    ) -> Result<Map<String, Value>, Value> {
        let mut record = existing
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for field in &module.fields {
            let path = format!("$.data[{index}].{}", field.api_name);
            match input.get(field.api_name) {
                Some(_) if field.read_only => {}
                Some(value) => {
                    let checked = self.coerce(field, value, &path, existing)?;
                    record.insert(field.api_name.into(), checked);
                }
                None if existing.is_none() && field.mandatory => {
                    return Err(mandatory_missing(field.api_name, &path));
                }
                // Unset fields are not stored: `presented` adds them as null on the way out, which
                // keeps 100k-record orgs small.
                None => {}
            }
        }
        for field in module.fields.iter().filter(|f| f.unique && check_unique) {
            let Some(value) = record
                .get(field.api_name)
                .and_then(Value::as_str)
                .map(str::to_lowercase)
            else {
                continue;
            };
            let own_id = record.get("id").cloned();
            let clash = self.records(module.api_name).find(|r| {
                r["id"] != own_id.clone().unwrap_or(Value::Null)
                    && r[field.api_name]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase() == value)
            });
            if let Some(clash) = clash {
                let id = clash["id"].clone();
                return Err(record_error(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    json!({"api_name": field.api_name, "duplicate_record": {"Owner": {"name": "Sandbox Admin", "id": "5725767000000411001", "zuid": "75092197"}, "id": id},
                           "json_path": format!("$.data[{index}].{}", field.api_name), "id": id, "more_records": false}),
                ));
            }
        }
        let stamp = zoho_time(now);
        if existing.is_none() {
            let id = self.allocate_id();
            record.insert("id".into(), json!(id));
            record.insert("Created_Time".into(), json!(stamp));
            record.insert("Created_By".into(), owner());
            record.insert("$approval_state".into(), json!("approved"));
            record.insert("$currency_symbol".into(), json!("$"));
            record.insert("$editable".into(), json!(true));
            if record.get("Owner").is_none_or(Value::is_null) {
                record.insert("Owner".into(), owner());
            }
            if module.fields.iter().any(|f| f.data_type == "subform") {
                let number_field = match module.api_name {
                    "Quotes" => "Quote_Number",
                    "Sales_Orders" => "SO_Number",
                    "Invoices" => "Invoice_Number",
                    _ => "PO_Number",
                };
                record.insert(
                    number_field.into(),
                    json!(format!(
                        "{}",
                        5_725_767_000_000_000_000u64 + self.next_number
                    )),
                );
                self.next_number += 1;
            }
        }
        if record.contains_key("Full_Name") {
            let parts: Vec<&str> = ["First_Name", "Last_Name"]
                .iter()
                .filter_map(|k| record.get(*k).and_then(Value::as_str))
                .collect();
            record.insert("Full_Name".into(), json!(parts.join(" ")));
        }
        record.insert("Modified_Time".into(), json!(stamp));
        record.insert("Modified_By".into(), owner());
        if let Some(items) = module.fields.iter().find(|f| f.data_type == "subform") {
            let sub_total: f64 = record
                .get(items.api_name)
                .and_then(Value::as_array)
                .map_or(0.0, |rows| {
                    rows.iter().filter_map(|r| r["Net_Total"].as_f64()).sum()
                });
            let discount = record
                .get("Discount")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let adjustment = record
                .get("Adjustment")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            record.insert("Sub_Total".into(), json!(round2(sub_total)));
            record.insert(
                "Grand_Total".into(),
                json!(round2(sub_total - discount + adjustment)),
            );
        }
        Ok(record)
    }
}

/// A stored record as the API shows it in full: every module field (null when unset) and the
/// record-level system flags every v2+ record carries.
pub(super) fn presented(module: &ModuleDef, record: &Value) -> Value {
    let mut out = record.as_object().cloned().unwrap_or_default();
    for field in &module.fields {
        out.entry(field.api_name).or_insert(Value::Null);
    }
    for (key, value) in [
        ("$state", json!("save")),
        ("$process_flow", json!(false)),
        ("$locked_for_me", json!(false)),
        ("$approved", json!(true)),
        (
            "$approval",
            json!({"delegate": false, "takeover": false, "approve": false, "reject": false, "resubmit": false}),
        ),
        (
            "$review_process",
            json!({"approve": false, "reject": false, "resubmit": false}),
        ),
        (
            "$layout_id",
            json!({"display_label": "Standard", "name": "Standard", "id": format!("{}000", &module.id[..module.id.len().min(16)])}),
        ),
        ("$in_merge", json!(false)),
        ("$orchestration", json!(false)),
        ("$field_states", Value::Null),
        ("$review", Value::Null),
        (
            "$zia_owner_assignment",
            json!("owner_recommendation_unavailable"),
        ),
        ("$is_duplicate", json!(false)),
        ("Locked__s", json!(false)),
        ("Tag", json!([])),
    ] {
        out.entry(key).or_insert(value);
    }
    if module.api_name == "Products" {
        out.entry("$taxable").or_insert(json!(true));
    }
    Value::Object(out)
}

pub(super) fn project(record: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), record["id"].clone());
    for field in fields {
        out.insert(
            (*field).to_owned(),
            record.get(*field).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}
