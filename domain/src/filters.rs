//! Record filters: which records of a pair may sync in a direction.
//!
//! SPEC §5: per pair and per direction, rows of *field · condition · value*
//! combined with AND (or OR). A record that fails is logged **Not Valid** and
//! not written. The Filters page validates rows with the same code the engine
//! evaluates them with, so what the user saves is what runs, and the Not Valid
//! message names the row that was not met.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{DataType, FieldCatalogue, TypeFamily};
use crate::pairs::Flow;
use crate::record::{DateValue, as_number, display_text, get_path, is_empty, parse_number};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Equals,
    NotEquals,
    Contains,
    DoesNotContain,
    StartsWith,
    EndsWith,
    IsEmpty,
    IsNotEmpty,
    GreaterThan,
    LessThan,
    Before,
    After,
}

impl Condition {
    pub const ALL: [Condition; 12] = [
        Condition::Equals,
        Condition::NotEquals,
        Condition::Contains,
        Condition::DoesNotContain,
        Condition::StartsWith,
        Condition::EndsWith,
        Condition::IsEmpty,
        Condition::IsNotEmpty,
        Condition::GreaterThan,
        Condition::LessThan,
        Condition::Before,
        Condition::After,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Condition::Equals => "equals",
            Condition::NotEquals => "not equals",
            Condition::Contains => "contains",
            Condition::DoesNotContain => "does not contain",
            Condition::StartsWith => "starts with",
            Condition::EndsWith => "ends with",
            Condition::IsEmpty => "is empty",
            Condition::IsNotEmpty => "is not empty",
            Condition::GreaterThan => "greater than",
            Condition::LessThan => "less than",
            Condition::Before => "before",
            Condition::After => "after",
        }
    }

    /// "is empty" and "is not empty" take no value (the UI hides the box).
    pub fn needs_value(self) -> bool {
        !matches!(self, Condition::IsEmpty | Condition::IsNotEmpty)
    }

    /// The conditions that make sense for a field of `data_type`, for the
    /// condition dropdown.
    pub fn for_type(data_type: DataType) -> Vec<Condition> {
        use Condition::*;
        match data_type.family() {
            TypeFamily::Number => vec![
                Equals,
                NotEquals,
                GreaterThan,
                LessThan,
                IsEmpty,
                IsNotEmpty,
            ],
            TypeFamily::Date => vec![Equals, NotEquals, Before, After, IsEmpty, IsNotEmpty],
            TypeFamily::Boolean => vec![Equals, NotEquals, IsEmpty, IsNotEmpty],
            _ => vec![
                Equals,
                NotEquals,
                Contains,
                DoesNotContain,
                StartsWith,
                EndsWith,
                IsEmpty,
                IsNotEmpty,
            ],
        }
    }
}

/// How rows combine. SPEC's default is AND; OR is the **beyond**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combinator {
    #[default]
    And,
    Or,
}

/// One row: field · condition · value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FilterRow {
    /// Zoho API name or QBO path, depending on the direction's source system.
    pub field: String,
    pub condition: Condition,
    #[serde(default)]
    pub value: String,
}

impl FilterRow {
    pub fn new(field: &str, condition: Condition, value: &str) -> FilterRow {
        FilterRow {
            field: field.to_owned(),
            condition,
            value: value.to_owned(),
        }
    }

    /// "Billing_State equals "CA"" — how the row reads in messages.
    pub fn describe(&self) -> String {
        self.describe_as(&self.field)
    }

    /// The row in words, naming its field `field` (the field's label, for people).
    pub fn describe_as(&self, field: &str) -> String {
        if self.condition.needs_value() {
            format!(
                "{field} {} \"{}\"",
                self.condition.label(),
                self.value.trim()
            )
        } else {
            format!("{field} {}", self.condition.label())
        }
    }

    /// Whether `record` meets this row.
    pub fn matches(&self, record: &Value) -> bool {
        let actual = get_path(record, &self.field);
        let wanted = self.value.trim();
        match self.condition {
            Condition::IsEmpty => is_empty(actual),
            Condition::IsNotEmpty => !is_empty(actual),
            Condition::Equals => any_text(actual, |text| text_equals(text, wanted)),
            Condition::NotEquals => !any_text(actual, |text| text_equals(text, wanted)),
            Condition::Contains => any_text(actual, |text| lower(text).contains(&lower(wanted))),
            Condition::DoesNotContain => {
                !any_text(actual, |text| lower(text).contains(&lower(wanted)))
            }
            Condition::StartsWith => any_text(actual, |text| {
                lower(text.trim()).starts_with(&lower(wanted))
            }),
            Condition::EndsWith => {
                any_text(actual, |text| lower(text.trim()).ends_with(&lower(wanted)))
            }
            Condition::GreaterThan | Condition::LessThan => {
                let (Some(a), Some(w)) = (actual.and_then(as_number), parse_number(wanted)) else {
                    return false;
                };
                if self.condition == Condition::GreaterThan {
                    a > w
                } else {
                    a < w
                }
            }
            Condition::Before | Condition::After => {
                let Some(a) = display_text(actual).and_then(|t| DateValue::parse(&t)) else {
                    return false;
                };
                let Some(w) = DateValue::parse(wanted) else {
                    return false;
                };
                // A bare date compares calendar dates as written (a Zoho datetime
                // of 23:30+05:30 is still that day for its user); a time compares instants.
                let ordering = if w.instant.is_none() {
                    a.days.cmp(&w.days)
                } else {
                    a.instant_or_midnight().cmp(&w.instant_or_midnight())
                };
                if self.condition == Condition::Before {
                    ordering.is_lt()
                } else {
                    ordering.is_gt()
                }
            }
        }
    }
}

fn lower(text: &str) -> String {
    text.to_lowercase()
}

/// Text equality, case-insensitive and trimmed; numbers compare as numbers
/// so that `10` equals `10.0`.
fn text_equals(actual: &str, wanted: &str) -> bool {
    if let (Some(a), Some(w)) = (parse_number(actual), parse_number(wanted)) {
        return a == w;
    }
    actual.trim().to_lowercase() == wanted.to_lowercase()
}

/// Applies `test` to the value's text; multi-select lists match when any element does.
fn any_text(actual: Option<&Value>, test: impl Fn(&str) -> bool) -> bool {
    match actual {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| display_text(Some(item)))
            .any(|text| test(&text)),
        other => display_text(other).is_some_and(|text| test(&text)),
    }
}

/// A field the filter page offers, with its type (for type-aware checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterField {
    pub name: String,
    pub data_type: DataType,
}

impl FilterField {
    /// The fields a filter can test in `flow`: the source system's side of the
    /// pair's catalogue (Zoho fields for Zoho → QuickBooks, QBO fields otherwise).
    pub fn for_flow(catalogue: &FieldCatalogue, flow: Flow) -> Vec<FilterField> {
        match flow {
            Flow::ZohoToQbo => catalogue
                .zoho
                .iter()
                .map(|f| FilterField {
                    name: f.api_name.clone(),
                    data_type: f.data_type,
                })
                .collect(),
            Flow::QboToZoho => catalogue
                .qbo
                .iter()
                .map(|f| FilterField {
                    name: f.path.clone(),
                    data_type: f.data_type,
                })
                .collect(),
        }
    }
}

/// A problem with one row, shown next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("row {}: {message}", .row + 1)]
pub struct FilterRowError {
    /// 0-based index of the row.
    pub row: usize,
    pub message: String,
}

/// The filters of one pair in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FilterSet {
    #[serde(default)]
    pub combinator: Combinator,
    #[serde(default)]
    pub rows: Vec<FilterRow>,
}

/// The result of evaluating a record; `reason` is the Not Valid log message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterOutcome {
    pub passed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl FilterSet {
    pub fn new(combinator: Combinator, rows: Vec<FilterRow>) -> FilterSet {
        FilterSet { combinator, rows }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Structural checks (SPEC §5): a field is chosen; a value is given unless
    /// the condition is "is empty"/"is not empty"; greater/less than take a
    /// number; before/after take a date (YYYY-MM-DD, optionally with a time).
    pub fn validate(&self) -> Result<(), Vec<FilterRowError>> {
        self.check(None)
    }

    /// [`FilterSet::validate`] plus: the field exists among `fields`, and the
    /// condition suits its type (no "greater than" on text, no "before" on numbers).
    pub fn validate_for(&self, fields: &[FilterField]) -> Result<(), Vec<FilterRowError>> {
        self.check(Some(fields))
    }

    fn check(&self, fields: Option<&[FilterField]>) -> Result<(), Vec<FilterRowError>> {
        let mut errors = Vec::new();
        for (row, filter) in self.rows.iter().enumerate() {
            let mut fail = |message: String| errors.push(FilterRowError { row, message });
            let field = filter.field.trim();
            if field.is_empty() {
                fail("choose a field".into());
                continue;
            }
            let label = filter.condition.label();
            let value = filter.value.trim();
            if filter.condition.needs_value() && value.is_empty() {
                fail(format!("enter a value for \"{label}\""));
                continue;
            }
            match filter.condition {
                Condition::GreaterThan | Condition::LessThan if parse_number(value).is_none() => {
                    fail(format!(
                        "\"{label}\" compares numbers; \"{value}\" is not a number"
                    ));
                    continue;
                }
                Condition::Before | Condition::After if DateValue::parse(value).is_none() => {
                    fail(format!(
                        "\"{label}\" compares dates; enter the date as YYYY-MM-DD (\"{value}\" is not a date)"
                    ));
                    continue;
                }
                _ => {}
            }
            let Some(fields) = fields else { continue };
            let Some(known) = fields.iter().find(|f| f.name == field) else {
                fail(format!(
                    "{field} is not a field of this module; click Sync Mappable Fields on the mapping page to refresh the list"
                ));
                continue;
            };
            if !Condition::for_type(known.data_type).contains(&filter.condition) {
                fail(format!(
                    "\"{label}\" does not apply to {field}, which is {}",
                    known.data_type.label().to_lowercase()
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Evaluates the filters against a record of the direction's source system.
    /// No rows → every record passes.
    pub fn evaluate(&self, record: &Value) -> FilterOutcome {
        self.evaluate_labelled(record, |_| None)
    }

    /// [`Self::evaluate`], the reason naming each field by `label(field)` where it has one
    /// (the label people see in the app, not the API name).
    pub fn evaluate_labelled(
        &self,
        record: &Value,
        label: impl Fn(&str) -> Option<String>,
    ) -> FilterOutcome {
        if self.rows.is_empty() {
            return FilterOutcome {
                passed: true,
                reason: None,
            };
        }
        let results: Vec<bool> = self.rows.iter().map(|r| r.matches(record)).collect();
        let passed = match self.combinator {
            Combinator::And => results.iter().all(|ok| *ok),
            Combinator::Or => results.iter().any(|ok| *ok),
        };
        if passed {
            return FilterOutcome {
                passed,
                reason: None,
            };
        }
        let failed: Vec<String> = self
            .rows
            .iter()
            .zip(&results)
            .filter(|(_, ok)| !**ok)
            .map(|(row, _)| {
                let actual = match display_text(get_path(record, &row.field)) {
                    Some(text) if !text.trim().is_empty() => format!("\"{text}\""),
                    _ => "empty".to_owned(),
                };
                let name = label(&row.field).unwrap_or_else(|| row.field.clone());
                format!("{} (value was {actual})", row.describe_as(&name))
            })
            .collect();
        let reason = match self.combinator {
            Combinator::And => format!("Filter not met: {}", failed.join("; ")),
            Combinator::Or => format!("No filter matched: {}", failed.join("; ")),
        };
        FilterOutcome {
            passed,
            reason: Some(reason),
        }
    }
}

/// A pair's filters for both directions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PairFilters {
    #[serde(default)]
    pub zoho_to_qbo: FilterSet,
    #[serde(default)]
    pub qbo_to_zoho: FilterSet,
}

impl PairFilters {
    pub fn get(&self, flow: Flow) -> &FilterSet {
        match flow {
            Flow::ZohoToQbo => &self.zoho_to_qbo,
            Flow::QboToZoho => &self.qbo_to_zoho,
        }
    }

    pub fn get_mut(&mut self, flow: Flow) -> &mut FilterSet {
        match flow {
            Flow::ZohoToQbo => &mut self.zoho_to_qbo,
            Flow::QboToZoho => &mut self.qbo_to_zoho,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn row(field: &str, condition: Condition, value: &str) -> FilterRow {
        FilterRow::new(field, condition, value)
    }

    fn account() -> Value {
        json!({
            "Account_Name": "Zylker Corp",
            "Billing_State": "CA",
            "Annual_Revenue": 250000,
            "Employees": "12",
            "Industry": null,
            "Tag": ["VIP", "West"],
            "Owner": {"name": "Patricia Boyle", "id": "1"},
            "Modified_Time": "2026-05-05T23:30:00+05:30",
            "Created_Date": "2026-01-15",
            "Taxable": true,
            "BillAddr": {"City": "Bayshore"}
        })
    }

    fn m(field: &str, condition: Condition, value: &str) -> bool {
        row(field, condition, value).matches(&account())
    }

    #[test]
    fn text_conditions_are_case_insensitive() {
        assert!(m("Account_Name", Condition::Equals, "zylker corp"));
        assert!(m("Account_Name", Condition::Equals, " Zylker Corp "));
        assert!(!m("Account_Name", Condition::Equals, "Zylker"));
        assert!(m("Account_Name", Condition::NotEquals, "Zylker"));
        assert!(m("Account_Name", Condition::Contains, "KER c"));
        assert!(m("Account_Name", Condition::DoesNotContain, "Acme"));
        assert!(m("Account_Name", Condition::StartsWith, "zyl"));
        assert!(m("Account_Name", Condition::EndsWith, "CORP"));
        assert!(!m("Account_Name", Condition::EndsWith, "Zyl"));
    }

    #[test]
    fn lookups_lists_nested_paths_and_booleans() {
        assert!(m("Owner", Condition::Equals, "Patricia Boyle"));
        assert!(m("Tag", Condition::Equals, "vip"));
        assert!(m("Tag", Condition::Contains, "es"));
        assert!(!m("Tag", Condition::NotEquals, "West"));
        assert!(m("BillAddr.City", Condition::StartsWith, "Bay"));
        assert!(m("Taxable", Condition::Equals, "true"));
        assert!(m("Taxable", Condition::NotEquals, "false"));
    }

    #[test]
    fn emptiness() {
        assert!(m("Industry", Condition::IsEmpty, ""));
        assert!(m("Missing_Field", Condition::IsEmpty, ""));
        assert!(m("Account_Name", Condition::IsNotEmpty, "ignored"));
        // Missing values equal nothing and contain nothing.
        assert!(!m("Industry", Condition::Equals, "Retail"));
        assert!(m("Industry", Condition::NotEquals, "Retail"));
        assert!(!m("Industry", Condition::Contains, "R"));
        assert!(m("Industry", Condition::DoesNotContain, "R"));
    }

    #[test]
    fn numbers() {
        assert!(m("Annual_Revenue", Condition::GreaterThan, "100,000"));
        assert!(!m("Annual_Revenue", Condition::LessThan, "100000"));
        assert!(
            m("Employees", Condition::LessThan, "12.5"),
            "numeric text counts"
        );
        assert!(m("Employees", Condition::Equals, "12.0"));
        assert!(
            !m("Account_Name", Condition::GreaterThan, "1"),
            "text is never greater"
        );
        assert!(
            !m("Industry", Condition::LessThan, "1"),
            "empty is never less"
        );
    }

    #[test]
    fn dates() {
        // The record's own calendar date (5 May in India) is used for bare dates.
        assert!(m("Modified_Time", Condition::After, "2026-05-04"));
        assert!(!m("Modified_Time", Condition::After, "2026-05-05"));
        assert!(!m("Modified_Time", Condition::Before, "2026-05-05"));
        assert!(m("Modified_Time", Condition::Before, "2026-05-06"));
        // With a time, instants compare: 23:30+05:30 is 18:00Z.
        assert!(m(
            "Modified_Time",
            Condition::Before,
            "2026-05-05T18:30:00Z"
        ));
        assert!(m("Modified_Time", Condition::After, "2026-05-05T17:30:00Z"));
        assert!(m("Created_Date", Condition::Before, "2026-02-01"));
        assert!(!m("Account_Name", Condition::Before, "2030-01-01"));
        assert!(!m("Industry", Condition::After, "2000-01-01"));
    }

    #[test]
    fn and_or_and_messages() {
        let rows = vec![
            row("Billing_State", Condition::Equals, "NY"),
            row("Account_Name", Condition::StartsWith, "Zyl"),
            row("Industry", Condition::IsNotEmpty, ""),
        ];
        let and = FilterSet::new(Combinator::And, rows.clone());
        let outcome = and.evaluate(&account());
        assert!(!outcome.passed);
        assert_eq!(
            outcome.reason.as_deref(),
            Some(
                "Filter not met: Billing_State equals \"NY\" (value was \"CA\"); Industry is not empty (value was empty)"
            )
        );
        let or = FilterSet::new(Combinator::Or, rows);
        assert_eq!(
            or.evaluate(&account()),
            FilterOutcome {
                passed: true,
                reason: None
            }
        );
        let none = FilterSet::new(
            Combinator::Or,
            vec![row("Billing_State", Condition::Equals, "NY")],
        );
        assert_eq!(
            none.evaluate(&account()).reason.as_deref(),
            Some("No filter matched: Billing_State equals \"NY\" (value was \"CA\")")
        );
        assert!(FilterSet::default().evaluate(&account()).passed);
        assert_eq!(
            none.evaluate_labelled(&account(), |f| (f == "Billing_State")
                .then(|| "Billing State".to_owned()))
                .reason
                .as_deref(),
            Some("No filter matched: Billing State equals \"NY\" (value was \"CA\")"),
            "people read labels"
        );
    }

    #[test]
    fn validation_messages() {
        let set = FilterSet::new(
            Combinator::And,
            vec![
                row("Billing_State", Condition::Equals, "CA"),
                row("", Condition::Equals, "x"),
                row("Billing_State", Condition::Contains, "  "),
                row("Industry", Condition::IsEmpty, ""),
                row("Annual_Revenue", Condition::GreaterThan, "lots"),
                row("Created_Date", Condition::Before, "15/01/2026"),
                row("Created_Date", Condition::After, "2026-01-15"),
            ],
        );
        let errors = set.validate().unwrap_err();
        let rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![1, 2, 4, 5]);
        assert_eq!(errors[0].to_string(), "row 2: choose a field");
        assert_eq!(errors[1].message, "enter a value for \"contains\"");
        assert_eq!(
            errors[2].message,
            "\"greater than\" compares numbers; \"lots\" is not a number"
        );
        assert!(errors[3].message.contains("YYYY-MM-DD"));
        assert!(FilterSet::default().validate().is_ok());
    }

    #[test]
    fn validation_against_fields_checks_names_and_types() {
        let fields = vec![
            FilterField {
                name: "Account_Name".into(),
                data_type: DataType::Text,
            },
            FilterField {
                name: "Annual_Revenue".into(),
                data_type: DataType::Currency,
            },
        ];
        let ok = FilterSet::new(
            Combinator::And,
            vec![
                row("Account_Name", Condition::Contains, "a"),
                row("Annual_Revenue", Condition::GreaterThan, "5"),
            ],
        );
        assert!(ok.validate_for(&fields).is_ok());
        let bad = FilterSet::new(
            Combinator::And,
            vec![
                row("Nope", Condition::Equals, "a"),
                row("Account_Name", Condition::GreaterThan, "5"),
                row("Annual_Revenue", Condition::Contains, "5"),
            ],
        );
        let errors = bad.validate_for(&fields).unwrap_err();
        assert_eq!(errors.len(), 3);
        assert!(errors[0].message.contains("Sync Mappable Fields"));
        assert_eq!(
            errors[1].message,
            "\"greater than\" does not apply to Account_Name, which is text"
        );
        assert!(errors[2].message.contains("which is currency"));
    }

    #[test]
    fn filter_fields_come_from_the_source_side() {
        use crate::pairs::{ModulePair, SalesOrderTarget};
        let catalogue =
            FieldCatalogue::standard(ModulePair::AccountsCustomers, SalesOrderTarget::Invoice);
        let zoho = FilterField::for_flow(&catalogue, Flow::ZohoToQbo);
        assert!(zoho.iter().any(|f| f.name == "Billing_State"));
        let qbo = FilterField::for_flow(&catalogue, Flow::QboToZoho);
        assert!(
            qbo.iter()
                .any(|f| f.name == "BillAddr.CountrySubDivisionCode")
        );
        let set = FilterSet::new(
            Combinator::And,
            vec![row(
                "BillAddr.CountrySubDivisionCode",
                Condition::Equals,
                "CA",
            )],
        );
        assert!(set.validate_for(&qbo).is_ok());
        assert!(set.validate_for(&zoho).is_err());
    }

    #[test]
    fn serde_shape_and_per_direction_storage() {
        let mut filters = PairFilters::default();
        filters
            .get_mut(Flow::QboToZoho)
            .rows
            .push(row("DisplayName", Condition::IsNotEmpty, ""));
        assert!(filters.get(Flow::ZohoToQbo).is_empty());
        let json = serde_json::to_value(&filters).unwrap();
        assert_eq!(
            json["qbo_to_zoho"],
            json!({"combinator": "and", "rows": [
                {"field": "DisplayName", "condition": "is_not_empty", "value": ""}]})
        );
        let back: PairFilters = serde_json::from_value(json).unwrap();
        assert_eq!(back, filters);
        let sparse: FilterSet =
            serde_json::from_value(json!({"rows": [{"field": "A", "condition": "is_empty"}]}))
                .unwrap();
        assert_eq!(sparse.combinator, Combinator::And);
        assert_eq!(sparse.rows[0].value, "");
    }

    #[test]
    fn conditions_offered_per_type() {
        assert!(Condition::for_type(DataType::Date).contains(&Condition::Before));
        assert!(!Condition::for_type(DataType::Text).contains(&Condition::Before));
        assert!(Condition::for_type(DataType::Integer).contains(&Condition::GreaterThan));
        for c in Condition::ALL {
            assert!(!c.label().is_empty());
        }
        assert_eq!(
            Condition::ALL.iter().filter(|c| !c.needs_value()).count(),
            2
        );
    }

    fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            "[a-zA-Z0-9 ]{0,12}".prop_map(Value::String),
            (-1000i64..1000).prop_map(|n| json!(n)),
            any::<bool>().prop_map(Value::Bool),
            proptest::collection::vec("[a-z]{0,4}", 0..3).prop_map(|v| json!(v)),
        ]
    }

    fn any_condition() -> impl Strategy<Value = Condition> {
        proptest::sample::select(Condition::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn negated_conditions_are_complements(value in any_value(), wanted in "[a-zA-Z0-9 ]{0,6}") {
            let record = json!({"F": value});
            let pairs = [
                (Condition::Equals, Condition::NotEquals),
                (Condition::Contains, Condition::DoesNotContain),
                (Condition::IsEmpty, Condition::IsNotEmpty),
            ];
            for (yes, no) in pairs {
                prop_assert_ne!(
                    row("F", yes, &wanted).matches(&record),
                    row("F", no, &wanted).matches(&record)
                );
            }
        }

        #[test]
        fn and_is_all_or_is_any(
            value in any_value(),
            rows in proptest::collection::vec((any_condition(), "[a-z0-9]{0,3}"), 0..5),
        ) {
            let record = json!({"F": value});
            let rows: Vec<FilterRow> = rows.iter().map(|(c, v)| row("F", *c, v)).collect();
            let each: Vec<bool> = rows.iter().map(|r| r.matches(&record)).collect();
            let and = FilterSet::new(Combinator::And, rows.clone()).evaluate(&record);
            let or = FilterSet::new(Combinator::Or, rows.clone()).evaluate(&record);
            prop_assert_eq!(and.passed, each.iter().all(|b| *b));
            prop_assert_eq!(or.passed, rows.is_empty() || each.iter().any(|b| *b));
            prop_assert_eq!(and.passed, and.reason.is_none());
            prop_assert_eq!(or.passed, or.reason.is_none());
        }

        #[test]
        fn numeric_comparisons_follow_numbers(a in -1e6f64..1e6, b in -1e6f64..1e6, as_text in any::<bool>()) {
            let a = (a * 100.0).round() / 100.0;
            let b = (b * 100.0).round() / 100.0;
            let value = if as_text { json!(a.to_string()) } else { json!(a) };
            let record = json!({"N": value});
            let gt = row("N", Condition::GreaterThan, &b.to_string()).matches(&record);
            let lt = row("N", Condition::LessThan, &b.to_string()).matches(&record);
            let eq = row("N", Condition::Equals, &b.to_string()).matches(&record);
            prop_assert_eq!(gt, a > b);
            prop_assert_eq!(lt, a < b);
            prop_assert_eq!(eq, a == b);
        }

        #[test]
        fn date_comparisons_follow_the_calendar(a in 0u32..3650, b in 0u32..3650) {
            let date = |offset: u32| {
                // 2020-01-01 plus offset days, written as ISO text via the record parser's inverse.
                let base = DateValue::parse("2020-01-01").unwrap().days;
                iso_from_days(base + i64::from(offset))
            };
            let record = json!({"D": date(a)});
            prop_assert_eq!(row("D", Condition::Before, &date(b)).matches(&record), a < b);
            prop_assert_eq!(row("D", Condition::After, &date(b)).matches(&record), a > b);
        }

        #[test]
        fn contains_ignores_case(text in "[a-zA-Z]{1,10}", start in 0usize..10, len in 1usize..5) {
            let start = start.min(text.len() - 1);
            let end = (start + len).min(text.len());
            let part = text[start..end].to_uppercase();
            let record = json!({"T": text});
            prop_assert!(row("T", Condition::Contains, &part).matches(&record));
            prop_assert!(!row("T", Condition::DoesNotContain, &part).matches(&record));
        }
    }

    /// Civil date from days since 1970-01-01 (H. Hinnant), for generating dates.
    fn iso_from_days(days: i64) -> String {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!("{y:04}-{m:02}-{d:02}")
    }
}
