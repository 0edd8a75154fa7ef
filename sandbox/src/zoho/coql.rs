//! The COQL subset: `SELECT f, … FROM Module [WHERE …] [ORDER BY f [ASC|DESC], …] [LIMIT [offset,] n |
//! LIMIT n OFFSET m]`. WHERE supports `= != < <= > >= like 'x%'`, `not like`, `in (…)`, `not in (…)`,
//! `is null`, `is not null`, `between a and b`, `and` / `or` with parentheses, and lookup paths
//! (`Account_Name.id`, `Account_Name.Account_Name`).

use std::cmp::Ordering;

use serde_json::Value;

use crate::qbo::query::compare_text;
use crate::tokens::{self, Token, TokenError};

pub const MAX_LIMIT: usize = 2000;

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    tokens::tokenize(input, '$')
        .collect::<Result<_, _>>()
        .map_err(|error| match error {
            TokenError::Unterminated => "unterminated string".to_owned(),
            TokenError::Unexpected(c) => format!("unexpected character {c}"),
        })
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        field: String,
        op: String,
        values: Vec<String>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Coql {
    pub fields: Vec<String>,
    pub module: String,
    pub filter: Option<Filter>,
    pub order_by: Vec<(String, bool)>,
    pub offset: usize,
    pub limit: usize,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
        {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        if matches!(self.tokens.get(self.pos), Some(Token::Symbol(s)) if *s == symbol) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> Result<String, String> {
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Word(w)) => {
                self.pos += 1;
                Ok(w)
            }
            other => Err(format!("expected a name, found {other:?}")),
        }
    }

    fn value(&mut self) -> Result<String, String> {
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Text(t) | Token::Number(t) | Token::Word(t)) => {
                self.pos += 1;
                Ok(t)
            }
            other => Err(format!("expected a value, found {other:?}")),
        }
    }

    fn number(&mut self) -> Result<usize, String> {
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Number(n)) => {
                self.pos += 1;
                n.parse().map_err(|_| format!("invalid number {n}"))
            }
            other => Err(format!("expected a number, found {other:?}")),
        }
    }

    fn disjunction(&mut self) -> Result<Filter, String> {
        let mut left = self.conjunction()?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Filter, String> {
        let mut left = self.term()?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Filter, String> {
        if self.symbol("(") {
            let inner = self.disjunction()?;
            if !self.symbol(")") {
                return Err("expected )".to_owned());
            }
            return Ok(inner);
        }
        let field = self.word()?;
        let compare = |op: &str, values: Vec<String>| Filter::Compare {
            field: field.clone(),
            op: op.to_owned(),
            values,
        };
        if self.keyword("is") {
            let negated = self.keyword("not");
            if !self.keyword("null") {
                return Err("expected null after is".to_owned());
            }
            return Ok(compare(
                if negated { "is not null" } else { "is null" },
                Vec::new(),
            ));
        }
        let negated = self.keyword("not");
        if self.keyword("like") {
            return Ok(compare(
                if negated { "not like" } else { "like" },
                vec![self.value()?],
            ));
        }
        if self.keyword("in") {
            if !self.symbol("(") {
                return Err("expected ( after in".to_owned());
            }
            let mut values = vec![self.value()?];
            while self.symbol(",") {
                values.push(self.value()?);
            }
            if !self.symbol(")") {
                return Err("expected ) after the in list".to_owned());
            }
            return Ok(compare(if negated { "not in" } else { "in" }, values));
        }
        if negated {
            return Err("expected like or in after not".to_owned());
        }
        if self.keyword("between") {
            let low = self.value()?;
            if !self.keyword("and") {
                return Err("expected and in between".to_owned());
            }
            return Ok(compare("between", vec![low, self.value()?]));
        }
        for op in ["=", "!=", "<=", ">=", "<", ">"] {
            if self.symbol(op) {
                return Ok(compare(op, vec![self.value()?]));
            }
        }
        Err(format!("expected an operator after {field}"))
    }
}

pub fn parse(statement: &str) -> Result<Coql, String> {
    let mut p = Parser {
        tokens: tokenize(statement)?,
        pos: 0,
    };
    if !p.keyword("select") {
        return Err("the query must start with select".to_owned());
    }
    let mut fields = vec![p.word()?];
    while p.symbol(",") {
        fields.push(p.word()?);
    }
    if !p.keyword("from") {
        return Err("expected from".to_owned());
    }
    let module = p.word()?;
    let filter = if p.keyword("where") {
        Some(p.disjunction()?)
    } else {
        None
    };
    let mut order_by = Vec::new();
    if p.keyword("order") {
        if !p.keyword("by") {
            return Err("expected by after order".to_owned());
        }
        loop {
            let field = p.word()?;
            let descending = p.keyword("desc");
            if !descending {
                p.keyword("asc");
            }
            order_by.push((field, descending));
            if !p.symbol(",") {
                break;
            }
        }
    }
    let (mut offset, mut limit) = (0, 200);
    if p.keyword("limit") {
        let first = p.number()?;
        if p.symbol(",") {
            offset = first;
            limit = p.number()?;
        } else {
            limit = first;
            if p.keyword("offset") {
                offset = p.number()?;
            }
        }
    }
    if p.pos != p.tokens.len() {
        return Err(format!("unexpected {:?}", p.tokens[p.pos]));
    }
    if limit == 0 || limit > MAX_LIMIT {
        return Err(format!("limit must be between 1 and {MAX_LIMIT}"));
    }
    Ok(Coql {
        fields,
        module,
        filter,
        order_by,
        offset,
        limit,
    })
}

/// A field or lookup path (`Account_Name.id`) as text; lookups compare by id unless a name is asked for.
pub fn resolve(record: &Value, path: &str) -> Option<String> {
    let (head, tail) = path
        .split_once('.')
        .map_or((path, None), |(h, t)| (h, Some(t)));
    let value = record.get(head)?;
    let value = match (value, tail) {
        (Value::Object(map), Some("id")) | (Value::Object(map), None) => map.get("id")?,
        (Value::Object(map), Some(_)) => map.get("name")?,
        (other, _) => other,
    };
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn like(text: &str, pattern: &str) -> bool {
    let text = text.to_lowercase();
    let pattern = pattern.to_lowercase();
    match (pattern.strip_prefix('%'), pattern.strip_suffix('%')) {
        (Some(inner), Some(_)) => text.contains(inner.trim_end_matches('%')),
        (Some(suffix), None) => text.ends_with(suffix),
        (None, Some(prefix)) => text.starts_with(prefix),
        (None, None) => text == pattern,
    }
}

impl Filter {
    pub fn matches(&self, record: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(record) && b.matches(record),
            Filter::Or(a, b) => a.matches(record) || b.matches(record),
            Filter::Compare { field, op, values } => {
                let actual = resolve(record, field);
                let first = values.first().map_or("", String::as_str);
                let cmp = |v: &str| actual.as_deref().map(|a| compare_text(a, v));
                match op.as_str() {
                    "is null" => actual.is_none(),
                    "is not null" => actual.is_some(),
                    "=" => cmp(first) == Some(Ordering::Equal),
                    "!=" => cmp(first) != Some(Ordering::Equal),
                    "<" => cmp(first) == Some(Ordering::Less),
                    "<=" => matches!(cmp(first), Some(Ordering::Less | Ordering::Equal)),
                    ">" => cmp(first) == Some(Ordering::Greater),
                    ">=" => matches!(cmp(first), Some(Ordering::Greater | Ordering::Equal)),
                    "like" => actual.is_some_and(|a| like(&a, first)),
                    "not like" => actual.is_none_or(|a| !like(&a, first)),
                    "in" => values.iter().any(|v| cmp(v) == Some(Ordering::Equal)),
                    "not in" => !values.iter().any(|v| cmp(v) == Some(Ordering::Equal)),
                    "between" => {
                        matches!(cmp(first), Some(Ordering::Greater | Ordering::Equal))
                            && matches!(
                                cmp(values.get(1).map_or("", String::as_str)),
                                Some(Ordering::Less | Ordering::Equal)
                            )
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
    fn parses_the_documented_shapes() {
        let q = parse("select Last_Name, Email from Contacts where Modified_Time > '2026-05-01T00:00:00+00:00' order by Modified_Time asc limit 0, 200").unwrap();
        assert_eq!(q.fields, ["Last_Name", "Email"]);
        assert_eq!((q.offset, q.limit), (0, 200));
        let q = parse("select id from Accounts where (Account_Name like 'Sun%' or Phone is null) and Credit_Limit between 10 and 20 limit 5 offset 10").unwrap();
        assert_eq!((q.offset, q.limit), (10, 5));
        let row = json!({"Account_Name": "Sunny", "Phone": null, "Credit_Limit": 15});
        assert!(q.filter.unwrap().matches(&row));
        assert!(parse("select id from Accounts limit 2001").is_err());
        assert!(parse("delete from Accounts").is_err());
        let lookup = parse("select id from Contacts where Account_Name.id = '42'").unwrap();
        assert!(
            lookup
                .filter
                .unwrap()
                .matches(&json!({"Account_Name": {"name": "X", "id": "42"}}))
        );
    }
}
