//! Zoho search criteria: `(Field:operator:value)` groups joined by `and` / `or` with parentheses;
//! `\` escapes `(`, `)`, `,` and `:` inside values.

use serde_json::Value;

use crate::qbo::query::compare_text;

#[derive(Debug, Clone, PartialEq)]
pub enum Criteria {
    Condition {
        field: String,
        op: String,
        values: Vec<String>,
    },
    And(Box<Criteria>, Box<Criteria>),
    Or(Box<Criteria>, Box<Criteria>),
}

const OPERATORS: &[&str] = &[
    "equals",
    "not_equal",
    "starts_with",
    "in",
    "not_in",
    "greater_than",
    "greater_equal",
    "less_than",
    "less_equal",
    "between",
];

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

pub fn parse(input: &str) -> Result<Criteria, String> {
    let mut parser = Parser {
        chars: input.trim().chars().collect(),
        pos: 0,
    };
    let criteria = parser.expression()?;
    parser.skip_spaces();
    if parser.pos != parser.chars.len() {
        return Err("unexpected text after the criteria".to_owned());
    }
    Ok(criteria)
}

impl Parser {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.skip_spaces();
        let end = self.pos + word.len();
        if end <= self.chars.len()
            && self.chars[self.pos..end]
                .iter()
                .collect::<String>()
                .eq_ignore_ascii_case(word)
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// `and` binds tighter than `or`.
    fn expression(&mut self) -> Result<Criteria, String> {
        let mut left = self.conjunction()?;
        while self.keyword("or") {
            left = Criteria::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Criteria, String> {
        let mut left = self.group()?;
        while self.keyword("and") {
            left = Criteria::And(Box::new(left), Box::new(self.group()?));
        }
        Ok(left)
    }

    fn group(&mut self) -> Result<Criteria, String> {
        self.skip_spaces();
        if self.chars.get(self.pos) != Some(&'(') {
            return Err("expected (".to_owned());
        }
        self.pos += 1;
        self.skip_spaces();
        let inner = if self.chars.get(self.pos) == Some(&'(') {
            self.expression()?
        } else {
            self.condition()?
        };
        self.skip_spaces();
        if self.chars.get(self.pos) != Some(&')') {
            return Err("expected )".to_owned());
        }
        self.pos += 1;
        Ok(inner)
    }

    fn condition(&mut self) -> Result<Criteria, String> {
        let mut parts: Vec<Vec<String>> = vec![vec![String::new()]];
        loop {
            match self.chars.get(self.pos) {
                None => return Err("unterminated condition".to_owned()),
                Some('\\') => {
                    if let Some(next) = self.chars.get(self.pos + 1) {
                        push_char(&mut parts, *next);
                    }
                    self.pos += 2;
                }
                Some(')') => break,
                Some(':') if parts.len() < 3 => {
                    parts.push(vec![String::new()]);
                    self.pos += 1;
                }
                Some(',') if parts.len() == 3 => {
                    if let Some(last) = parts.last_mut() {
                        last.push(String::new());
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    let c = *c;
                    push_char(&mut parts, c);
                    self.pos += 1;
                }
            }
        }
        if parts.len() != 3 {
            return Err("a condition needs field:operator:value".to_owned());
        }
        let field = parts[0].concat().trim().to_owned();
        let op = parts[1].concat().trim().to_lowercase();
        if !OPERATORS.contains(&op.as_str()) {
            return Err(format!("unsupported operator {op}"));
        }
        let values: Vec<String> = parts[2].iter().map(|v| v.trim().to_owned()).collect();
        if op == "between" && values.len() != 2 {
            return Err("between needs two values".to_owned());
        }
        Ok(Criteria::Condition { field, op, values })
    }
}

fn push_char(parts: &mut [Vec<String>], c: char) {
    if let Some(last) = parts.last_mut().and_then(|p| p.last_mut()) {
        last.push(c);
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(map) => map.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

impl Criteria {
    pub fn matches(&self, record: &Value) -> bool {
        match self {
            Criteria::And(a, b) => a.matches(record) && b.matches(record),
            Criteria::Or(a, b) => a.matches(record) || b.matches(record),
            Criteria::Condition { field, op, values } => {
                let Some(actual) = record.get(field).and_then(text_of) else {
                    return op == "not_equal" || op == "not_in";
                };
                let first = values.first().map_or("", String::as_str);
                let eq = |v: &str| compare_text(&actual, v) == std::cmp::Ordering::Equal;
                match op.as_str() {
                    "equals" => values.iter().any(|v| eq(v)),
                    "not_equal" => !eq(first),
                    "starts_with" => actual.to_lowercase().starts_with(&first.to_lowercase()),
                    "in" => values.iter().any(|v| eq(v)),
                    "not_in" => !values.iter().any(|v| eq(v)),
                    "greater_than" => compare_text(&actual, first).is_gt(),
                    "greater_equal" => compare_text(&actual, first).is_ge(),
                    "less_than" => compare_text(&actual, first).is_lt(),
                    "less_equal" => compare_text(&actual, first).is_le(),
                    "between" => {
                        compare_text(&actual, first).is_ge()
                            && compare_text(&actual, &values[1]).is_le()
                    }
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_nested_groups_and_escapes() {
        let c = parse(r"((Product_Code:equals:SKU\:1)or(Product_Code:equals:SKU-2))and(Unit_Price:greater_than:10)").unwrap();
        assert!(c.matches(&json!({"Product_Code": "SKU:1", "Unit_Price": 12})));
        assert!(c.matches(&json!({"Product_Code": "SKU-2", "Unit_Price": 11.5})));
        assert!(!c.matches(&json!({"Product_Code": "SKU-2", "Unit_Price": 9})));
        let list = parse("(Email:in:a@x.com,b@x.com)").unwrap();
        assert!(list.matches(&json!({"Email": "b@x.com"})));
        assert!(parse("(Email:like:x)").is_err());
        assert!(parse("Email:equals:x").is_err());
    }
}
