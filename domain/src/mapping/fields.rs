//! Which Zoho fields a read must ask for, and which QBO fields are custom.

use std::collections::BTreeSet;

use super::{Mapping, MappingSource};
use crate::fields::{FieldCatalogue, FieldSource, QboField};
use crate::filters::FilterSet;
use crate::pairs::ModulePair;

/// The Zoho fields to request when reading records of `pair` (Zoho's
/// `fields=` parameter is mandatory): `id` and `Modified_Time`, every Zoho
/// field the mapping reads (combined parts too), the fields `filters` test and
/// the line-item subform. Sorted, without duplicates. Zoho accepts at most
/// [`ZOHO_MAX_FIELDS_PER_READ`] per request. A field left out here is treated as
/// "not fetched" by [`zoho_to_qbo`](super::zoho_to_qbo) and never cleared in QBO.
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
    use crate::mapping::default_mapping;
    use crate::pairs::SalesOrderTarget;

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
}
