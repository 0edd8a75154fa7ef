//! Splitting a SQL-like statement into tokens, for the two query languages the simulated
//! services speak (QBO's query language and Zoho's COQL): words, quoted text (`\` takes the
//! next character as it is), numbers as written, and the comparison and punctuation symbols.

/// One token of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A name or keyword: letters, digits, `_`, dots and the dialect's extra character.
    Word(String),
    /// A quoted string, without its quotes.
    Text(String),
    /// A number as written (`-12.5`); the dialect parses it.
    Number(String),
    /// `=`, `!=` (also written `<>`), `<`, `<=`, `>`, `>=`, `(`, `)` or `,`.
    Symbol(&'static str),
}

/// Why a statement does not split into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// A quote is never closed.
    Unterminated,
    /// A character no token starts with.
    Unexpected(char),
}

/// The tokens of `input`, in order, up to the first error. Words may also start with and hold
/// `extra` (`*` for QBO's `SELECT *`, `$` for Zoho's system fields).
pub fn tokenize(input: &str, extra: char) -> Tokens {
    Tokens {
        chars: input.chars().collect(),
        at: 0,
        extra,
    }
}

/// The tokens of a statement (see [`tokenize`]).
#[derive(Debug)]
pub struct Tokens {
    chars: Vec<char>,
    at: usize,
    extra: char,
}

impl Tokens {
    fn word_char(&self, c: char) -> bool {
        c.is_alphanumeric() || c == '_' || c == self.extra
    }

    fn text(&mut self) -> Result<Token, TokenError> {
        let mut text = String::new();
        self.at += 1;
        loop {
            match self.chars.get(self.at) {
                None => return Err(TokenError::Unterminated),
                Some('\\') => {
                    text.extend(self.chars.get(self.at + 1));
                    self.at += 2;
                }
                Some('\'') => {
                    self.at += 1;
                    return Ok(Token::Text(text));
                }
                Some(other) => {
                    text.push(*other);
                    self.at += 1;
                }
            }
        }
    }

    fn taking(&mut self, start: usize, holds: impl Fn(char) -> bool) -> String {
        self.at = start + 1;
        while self.chars.get(self.at).is_some_and(|c| holds(*c)) {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn symbol(&mut self, c: char) -> Result<Token, TokenError> {
        let two: String = self.chars[self.at..(self.at + 2).min(self.chars.len())]
            .iter()
            .collect();
        let (symbol, len) = match (two.as_str(), c) {
            ("<=", _) => ("<=", 2),
            (">=", _) => (">=", 2),
            ("!=" | "<>", _) => ("!=", 2),
            (_, '=') => ("=", 1),
            (_, '<') => ("<", 1),
            (_, '>') => (">", 1),
            (_, '(') => ("(", 1),
            (_, ')') => (")", 1),
            (_, ',') => (",", 1),
            _ => return Err(TokenError::Unexpected(c)),
        };
        self.at += len;
        Ok(Token::Symbol(symbol))
    }
}

impl Iterator for Tokens {
    type Item = Result<Token, TokenError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
        let c = *self.chars.get(self.at)?;
        let token = if c == '\'' {
            self.text()
        } else if c.is_ascii_digit()
            || (c == '-'
                && self
                    .chars
                    .get(self.at + 1)
                    .is_some_and(char::is_ascii_digit))
        {
            let start = self.at;
            Ok(Token::Number(
                self.taking(start, |c| c.is_ascii_digit() || c == '.'),
            ))
        } else if self.word_char(c) {
            let start = self.at;
            let extra = self.extra;
            Ok(Token::Word(self.taking(start, |c| {
                c.is_alphanumeric() || matches!(c, '_' | '.') || c == extra
            })))
        } else {
            self.symbol(c)
        };
        if token.is_err() {
            // Nothing after an error is read.
            self.at = self.chars.len();
        }
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &str, extra: char) -> Result<Vec<Token>, TokenError> {
        tokenize(input, extra).collect()
    }

    #[test]
    fn statements_split_into_words_texts_numbers_and_symbols() {
        use Token::{Number, Symbol, Text, Word};
        assert_eq!(
            all(
                "select * from Item where Name <> 'O\\'Brien' and Qty>=-1.5",
                '*'
            ),
            Ok(vec![
                Word("select".into()),
                Word("*".into()),
                Word("from".into()),
                Word("Item".into()),
                Word("where".into()),
                Word("Name".into()),
                Symbol("!="),
                Text("O'Brien".into()),
                Word("and".into()),
                Word("Qty".into()),
                Symbol(">="),
                Number("-1.5".into()),
            ])
        );
        assert_eq!(
            all("Account_Name.id in ('1','2'),$state", '$'),
            Ok(vec![
                Word("Account_Name.id".into()),
                Word("in".into()),
                Symbol("("),
                Text("1".into()),
                Symbol(","),
                Text("2".into()),
                Symbol(")"),
                Symbol(","),
                Word("$state".into()),
            ])
        );
        assert_eq!(all("a = 'open", '*'), Err(TokenError::Unterminated));
        assert_eq!(all("a ; b", '*'), Err(TokenError::Unexpected(';')));
        assert_eq!(all("$x", '*'), Err(TokenError::Unexpected('$')));
        let mut tokens = tokenize("a ; 'b", '*');
        assert_eq!(tokens.next(), Some(Ok(Word("a".into()))));
        assert_eq!(tokens.next(), Some(Err(TokenError::Unexpected(';'))));
        assert_eq!(tokens.next(), None, "nothing after an error");
    }
}
