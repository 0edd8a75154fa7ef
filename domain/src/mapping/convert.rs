//! Typing a value for the field it is written to, the same way toward either system.

use serde_json::{Value, json};

use crate::fields::{DataType, QboField, TypeFamily};
use crate::record::{DateValue, as_number, display_text, parse_bool, parse_number};

/// `value` as the target field's type takes it, or why it does not fit. Numbers may come as
/// text, yes/no as text, dates with or without a time (a date field keeps the calendar date
/// only), multi-select pick lists as a list or as `;`-separated text (only Zoho has them);
/// everything else becomes its display text.
pub(super) fn to_value(data_type: DataType, value: &Value) -> Result<Value, String> {
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

/// A static value typed for its QBO field, or why it does not fit.
pub(super) fn convert_static(qbo: &QboField, value: &str) -> Result<Value, String> {
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
    check_length(qbo.max_length, converted).map_err(|m| format!("{path}: {m}."))
}

/// Refuses text longer than a QBO field's `max_length` (Zoho fields carry none).
pub(super) fn check_length(max_length: Option<u32>, value: Value) -> Result<Value, String> {
    if let (Some(max), Value::String(s)) = (max_length, &value) {
        let len = s.chars().count();
        if len > max as usize {
            return Err(format!(
                "\"{s}\" is {len} characters long; QuickBooks allows at most {max}"
            ));
        }
    }
    Ok(value)
}

fn quoted(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_the_target_type() {
        assert_eq!(
            to_value(DataType::Currency, &json!("1,234.5")),
            Ok(json!(1234.5))
        );
        assert_eq!(
            to_value(DataType::Integer, &json!("ten")),
            Err("\"ten\" is not a number".to_owned())
        );
        assert_eq!(to_value(DataType::Boolean, &json!("yes")), Ok(json!(true)));
        assert_eq!(
            to_value(DataType::Boolean, &json!(3)),
            Err("3 is not yes/no".to_owned())
        );
        assert_eq!(
            to_value(DataType::Date, &json!("2026-05-05T10:00:00+05:30")),
            Ok(json!("2026-05-05")),
            "date fields keep the calendar date"
        );
        assert_eq!(
            to_value(DataType::DateTime, &json!("2026-05-05T10:00:00+05:30")),
            Ok(json!("2026-05-05T10:00:00+05:30"))
        );
        assert_eq!(
            to_value(DataType::MultiPicklist, &json!("Red; Blue;")),
            Ok(json!(["Red", "Blue"]))
        );
        assert_eq!(
            to_value(DataType::MultiPicklist, &json!(["Red"])),
            Ok(json!(["Red"]))
        );
        assert_eq!(
            to_value(DataType::Picklist, &json!({"value": "3", "name": "Net 30"})),
            Ok(json!("Net 30")),
            "a reference shows its name"
        );
        assert_eq!(to_value(DataType::Text, &json!(12)), Ok(json!("12")));
    }

    #[test]
    fn text_longer_than_the_field_is_refused() {
        assert_eq!(check_length(Some(3), json!("abc")), Ok(json!("abc")));
        assert_eq!(
            check_length(Some(3), json!("abcd")),
            Err("\"abcd\" is 4 characters long; QuickBooks allows at most 3".to_owned())
        );
        assert_eq!(check_length(Some(3), json!(12345)), Ok(json!(12345)));
        assert_eq!(check_length(None, json!("abcd")), Ok(json!("abcd")));
    }
}
