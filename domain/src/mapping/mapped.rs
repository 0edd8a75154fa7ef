//! What applying a mapping yields: the payload for the other side, with the references the
//! engine still has to resolve through its links, and why a record could not be mapped.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::fields::RefKind;
use crate::pairs::{ModulePair, System};
use crate::record::{display_text, fingerprint_with, write_canonical_masked, write_json_string};

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
                    if let Some(target) = self.payload.pointer_mut(&reference.pointer) {
                        *target = json!({ id_key(reference.target): id });
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

/// The key of the id in a system's references: `{"value": …}` in QBO refs, `{"id": …}` in
/// Zoho lookups.
pub(super) fn id_key(system: System) -> &'static str {
    match system {
        System::Qbo => "value",
        System::Zoho => "id",
    }
}

/// (id, name) of a Zoho lookup (`{"id","name"}`), a QBO ref (`{"value","name"}`)
/// or a bare id string; `id_key` is the system's [`id_key`].
pub(super) fn reference_parts(value: &Value, id_key: &str) -> (Option<String>, Option<String>) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
