//! Field mappings: which Zoho field (or fixed value) fills each QBO field.
//!
//! A mapping is the heart of the QuickBooks Mapping page and of every write
//! the engine makes. This module holds the mapping type (a row per QBO field); its parts
//! hold the rest:
//!
//! - `defaults`: the built-in mapping of every pair ("Reset Default Mapping");
//! - `validate`: the checks the Submit button runs (SPEC §4);
//! - `apply`: the pure transformation of a record from one side into the payload for
//!   the other — nested QBO paths, static values, value maps, text transforms, combined
//!   fields and line items — one skeleton for both ways;
//! - `convert`: typing a value for the field it is written to;
//! - `mapped`: what applying yields. References to other records (customer, vendor,
//!   line-item products, terms) are left as the source system's ids and listed as
//!   [`PendingReference`]s; the engine resolves them through its links, so this crate
//!   stays free of IO and the browser can preview a mapping exactly;
//! - `fields`: which Zoho fields a read must ask for.

mod apply;
mod convert;
mod defaults;
mod fields;
mod lines;
mod mapped;
#[cfg(test)]
mod test_support;
mod validate;

use serde::{Deserialize, Serialize};

pub use apply::{qbo_to_zoho, zoho_to_qbo};
pub use defaults::default_mapping;
pub use fields::{ZOHO_MAX_FIELDS_PER_READ, is_custom_path, zoho_fields_to_read};
pub use mapped::{
    FieldProblem, MappedRecord, MappingError, PendingReference, UnresolvedReferences,
    ZOHO_LIST_PRICE,
};
pub use validate::{IssueCode, MappingIssue, ValidationReport, validate};

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
        self.translate(zoho_value, |e| (&e.zoho, &e.qbo))
    }

    /// The Zoho value a QBO value translates back to, if the value map has it.
    pub fn map_to_zoho(&self, qbo_value: &str) -> Option<&str> {
        self.translate(qbo_value, |e| (&e.qbo, &e.zoho))
    }

    /// The `to` side of the first entry whose `from` side matches `value`; `sides` picks
    /// (from, to) out of an entry.
    fn translate(
        &self,
        value: &str,
        sides: impl Fn(&ValueMapEntry) -> (&String, &String),
    ) -> Option<&str> {
        let key = value.trim();
        self.value_map
            .iter()
            .map(sides)
            .find(|(from, _)| from.trim().eq_ignore_ascii_case(key))
            .map(|(_, to)| to.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
