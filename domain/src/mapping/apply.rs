//! Applying a mapping: a record of one system becomes the payload for the other.
//!
//! Both ways run one skeleton, [`apply`]. For every field the mapping copies that way it reads
//! the source value; an emptied one clears the target where the target can be cleared; a
//! reference becomes a [`PendingReference`] with a stand-in for the engine to resolve; any
//! other value is translated by the row's value map (or changed by its transforms) and typed
//! for the target field by the one converter, [`to_value`]. Then the line items are read into
//! neutral [`LineItem`]s and written in the target's shape.
//!
//! What differs between the ways is a [`Way`]: which rows travel and what their two ends are,
//! whether a field missing from the record is empty or just not fetched, what clears a field,
//! how the value map is matched, what a reference looks like until it is resolved, and how
//! each system addresses fields and line items.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::convert::{check_length, convert_static, to_value};
use super::lines::{self, LineItem, LinesOf, ReadLines};
use super::mapped::{
    FieldProblem, MappedRecord, MappingError, PendingReference, id_key, reference_parts,
};
use super::{FieldMapping, Mapping, MappingSource, Transform};
use crate::fields::{
    DataType, FieldCatalogue, QboField, RefKind, TypeFamily, ZohoField, find_qbo, find_zoho,
};
use crate::pairs::{ModulePair, System};
use crate::record::{display_text, get_path, is_empty, set_path};

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
    apply::<ToQbo>(mapping, pair, catalogue, record)
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
    apply::<ToZoho>(mapping, pair, catalogue, record)
}

/// Where a copied value comes from.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    /// A field of the source record: a Zoho API name or a dotted QBO path.
    Field(&'a str),
    /// A static value (these travel toward QBO only).
    Fixed(&'a str),
    /// Zoho fields joined into text (toward QBO only: a joined value cannot be split back).
    Joined {
        fields: &'a [String],
        separator: &'a str,
    },
}

/// What the target field holds.
#[derive(Debug, Clone, Copy)]
enum Holds {
    /// A value of the field's type.
    Value,
    /// A reference to a record of this kind.
    Reference(RefKind),
    /// A lookup zqsync cannot fill (toward Zoho: a lookup into a module it does not link).
    Unfillable,
}

/// One field a mapping copies one way.
#[derive(Debug)]
struct FieldCopy<'a> {
    row: &'a FieldMapping,
    source: Source<'a>,
    /// Where the value goes: a dotted QBO path or a Zoho API name.
    target: &'a str,
    /// The target field's type (text when the catalogue does not know the field).
    data_type: DataType,
    holds: Holds,
    /// Text changes on the way: the row's transforms toward QBO, none toward Zoho.
    transforms: &'a [Transform],
    /// The longest text the target field takes.
    max_length: Option<u32>,
    /// The QBO field at either end, when the catalogue knows it.
    qbo: Option<&'a QboField>,
    /// The Zoho field at either end (toward QBO only looked up for references): its lookup
    /// module says which links resolve a reference.
    zoho: Option<&'a ZohoField>,
}

/// What differs between the two ways of applying a mapping.
trait Way {
    /// The system the payload is for.
    const TARGET: System;
    /// Whether a source field missing from the record is empty (QBO leaves empty properties
    /// out of its answers) rather than not fetched (a Zoho read returns the fields asked for).
    const ABSENT_IS_EMPTY: bool;

    /// The fields the mapping copies this way, in the mapping's order.
    fn copies<'a>(mapping: &'a Mapping, catalogue: &'a FieldCatalogue) -> Vec<FieldCopy<'a>>;
    /// What an emptied source field writes into the target; `None` leaves the target alone.
    fn cleared(copy: &FieldCopy<'_>) -> Option<Value>;
    /// The target value the row's value map translates the source `value` into.
    fn translate(row: &FieldMapping, value: &Value) -> Option<Value>;
    /// A reference's stand-in until the engine resolves it.
    fn placeholder(id: Option<String>, name: Option<String>) -> Value;
    /// The JSON pointer of a target field.
    fn pointer(target: &str) -> String;
    /// Writes `value` into a target field.
    fn write(payload: &mut Value, target: &str, value: Value);
    /// The source record's line items.
    fn read_lines(record: &Value, of: LinesOf, notes: &mut Vec<String>) -> ReadLines;
    /// Line `index` in the target's shape with `product` as its product reference, and the
    /// pointer to that reference.
    fn line(item: &LineItem, index: usize, product: Value, of: LinesOf) -> (Value, String);
    /// The target field holding the line items.
    fn lines_target(of: LinesOf) -> &'static str;
}

/// The skeleton both ways run.
fn apply<W: Way>(
    mapping: &Mapping,
    pair: ModulePair,
    catalogue: &FieldCatalogue,
    record: &Value,
) -> Result<MappedRecord, MappingError> {
    let mut out = MappedRecord {
        payload: Value::Object(Map::new()),
        references: Vec::new(),
        notes: Vec::new(),
    };
    let mut problems = Vec::new();
    for copy in W::copies(mapping, catalogue) {
        match copy_field::<W>(&copy, record, &mut out) {
            Ok(Some(value)) => W::write(&mut out.payload, copy.target, value),
            Ok(None) => {}
            Err(message) => problems.push(FieldProblem {
                field: copy.target.to_owned(),
                message,
            }),
        }
    }
    if let Some(zoho_key) = pair.zoho_module().line_items_key() {
        let of = LinesOf {
            zoho_key,
            entity: catalogue.qbo_entity,
        };
        if let Err(mut line_problems) = copy_lines::<W>(record, of, &mut out) {
            problems.append(&mut line_problems);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(MappingError { problems })
    }
}

/// The value one field copy writes; `Ok(None)` leaves the target as it is.
fn copy_field<W: Way>(
    copy: &FieldCopy<'_>,
    record: &Value,
    out: &mut MappedRecord,
) -> Result<Option<Value>, String> {
    let (path, value) = match copy.source {
        Source::Fixed(value) => return fixed::<W>(copy, value, out).map(Some),
        Source::Joined { fields, separator } => {
            return joined::<W>(copy, fields, separator, record);
        }
        Source::Field(path) => match get_path(record, path) {
            // Not fetched: leave the target alone.
            None if !W::ABSENT_IS_EMPTY => return Ok(None),
            Some(value) if !is_empty(Some(value)) => (path, value),
            // Emptied (or, where absent means empty, absent): clear the target if it can be.
            _ => return Ok(W::cleared(copy)),
        },
    };
    match copy.holds {
        Holds::Reference(kind) if kind.zoho_module().is_some() => {
            let (id, name) = reference_parts(value, id_key(W::TARGET.other()));
            out.references.push(PendingReference {
                pointer: W::pointer(copy.target),
                kind,
                target: W::TARGET,
                source_id: id.clone(),
                name: name.clone(),
                line: None,
                linked_pair: linked_pair(copy.zoho, kind),
            });
            Ok(Some(W::placeholder(id, name)))
        }
        Holds::Reference(kind) => Ok(Some(match W::translate(copy.row, value) {
            // The value map names the target record directly.
            Some(id) => json!({ id_key(W::TARGET): id }),
            // Terms etc.: the source holds the name; the target is searched by name.
            None => name_lookup::<W>(copy, kind, display_text(Some(value)), out),
        })),
        Holds::Unfillable => {
            out.notes.push(format!(
                "{} is a lookup zqsync cannot fill from {path}; left unchanged",
                copy.target
            ));
            Ok(None)
        }
        Holds::Value => {
            let translated = W::translate(copy.row, value);
            // A translated value is written exactly as the user typed it; others go through
            // the transforms.
            let transformed = match value {
                Value::String(text) if translated.is_none() && !copy.transforms.is_empty() => {
                    Some(json!(transform(copy.transforms, text)))
                }
                _ => None,
            };
            let value = translated
                .as_ref()
                .or(transformed.as_ref())
                .unwrap_or(value);
            to_value(copy.data_type, value)
                .and_then(|v| check_length(copy.max_length, v))
                .map(Some)
        }
    }
}

/// A static value: typed for its QBO field, or the name of the record a reference names.
fn fixed<W: Way>(
    copy: &FieldCopy<'_>,
    value: &str,
    out: &mut MappedRecord,
) -> Result<Value, String> {
    match (copy.holds, copy.qbo) {
        (Holds::Reference(kind), _) => {
            Ok(name_lookup::<W>(copy, kind, Some(value.to_owned()), out))
        }
        (_, Some(field)) => convert_static(field, value),
        (_, None) => Ok(Value::String(value.to_owned())),
    }
}

/// Source fields joined into text; empty ones are skipped. `Ok(None)` when a part was not
/// fetched.
fn joined<W: Way>(
    copy: &FieldCopy<'_>,
    fields: &[String],
    separator: &str,
    record: &Value,
) -> Result<Option<Value>, String> {
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
    let Some(parts) = parts else { return Ok(None) };
    let joined = parts
        .into_iter()
        .flatten()
        .collect::<Vec<String>>()
        .join(separator);
    let text = W::translate(copy.row, &json!(joined))
        .unwrap_or_else(|| json!(transform(copy.transforms, &joined)));
    check_length(copy.max_length, text).map(Some)
}

/// A reference the target system looks up by name.
fn name_lookup<W: Way>(
    copy: &FieldCopy<'_>,
    kind: RefKind,
    name: Option<String>,
    out: &mut MappedRecord,
) -> Value {
    let stand_in = json!({ "name": name });
    out.references.push(PendingReference {
        pointer: W::pointer(copy.target),
        kind,
        target: W::TARGET,
        source_id: None,
        name,
        line: None,
        linked_pair: None,
    });
    stand_in
}

/// Copies the line items, each with its product as a pending reference.
fn copy_lines<W: Way>(
    record: &Value,
    of: LinesOf,
    out: &mut MappedRecord,
) -> Result<(), Vec<FieldProblem>> {
    let Some(items) = W::read_lines(record, of, &mut out.notes)? else {
        return Ok(());
    };
    let mut lines = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let product = W::placeholder(item.product_id.clone(), item.product_name.clone());
        let (line, pointer) = W::line(&item, index, product, of);
        out.references.push(PendingReference {
            pointer,
            kind: RefKind::Item,
            target: W::TARGET,
            source_id: item.product_id,
            name: item.product_name,
            line: Some(index + 1),
            linked_pair: Some(ModulePair::ProductsItems),
        });
        lines.push(line);
    }
    W::write(&mut out.payload, W::lines_target(of), Value::Array(lines));
    Ok(())
}

fn transform(transforms: &[Transform], text: &str) -> String {
    transforms
        .iter()
        .fold(text.to_owned(), |acc, t| t.apply(&acc))
}

/// The pair whose links resolve a reference: from the Zoho lookup's module
/// when known, else the usual pair for the kind.
fn linked_pair(zoho: Option<&ZohoField>, kind: RefKind) -> Option<ModulePair> {
    zoho.and_then(|z| z.lookup_module.as_deref())
        .and_then(ModulePair::for_zoho_lookup)
        .or_else(|| kind.linked_pair())
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Zoho → QBO: every row travels; QBO fields nest by dotted path.
struct ToQbo;

impl Way for ToQbo {
    const TARGET: System = System::Qbo;
    const ABSENT_IS_EMPTY: bool = false;

    fn copies<'a>(mapping: &'a Mapping, catalogue: &'a FieldCatalogue) -> Vec<FieldCopy<'a>> {
        mapping
            .fields
            .iter()
            .map(|row| {
                let qbo = find_qbo(&catalogue.qbo, &row.qbo_field);
                let reference = qbo.and_then(|f| f.reference);
                let (source, zoho) = match &row.source {
                    MappingSource::Zoho { field } => (
                        Source::Field(field),
                        reference.and_then(|_| catalogue.zoho_field(field)),
                    ),
                    MappingSource::Static { value } => (Source::Fixed(value), None),
                    MappingSource::Combine { fields, separator } => {
                        (Source::Joined { fields, separator }, None)
                    }
                };
                FieldCopy {
                    row,
                    source,
                    target: &row.qbo_field,
                    data_type: qbo.map_or(DataType::Text, |f| f.data_type),
                    holds: reference.map_or(Holds::Value, Holds::Reference),
                    transforms: &row.transforms,
                    max_length: qbo.and_then(|f| f.max_length),
                    qbo,
                    zoho,
                }
            })
            .collect()
    }

    /// QBO has no "empty" for numbers, dates, yes/no or references: only text is cleared.
    fn cleared(copy: &FieldCopy<'_>) -> Option<Value> {
        matches!(
            copy.data_type.family(),
            TypeFamily::Text | TypeFamily::Choice
        )
        .then(|| json!(""))
    }

    fn translate(row: &FieldMapping, value: &Value) -> Option<Value> {
        display_text(Some(value)).and_then(|t| row.map_to_qbo(&t).map(|m| json!(m)))
    }

    fn placeholder(id: Option<String>, name: Option<String>) -> Value {
        json!({ id_key(Self::TARGET): id.or(name) })
    }

    /// JSON pointer of a dotted QBO path.
    fn pointer(target: &str) -> String {
        target
            .split('.')
            .map(|s| format!("/{}", escape_pointer(s)))
            .collect()
    }

    fn write(payload: &mut Value, target: &str, value: Value) {
        set_path(payload, target, value);
    }

    fn read_lines(record: &Value, of: LinesOf, notes: &mut Vec<String>) -> ReadLines {
        // Without the subform in the record (a sparse read), QBO's lines are left alone.
        record
            .get(of.zoho_key)
            .map(|rows| lines::read_zoho(rows, of.entity, notes))
            .transpose()
    }

    fn line(item: &LineItem, index: usize, product: Value, of: LinesOf) -> (Value, String) {
        lines::qbo_line(item, index, product, of.entity)
    }

    fn lines_target(_: LinesOf) -> &'static str {
        "Line"
    }
}

/// QBO → Zoho: rows mapped from a single Zoho field travel back (the first per Zoho field,
/// read-only fields never); Zoho fields are top-level keys.
struct ToZoho;

impl Way for ToZoho {
    const TARGET: System = System::Zoho;
    const ABSENT_IS_EMPTY: bool = true;

    fn copies<'a>(mapping: &'a Mapping, catalogue: &'a FieldCatalogue) -> Vec<FieldCopy<'a>> {
        let mut written = BTreeSet::new();
        mapping
            .fields
            .iter()
            .filter_map(|row| {
                let name = row.zoho_field()?;
                // The first QBO field mapped from a Zoho field is the one copied back.
                if !written.insert(name) {
                    return None;
                }
                let zoho = find_zoho(&catalogue.zoho, name);
                if zoho.is_some_and(|z| z.read_only) {
                    return None;
                }
                let qbo = find_qbo(&catalogue.qbo, &row.qbo_field);
                let data_type = zoho
                    .map(|z| z.data_type)
                    .or_else(|| qbo.map(|q| q.data_type))
                    .unwrap_or(DataType::Text);
                let holds = if data_type == DataType::Reference {
                    let kind = zoho
                        .and_then(ZohoField::reference)
                        .or_else(|| qbo.and_then(|q| q.reference));
                    match kind {
                        Some(kind) if kind.zoho_module().is_some() => Holds::Reference(kind),
                        _ => Holds::Unfillable,
                    }
                } else {
                    Holds::Value
                };
                Some(FieldCopy {
                    row,
                    source: Source::Field(&row.qbo_field),
                    target: name,
                    data_type,
                    holds,
                    transforms: &[],
                    max_length: None,
                    qbo,
                    zoho,
                })
            })
            .collect()
    }

    /// Absent or empty in QBO clears the Zoho field, except lookups, and yes/no fields: an
    /// absent QBO flag is not a clear "no".
    fn cleared(copy: &FieldCopy<'_>) -> Option<Value> {
        let keep = copy.zoho.map(|z| z.data_type) == Some(DataType::Reference)
            || copy
                .qbo
                .is_some_and(|q| q.reference.is_some() || q.data_type == DataType::Boolean);
        (!keep).then_some(Value::Null)
    }

    /// A QBO reference translates back by its id, else by its name.
    fn translate(row: &FieldMapping, value: &Value) -> Option<Value> {
        let (id, name) = reference_parts(value, id_key(System::Qbo));
        [id, name, display_text(Some(value))]
            .into_iter()
            .flatten()
            .find_map(|t| row.map_to_zoho(&t).map(|z| json!(z)))
    }

    fn placeholder(id: Option<String>, _name: Option<String>) -> Value {
        json!({ id_key(Self::TARGET): id })
    }

    fn pointer(target: &str) -> String {
        format!("/{}", escape_pointer(target))
    }

    fn write(payload: &mut Value, target: &str, value: Value) {
        if let Value::Object(map) = payload {
            map.insert(target.to_owned(), value);
        }
    }

    fn read_lines(record: &Value, _: LinesOf, notes: &mut Vec<String>) -> ReadLines {
        Ok(record
            .get("Line")
            .and_then(Value::as_array)
            .map(|lines| lines::read_qbo(lines, notes)))
    }

    fn line(item: &LineItem, index: usize, product: Value, of: LinesOf) -> (Value, String) {
        lines::zoho_line(item, index, product, of.zoho_key)
    }

    fn lines_target(of: LinesOf) -> &'static str {
        of.zoho_key
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::mapping::test_support::{
        accounts_record, catalogue, check, codes, custom_zoho, quote_record,
    };
    use crate::mapping::{
        IssueCode, Transform, ValidationReport, ValueMapEntry, default_mapping, validate,
    };
    use crate::pairs::{Direction, SalesOrderTarget};

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

    /// Links store the fingerprints of mapped records: the mapping may be rewritten, but what it
    /// builds must hash the same, or every linked record would be written again after an
    /// upgrade. Values computed by the first implementation (the two parallel directions).
    #[test]
    fn mapped_fingerprints_are_pinned() {
        // Per pair and sales-order target: mapped to QBO, resolved, and mapped back to Zoho.
        const PINNED: &str = "\
AccountsCustomers Invoice 5e5e5c2d6a53d155 5e5e5c2d6a53d155 3f987dfc041dced6
ProductsItems Invoice de75c387bcabf1ac de75c387bcabf1ac 61d30e7cb15d2f9d
ContactsCustomers Invoice 0859e40cfb8f89cb 0859e40cfb8f89cb 5c0bd1166820ee3f
VendorsVendors Invoice 926448397f4b8bbc 926448397f4b8bbc fa9a9cdfdf4ba0f5
QuotesEstimates Invoice b659dadbf8f848eb 6e57f40aeed14c97 95292d746cd4b081
SalesOrders Invoice c8d80b999b7170b6 41ab1d4eacef2c80 3bbea2c8a72b9fc5
InvoicesInvoices Invoice 76dcb1c0e39461d5 1599d2e469a1b2c7 7f5a5e16c1baf5e0
PurchaseOrders Invoice ecbf1a7daf69e66f c6416c8bb463c55d 4fd7ca50ca5e7acb
SalesOrders Estimate b659dadbf8f848eb 6e57f40aeed14c97 3bbea2c8a72b9fc5
";
        let runs = ModulePair::ALL
            .map(|pair| (pair, SalesOrderTarget::Invoice))
            .into_iter()
            .chain([(ModulePair::SalesOrders, SalesOrderTarget::Estimate)]);
        let mut seen = String::new();
        for (pair, target) in runs {
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
            let mut resolved = to_qbo.clone();
            resolved
                .resolve(|r| r.source_id.as_ref().map(|id| format!("Q{id}")))
                .unwrap();
            let back = qbo_to_zoho(&mapping, pair, &cat, &resolved.payload).unwrap();
            seen.push_str(&format!(
                "{pair:?} {target:?} {} {} {}\n",
                to_qbo.fingerprint(),
                resolved.fingerprint(),
                back.fingerprint()
            ));
        }
        assert_eq!(seen, PINNED);
        // A static term and a custom field to QBO; an invoice with a discount line to Zoho.
        let mut seen = Vec::new();
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
        assert_eq!(seen, ["74fb8677a631bcf2", "602da94eeb1e6d2b"]);
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
