//! Reading and writing fields of records held as JSON.
//!
//! Mapping and filters both address fields by path: Zoho fields by API name,
//! QBO fields by dotted paths into nested objects (`BillAddr.Line1`) or by
//! custom-field definition (`CustomField[2]`). Keeping that addressing, and the
//! lenient value parsing (numbers sent as strings, dates with or without a
//! time), in one place means the filter page, the mapping preview and the
//! engine read a record identically.

use serde_json::{Map, Value};

use crate::fields::QboField;

/// The value at `path` in `record`, `None` when absent. Dots descend into
/// objects; `CustomField[<id>]` finds the QBO custom field with that
/// DefinitionId and yields its `StringValue` (or `NumberValue`/`DateValue`).
pub fn get_path<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(id) = QboField::custom_definition_id(path) {
        let entry = record
            .get("CustomField")?
            .as_array()?
            .iter()
            .find(|cf| cf.get("DefinitionId").and_then(Value::as_str) == Some(id))?;
        return ["StringValue", "NumberValue", "DateValue", "BooleanValue"]
            .iter()
            .find_map(|key| entry.get(*key));
    }
    // A top-level key containing a dot (rare, but Zoho allows odd API names)
    // wins over descending.
    if let Some(v) = record.get(path) {
        return Some(v);
    }
    let mut current = record;
    for segment in path.split('.') {
        current = current.get(segment)?;
    }
    Some(current)
}

/// Sets `value` at `path`, creating intermediate objects. Custom-field paths
/// add or replace the entry with that DefinitionId as a string value, which is
/// what QBO accepts for every custom-field type on write.
pub fn set_path(record: &mut Value, path: &str, value: Value) {
    if !record.is_object() {
        *record = Value::Object(Map::new());
    }
    if let Some(id) = QboField::custom_definition_id(path) {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let entry = serde_json::json!({
            "DefinitionId": id, "Type": "StringType", "StringValue": text
        });
        let list = record.as_object_mut().map(|o| {
            o.entry("CustomField")
                .or_insert_with(|| Value::Array(Vec::new()))
        });
        if let Some(Value::Array(items)) = list {
            match items
                .iter_mut()
                .find(|cf| cf.get("DefinitionId").and_then(Value::as_str) == Some(id))
            {
                Some(existing) => *existing = entry,
                None => items.push(entry),
            }
        }
        return;
    }
    let mut current = record;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let object = match current {
            Value::Object(map) => map,
            other => {
                *other = Value::Object(Map::new());
                match other {
                    Value::Object(map) => map,
                    _ => unreachable!("just made an object"),
                }
            }
        };
        if segments.peek().is_none() {
            object.insert(segment.to_owned(), value);
            return;
        }
        current = object
            .entry(segment.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Whether a value counts as empty: missing, null, blank text, empty list or
/// a lookup without id and name.
pub fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => {
            map.is_empty()
                || ["name", "id", "value"]
                    .iter()
                    .all(|k| map.get(*k).is_none_or(|v| is_empty(Some(v))))
        }
        Some(_) => false,
    }
}

/// A value as the text a person would see: lookups and refs by name (then
/// id), lists joined with "; ". `None` for null/missing.
pub fn display_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| display_text(Some(v)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Value::Object(map) => ["name", "value", "id"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| display_text(Some(v)))),
    }
}

/// Parses a number written by a person or an API: `12`, `-3.5`, `1,234.50`,
/// ` 7 `. Currency symbols are not accepted (they hide the currency).
pub fn parse_number(text: &str) -> Option<f64> {
    let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
    if cleaned.is_empty() {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A value as a number, from a JSON number or numeric text.
pub fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

/// Parses yes/no words used in forms and CSVs.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// A date, or a date with a time, as both systems write them
/// (`2026-05-01`, `2026-05-01T10:15:00+05:30`, `…Z`, fractions of seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateValue {
    /// The calendar date as written (local to whoever wrote it), in days since 1970-01-01.
    pub days: i64,
    /// The instant in seconds since the Unix epoch (UTC), when a time was given.
    /// A time without an offset is read as UTC.
    pub instant: Option<i64>,
}

impl DateValue {
    pub fn parse(text: &str) -> Option<DateValue> {
        let text = text.trim();
        let bytes = text.as_bytes();
        if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year: i64 = digits(text.get(0..4)?)?;
        let month: i64 = digits(text.get(5..7)?)?;
        let day: i64 = digits(text.get(8..10)?)?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let rest = &text[10..];
        if rest.is_empty() {
            return Some(DateValue {
                days,
                instant: None,
            });
        }
        let rest = rest.strip_prefix(['T', ' '])?;
        if rest.len() < 5 || rest.as_bytes()[2] != b':' {
            return None;
        }
        let hour: i64 = digits(rest.get(0..2)?)?;
        let minute: i64 = digits(rest.get(3..5)?)?;
        let mut rest = rest.get(5..)?;
        let mut second = 0;
        if let Some(after) = rest.strip_prefix(':') {
            second = digits(after.get(0..2)?)?;
            rest = &after[2..];
            if let Some(after) = rest.strip_prefix('.') {
                let frac_len = after.bytes().take_while(u8::is_ascii_digit).count();
                if frac_len == 0 {
                    return None;
                }
                rest = &after[frac_len..];
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let offset_seconds = match rest {
            "" | "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let off = &rest[1..];
                let (h, m) = match off.len() {
                    5 if off.as_bytes()[2] == b':' => (off.get(0..2)?, off.get(3..5)?),
                    4 => (off.get(0..2)?, off.get(2..4)?),
                    2 => (off.get(0..2)?, "00"),
                    _ => return None,
                };
                sign * (digits::<i64>(h)? * 3600 + digits::<i64>(m)? * 60)
            }
        };
        let local = days * 86_400 + hour * 3600 + minute * 60 + second;
        Some(DateValue {
            days,
            instant: Some(local - offset_seconds),
        })
    }

    /// The instant, taking a bare date as midnight UTC.
    pub fn instant_or_midnight(self) -> i64 {
        self.instant.unwrap_or(self.days * 86_400)
    }
}

/// A stable fingerprint of a value, for echo suppression: the engine stores
/// the fingerprint of what it last wrote per link and skips a change whose
/// mapped values fingerprint the same. Object key order and number spelling
/// (`2` vs `2.0`) do not matter; everything else does. 16 hex digits (FNV-1a).
pub fn fingerprint(value: &Value) -> String {
    let mut hash = Fnv::new();
    write_canonical(value, &mut hash);
    hash.hex()
}

/// A fingerprint of `value` written by `write` in canonical form: [`fingerprint`] of a value
/// built only to be hashed, without building it (`write` calls [`write_canonical`] and
/// [`Fnv::push`] in the order the value's canonical text would have).
pub fn fingerprint_with(write: impl FnOnce(&mut Fnv)) -> String {
    let mut hash = Fnv::new();
    write(&mut hash);
    hash.hex()
}

/// 64-bit FNV-1a over the canonical text as it is written (no text is kept).
pub struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub fn push(&mut self, text: &str) {
        for byte in text.bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl std::io::Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for byte in buf {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Write for Fnv {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.push(text);
        Ok(())
    }
}

/// A deterministic idempotency key from its parts, e.g. (tenant, pair, Zoho
/// id) for QBO's `requestid`: a retried create after a crash sends the same
/// key, so QBO returns the first result instead of creating a duplicate.
/// 32 hex digits (two 64-bit FNV-1a hashes), within QBO's 36-character batch
/// limit and its 50-character limit elsewhere.
pub fn idempotency_key(parts: &[&str]) -> String {
    // Length-prefixing each part keeps ("ab","c") and ("a","bc") apart.
    let canonical: String = parts.iter().map(|p| format!("{}:{p}", p.len())).collect();
    let fnv = |offset: u64| {
        canonical.bytes().fold(offset, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

/// The canonical text of `value` (object keys sorted, integral numbers without a fraction,
/// strings as JSON), fed to `out`. Stored fingerprints depend on it byte for byte.
pub fn write_canonical(value: &Value, out: &mut Fnv) {
    write_value(value, None, out);
}

/// [`write_canonical`] with the values at the JSON pointers `masked` (e.g.
/// `/Line/0/SalesItemLineDetail/ItemRef`) written as `null`, as if they had been set to null.
pub fn write_canonical_masked(value: &Value, masked: &[&str], out: &mut Fnv) {
    write_value(value, Some((&mut String::new(), masked)), out);
}

/// The JSON pointer of the value being written and the pointers to write as null; `None` once
/// no masked pointer lies below it.
type Mask<'a, 'b> = Option<(&'a mut String, &'b [&'b str])>;

fn write_value(value: &Value, mut mask: Mask<'_, '_>, out: &mut Fnv) {
    use std::fmt::Write as _;
    if let Some((path, masked)) = &mask {
        if masked.contains(&path.as_str()) {
            out.push("null");
            return;
        }
        if !masked.iter().any(|m| m.starts_with(path.as_str())) {
            mask = None;
        }
    }
    match value {
        Value::Null => out.push("null"),
        Value::Bool(b) => out.push(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Integral values print without a fraction whatever their JSON spelling.
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                let _ = write!(out, "{}", f as i64);
            } else {
                let _ = write!(out, "{n}");
            }
        }
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(",");
                }
                write_child(item, || i.to_string(), &mut mask, out);
            }
            out.push("]");
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // (Already in order unless serde_json keeps insertion order.)
            if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push("{");
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(",");
                }
                write_json_string(key, out);
                out.push(":");
                write_child(
                    item,
                    || key.replace('~', "~0").replace('/', "~1"),
                    &mut mask,
                    out,
                );
            }
            out.push("}");
        }
    }
}

/// Writes a member or element; `segment` (its pointer segment) is made only under a mask.
fn write_child(
    item: &Value,
    segment: impl FnOnce() -> String,
    mask: &mut Mask<'_, '_>,
    out: &mut Fnv,
) {
    match mask {
        Some((path, masked)) => {
            let depth = path.len();
            path.push('/');
            path.push_str(&segment());
            write_value(item, Some((&mut **path, *masked)), out);
            path.truncate(depth);
        }
        None => write_value(item, None, out),
    }
}

/// `text` as a JSON string, quoted and escaped as serde_json writes it.
pub fn write_json_string(text: &str, out: &mut Fnv) {
    // Writing into the hash cannot fail.
    let _ = serde_json::to_writer(out, text);
}

fn digits<N: std::str::FromStr>(text: &str) -> Option<N> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What a system accepted of what was `sent`, read from its `answer` (the record it holds
/// after the write): the answer's values at the paths of `sent` only, so fields the system adds
/// (ids, computed totals, an address's `Id` or `Lat`) are left out and the result compares with
/// the next mapped payload. Lists are taken item by item for the items sent (QBO appends a
/// subtotal line); a path the answer lacks keeps the value sent.
pub fn accepted(sent: &Value, answer: &Value) -> Value {
    match (sent, answer) {
        (Value::Object(sent), Value::Object(answer)) => Value::Object(
            sent.iter()
                .map(|(key, value)| {
                    let kept = answer
                        .get(key)
                        .map_or_else(|| value.clone(), |held| accepted(value, held));
                    (key.clone(), kept)
                })
                .collect(),
        ),
        (Value::Array(sent), Value::Array(answer)) if answer.len() >= sent.len() => Value::Array(
            sent.iter()
                .zip(answer)
                .map(|(value, held)| accepted(value, held))
                .collect(),
        ),
        (Value::Object(_) | Value::Array(_), _) => sent.clone(),
        (_, Value::Object(_) | Value::Array(_)) => sent.clone(),
        (_, held) => held.clone(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepted_reads_the_answer_at_the_paths_sent_only() {
        use serde_json::json;
        let sent = json!({"DisplayName": "Acme ", "BillAddr": {"Line1": "1 Main"}, "Balance": 5,
            "Line": [{"Amount": 10, "SalesItemLineDetail": {"ItemRef": {"value": "7"}}}], "Notes": "n"});
        let answer = json!({"Id": "14", "DisplayName": "Acme", "Balance": 0, "SyncToken": "1",
            "BillAddr": {"Id": "3", "Line1": "1 Main", "Lat": "INVALID"},
            "Line": [{"Id": "1", "Amount": 10.0, "SalesItemLineDetail": {"ItemRef": {"value": "7", "name": "Pavers"}}},
                     {"Amount": 10.0, "DetailType": "SubTotalLineDetail"}]});
        assert_eq!(
            super::accepted(&sent, &answer),
            json!({"DisplayName": "Acme", "BillAddr": {"Line1": "1 Main"}, "Balance": 0,
                "Line": [{"Amount": 10.0, "SalesItemLineDetail": {"ItemRef": {"value": "7"}}}], "Notes": "n"})
        );
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn nested_paths_read_and_write() {
        let mut record = json!({"DisplayName": "Amy", "BillAddr": {"City": "Bayshore"}});
        assert_eq!(get_path(&record, "DisplayName"), Some(&json!("Amy")));
        assert_eq!(get_path(&record, "BillAddr.City"), Some(&json!("Bayshore")));
        assert_eq!(get_path(&record, "BillAddr.Line1"), None);
        assert_eq!(get_path(&record, "ShipAddr.Line1"), None);
        set_path(&mut record, "BillAddr.Line1", json!("4581 Finch St."));
        set_path(&mut record, "PrimaryPhone.FreeFormNumber", json!("555"));
        assert_eq!(
            record,
            json!({"DisplayName": "Amy",
                   "BillAddr": {"City": "Bayshore", "Line1": "4581 Finch St."},
                   "PrimaryPhone": {"FreeFormNumber": "555"}})
        );
        // A scalar in the way is replaced by an object.
        set_path(&mut record, "DisplayName.x", json!(1));
        assert_eq!(get_path(&record, "DisplayName.x"), Some(&json!(1)));
        let mut not_object = json!(3);
        set_path(&mut not_object, "a", json!(1));
        assert_eq!(not_object, json!({"a": 1}));
    }

    #[test]
    fn custom_fields_by_definition_id() {
        let mut record = json!({"CustomField": [
            {"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": "7"},
            {"DefinitionId": "2", "Name": "Empty", "Type": "StringType"}
        ]});
        assert_eq!(get_path(&record, "CustomField[1]"), Some(&json!("7")));
        assert_eq!(get_path(&record, "CustomField[2]"), None);
        assert_eq!(get_path(&record, "CustomField[3]"), None);
        set_path(&mut record, "CustomField[2]", json!("x"));
        set_path(&mut record, "CustomField[3]", json!(5));
        assert_eq!(get_path(&record, "CustomField[2]"), Some(&json!("x")));
        assert_eq!(get_path(&record, "CustomField[3]"), Some(&json!("5")));
        assert_eq!(record["CustomField"].as_array().unwrap().len(), 3);
        let mut fresh = json!({});
        set_path(&mut fresh, "CustomField[9]", json!("z"));
        assert_eq!(fresh["CustomField"][0]["DefinitionId"], "9");
    }

    #[test]
    fn emptiness_and_display() {
        assert!(is_empty(None));
        assert!(is_empty(Some(&json!(null))));
        assert!(is_empty(Some(&json!("  "))));
        assert!(is_empty(Some(&json!([]))));
        assert!(is_empty(Some(&json!({"name": null, "id": null}))));
        assert!(!is_empty(Some(&json!(0))));
        assert!(!is_empty(Some(&json!(false))));
        assert!(!is_empty(Some(&json!({"name": "Acme", "id": "1"}))));
        assert_eq!(
            display_text(Some(&json!({"name": "Acme", "id": "1"}))).as_deref(),
            Some("Acme")
        );
        assert_eq!(
            display_text(Some(&json!({"value": "24"}))).as_deref(),
            Some("24")
        );
        assert_eq!(
            display_text(Some(&json!(["a", "b"]))).as_deref(),
            Some("a; b")
        );
        assert_eq!(display_text(Some(&json!(2.5))).as_deref(), Some("2.5"));
        assert_eq!(display_text(Some(&json!(null))), None);
    }

    #[test]
    fn numbers_and_bools() {
        assert_eq!(parse_number(" 1,234.50 "), Some(1234.5));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("$3"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(as_number(&json!("2")), Some(2.0));
        assert_eq!(as_number(&json!(true)), None);
        assert_eq!(parse_bool("Yes"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn dates_parse() {
        let d = DateValue::parse("1970-01-02").unwrap();
        assert_eq!(
            d,
            DateValue {
                days: 1,
                instant: None
            }
        );
        assert_eq!(DateValue::parse("2000-03-01").unwrap().days, 11_017);
        let t = DateValue::parse("2026-05-05T03:11:46-07:00").unwrap();
        let z = DateValue::parse("2026-05-05T10:11:46Z").unwrap();
        assert_eq!(t.instant, z.instant);
        assert_eq!(t.days, z.days);
        let ist = DateValue::parse("2026-05-05T00:30:00+05:30").unwrap();
        assert_eq!(
            ist.instant,
            DateValue::parse("2026-05-04T19:00:00Z").unwrap().instant
        );
        assert_eq!(ist.days, DateValue::parse("2026-05-05").unwrap().days);
        assert!(DateValue::parse("2026-05-05T10:11:46.769-07:00").is_some());
        assert!(DateValue::parse("2026-05-05 10:11").is_some());
        for bad in [
            "2026-02-30",
            "2025-13-01",
            "05/01/2026",
            "2026-5-1",
            "2026-05-05T25:00",
            "2026-05-05Tnoon",
            "2026-05-05T10:11:46+5",
            "",
        ] {
            assert!(DateValue::parse(bad).is_none(), "{bad}");
        }
        assert!(DateValue::parse("2024-02-29").is_some());
        assert!(DateValue::parse("2023-02-29").is_none());
    }

    /// Links store fingerprints: the canonical text must never change, or every record would
    /// be written again after an upgrade. Values computed by the first implementation.
    #[test]
    fn fingerprints_are_stable_across_versions() {
        let cases = [
            (
                json!({"b": [1, 2.0, 2.5, -3, 1e20, null, true], "a": {"z": "x\"y\u{1}é", "c": false}}),
                "fd8927ca0e9d661f",
            ),
            (json!("plain"), "9ea3bf33eb1d861f"),
            (
                json!({"DisplayName": "Golden Pools 181", "Line": [{"Amount": 10.5, "Qty": 3}], "x": 9007199254740993u64}),
                "46ba0a1bb09d3d35",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(fingerprint(&value), expected, "{value}");
        }
    }

    #[test]
    fn fingerprints_ignore_key_order_and_number_spelling() {
        let a = json!({"Name": "Pump", "UnitPrice": 15, "BillAddr": {"City": "X", "Line1": "1"}});
        let b = json!({"BillAddr": {"Line1": "1", "City": "X"}, "UnitPrice": 15.0, "Name": "Pump"});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
        let changed =
            json!({"Name": "Pump", "UnitPrice": 15.5, "BillAddr": {"City": "X", "Line1": "1"}});
        assert_ne!(fingerprint(&a), fingerprint(&changed));
        assert_ne!(
            fingerprint(&json!({"a": "1"})),
            fingerprint(&json!({"a": 1}))
        );
        assert_ne!(fingerprint(&json!([1, 2])), fingerprint(&json!([2, 1])));
        assert_ne!(fingerprint(&json!({"a": null})), fingerprint(&json!({})));
        // Keys and strings are quoted, so boundaries cannot be forged.
        assert_ne!(
            fingerprint(&json!({"a": "b,\"c\":\"d"})),
            fingerprint(&json!({"a": "b", "c": "d"}))
        );
    }

    #[test]
    fn idempotency_keys_are_stable_and_distinct() {
        let key = idempotency_key(&["tenant-1", "accounts_customers", "4150868000000002175"]);
        assert_eq!(key.len(), 32);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            key,
            idempotency_key(&["tenant-1", "accounts_customers", "4150868000000002175"])
        );
        assert_ne!(
            key,
            idempotency_key(&["tenant-2", "accounts_customers", "4150868000000002175"])
        );
        assert_ne!(idempotency_key(&["ab", "c"]), idempotency_key(&["a", "bc"]));
    }

    proptest::proptest! {
        #[test]
        fn date_parsing_never_panics(text in "\\PC{0,30}") {
            let _ = DateValue::parse(&text);
        }

        #[test]
        fn dates_are_ordered_like_their_text(a in 0i64..200_000, b in 0i64..200_000) {
            // Day numbers map back to ISO text whose order matches.
            let da = DateValue::parse(&civil_text(a)).unwrap();
            let db = DateValue::parse(&civil_text(b)).unwrap();
            proptest::prop_assert_eq!(da.days.cmp(&db.days), civil_text(a).cmp(&civil_text(b)));
            let base = DateValue::parse("1900-01-01").unwrap().days;
            proptest::prop_assert_eq!(da.days - base, a);
        }
    }

    /// ISO text of the date `day_number` days after 1900-01-01, by walking the
    /// month table: an independent check of `days_from_civil`.
    fn civil_text(day_number: i64) -> String {
        let (mut y, mut m, mut d) = (1900, 1, 1);
        let mut left = day_number;
        while left > 0 {
            let step = (days_in_month(y, m) - d + 1).min(left);
            d += step;
            left -= step;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        format!("{y:04}-{m:02}-{d:02}")
    }
}
