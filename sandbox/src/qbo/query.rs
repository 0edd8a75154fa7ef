//! The QBO query language subset: `SELECT * | COUNT(*) FROM Entity [WHERE a op v AND ...]
//! [ORDERBY p [ASC|DESC], ...] [STARTPOSITION n] [MAXRESULTS m]`. No OR, no projection.

use std::cmp::Ordering;

use chrono::DateTime;
use serde_json::Value;

use crate::tokens::{self, TokenError};

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare {
        field: String,
        op: CompareOp,
        value: Literal,
    },
    In {
        field: String,
        values: Vec<Literal>,
    },
    Like {
        field: String,
        pattern: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub count: bool,
    pub entity: String,
    pub conditions: Vec<Condition>,
    pub order_by: Vec<(String, bool)>,
    pub start_position: usize,
    pub max_results: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Symbol(&'static str),
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    tokens::tokenize(input, '*')
        .map(|token| {
            Ok(match token {
                Err(TokenError::Unterminated) => {
                    return Err("unterminated string literal".to_owned());
                }
                Err(TokenError::Unexpected(c)) => {
                    return Err(format!("Encountered \" \"{c}\" \"\" at line 1"));
                }
                Ok(tokens::Token::Word(word)) => Token::Word(word),
                Ok(tokens::Token::Text(text)) => Token::Text(text),
                Ok(tokens::Token::Number(text)) => {
                    Token::Number(text.parse().map_err(|_| format!("invalid number {text}"))?)
                }
                Ok(tokens::Token::Symbol(symbol)) => Token::Symbol(symbol),
            })
        })
        .collect()
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), String> {
        if self.keyword(word) {
            Ok(())
        } else {
            Err(format!("expected {}", word.to_uppercase()))
        }
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        if matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w),
            _ => Err("expected a property name".to_owned()),
        }
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Text(t)) => Ok(Literal::Text(t)),
            Some(Token::Number(n)) => Ok(Literal::Number(n)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            _ => Err("expected a value".to_owned()),
        }
    }

    fn integer(&mut self, what: &str) -> Result<usize, String> {
        match self.next() {
            Some(Token::Number(n)) if n.fract() == 0.0 && n >= 0.0 => Ok(n as usize),
            _ => Err(format!("{what} needs a whole number")),
        }
    }
}

/// Parses a statement. Errors carry the text after `QueryValidationError: `.
pub fn parse(statement: &str) -> Result<Query, String> {
    let mut p = Parser {
        tokens: tokenize(statement)?,
        pos: 0,
    };
    p.expect_keyword("select")?;
    let count = if p.keyword("count") {
        if !(p.symbol("(") && matches!(p.next(), Some(Token::Word(w)) if w == "*") && p.symbol(")"))
        {
            return Err("expected COUNT(*)".to_owned());
        }
        true
    } else if matches!(p.peek(), Some(Token::Word(w)) if w == "*") {
        p.pos += 1;
        // `SELECT *, Sku FROM Item`: properties QBO leaves out of `*` unless named (python-quickbooks
        // 0.9.12 `Item.all()`, its issue #373). Every stored property comes back anyway.
        while p.symbol(",") {
            p.word()?;
        }
        false
    } else {
        return Err("only SELECT * and SELECT COUNT(*) are supported".to_owned());
    };
    p.expect_keyword("from")?;
    let entity = p.word()?;
    let mut query = Query {
        count,
        entity,
        conditions: Vec::new(),
        order_by: Vec::new(),
        start_position: 1,
        max_results: 100,
    };
    if p.keyword("where") {
        loop {
            query.conditions.push(condition(&mut p)?);
            if p.keyword("or") {
                return Err("OR is not supported".to_owned());
            }
            if !p.keyword("and") {
                break;
            }
        }
    }
    if p.keyword("orderby") || (p.keyword("order") && p.keyword("by")) {
        loop {
            let field = p.word()?;
            let descending = if p.keyword("desc") {
                true
            } else {
                p.keyword("asc");
                false
            };
            query.order_by.push((field, descending));
            if !p.symbol(",") {
                break;
            }
        }
    }
    loop {
        if p.keyword("startposition") {
            let start = p.integer("STARTPOSITION")?;
            if start == 0 {
                return Err("value 0 is too small. Min allowed value is 1".to_owned());
            }
            query.start_position = start;
        } else if p.keyword("maxresults") {
            let max = p.integer("MAXRESULTS")?;
            if max > 1000 {
                return Err(format!(
                    "value {max} is too large. Max allowed value is 1000"
                ));
            }
            query.max_results = max;
        } else {
            break;
        }
    }
    if let Some(token) = p.peek() {
        return Err(format!("Encountered unexpected token {token:?}"));
    }
    Ok(query)
}

fn condition(p: &mut Parser) -> Result<Condition, String> {
    let field = p.word()?;
    if p.keyword("in") {
        if !p.symbol("(") {
            return Err("expected ( after IN".to_owned());
        }
        let mut values = vec![p.literal()?];
        while p.symbol(",") {
            values.push(p.literal()?);
        }
        if !p.symbol(")") {
            return Err("expected ) after IN list".to_owned());
        }
        return Ok(Condition::In { field, values });
    }
    if p.keyword("like") {
        return match p.literal()? {
            Literal::Text(pattern) => Ok(Condition::Like { field, pattern }),
            _ => Err("LIKE needs a string".to_owned()),
        };
    }
    let op = match p.next() {
        Some(Token::Symbol("=")) => CompareOp::Eq,
        Some(Token::Symbol("!=")) => CompareOp::Ne,
        Some(Token::Symbol("<")) => CompareOp::Lt,
        Some(Token::Symbol("<=")) => CompareOp::Le,
        Some(Token::Symbol(">")) => CompareOp::Gt,
        Some(Token::Symbol(">=")) => CompareOp::Ge,
        _ => return Err(format!("expected an operator after {field}")),
    };
    Ok(Condition::Compare {
        field,
        op,
        value: p.literal()?,
    })
}

impl Condition {
    pub fn field(&self) -> &str {
        match self {
            Condition::Compare { field, .. }
            | Condition::In { field, .. }
            | Condition::Like { field, .. } => field,
        }
    }

    pub fn matches(&self, row: &Value) -> bool {
        let Some(actual) = lookup(row, self.field()) else {
            return false;
        };
        match self {
            Condition::Compare { op, value, .. } => {
                let Some(ordering) = compare(actual, value) else {
                    return false;
                };
                match op {
                    CompareOp::Eq => ordering == Ordering::Equal,
                    CompareOp::Ne => ordering != Ordering::Equal,
                    CompareOp::Lt => ordering == Ordering::Less,
                    CompareOp::Le => ordering != Ordering::Greater,
                    CompareOp::Gt => ordering == Ordering::Greater,
                    CompareOp::Ge => ordering != Ordering::Less,
                }
            }
            Condition::In { values, .. } => values
                .iter()
                .any(|v| compare(actual, v) == Some(Ordering::Equal)),
            Condition::Like { pattern, .. } => actual
                .as_str()
                .is_some_and(|text| like(&text.to_lowercase(), &pattern.to_lowercase())),
        }
    }
}

/// Resolves `MetaData.LastUpdatedTime`; a reference object (`CustomerRef`) compares by its `value`.
pub fn lookup<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = row;
    for segment in path.split('.') {
        node = node
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(segment))
            .map(|(_, v)| v)?;
    }
    match node {
        Value::Object(map) => map.get("value"),
        other => Some(other),
    }
}

fn compare(actual: &Value, literal: &Literal) -> Option<Ordering> {
    match (actual, literal) {
        (Value::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Literal::Text(b)) => Some(a.to_string().cmp(&b.to_lowercase())),
        (Value::Number(a), Literal::Number(b)) => a.as_f64()?.partial_cmp(b),
        (Value::Number(a), Literal::Text(b)) => a.as_f64()?.partial_cmp(&b.parse::<f64>().ok()?),
        (Value::String(a), Literal::Number(b)) => a.parse::<f64>().ok()?.partial_cmp(b),
        (Value::String(a), Literal::Text(b)) => Some(compare_text(a, b)),
        _ => None,
    }
}

/// Timestamps compare as instants, numeric strings (ids, amounts) as numbers, the rest as text.
pub fn compare_text(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (
        DateTime::parse_from_rfc3339(a),
        DateTime::parse_from_rfc3339(b),
    ) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

pub fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => compare_text(x, y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_f64(), y.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

fn like(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            let Some(stripped) = rest.strip_prefix(part) else {
                return false;
            };
            rest = stripped;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(found) = rest.find(part) else {
                return false;
            };
            rest = &rest[found + part.len()..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_full_grammar() {
        let q = parse("select * from Customer where Active in (true, false) and DisplayName like 'Amy%' and Balance > '10' orderby MetaData.LastUpdatedTime desc, Id startposition 11 maxresults 10").unwrap();
        assert!(!q.count);
        assert_eq!(q.entity, "Customer");
        assert_eq!(q.conditions.len(), 3);
        assert_eq!(
            q.order_by,
            vec![
                ("MetaData.LastUpdatedTime".to_owned(), true),
                ("Id".to_owned(), false)
            ]
        );
        assert_eq!((q.start_position, q.max_results), (11, 10));
        assert!(parse("SELECT COUNT(*) FROM Item").unwrap().count);
    }

    #[test]
    fn rejects_what_qbo_rejects() {
        assert!(parse("select * from Customer where A = '1' or B = '2'").is_err());
        assert!(
            parse("select * from Customer startposition 0")
                .unwrap_err()
                .contains("too small")
        );
        assert!(parse("select * from Customer maxresults 1001").is_err());
        assert!(parse("select Id from Customer").is_err());
    }

    #[test]
    fn matching_handles_refs_escapes_and_like() {
        let row =
            json!({"DisplayName": "Amy's Bird", "CustomerRef": {"value": "7"}, "Active": true});
        let q = parse(r"select * from Invoice where DisplayName = 'Amy\'s Bird' and CustomerRef = '7' and DisplayName like '%bird'").unwrap();
        assert!(q.conditions.iter().all(|c| c.matches(&row)));
        let miss = parse("select * from Invoice where CustomerRef in ('8', '9')").unwrap();
        assert!(!miss.conditions[0].matches(&row));
    }
}
