//! The one error type at the edge: what a server function may tell the browser. Every message
//! says what happened and what to do next; internal details stay in the server log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

///
/// Each variant has its HTTP status ([`AppError::status`]); the server sets it on every
/// server function's answer in one place, so a function only picks the variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session, or it expired: the page sends the user to log in. 401.
    #[error("Your session has ended. Log in again to continue.")]
    NotLoggedIn,
    /// The input cannot be accepted (a validation error, or a request we could not read);
    /// the message says how to fix it. 400.
    #[error("{0}")]
    Invalid(String),
    /// The email or password is not right. 401.
    #[error("{0}")]
    WrongCredentials(String),
    /// The input clashes with what exists (an account with this email). 409.
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than this function accepts. 413.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; the message says how long to wait (and `Retry-After` too). 429.
    #[error("{0}")]
    TooManyRequests(String),
    /// A fault on our side. Details are in the server log, never in the browser.
    #[error(
        "Something went wrong on our side. Try again in a minute; if it keeps happening, contact support."
    )]
    Internal,
    /// The browser could not reach the server.
    #[error("Could not reach zqsync. Check your internet connection and try again.")]
    Network,
}

impl AppError {
    /// The HTTP status of an answer carrying this error. Only `Internal` (and `Network`, which
    /// the browser makes up) are 5xx: a 5xx means a fault on our side.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::NotLoggedIn | Self::WrongCredentials(_) => 401,
            Self::Conflict(_) => 409,
            Self::TooLarge(_) => 413,
            Self::TooManyRequests(_) => 429,
            Self::Internal | Self::Network => 500,
        }
    }

    /// The variant's name, for logs: the message may echo what the user typed.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotLoggedIn => "not_logged_in",
            Self::Invalid(_) => "invalid",
            Self::WrongCredentials(_) => "wrong_credentials",
            Self::Conflict(_) => "conflict",
            Self::TooLarge(_) => "too_large",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::Internal => "internal",
            Self::Network => "network",
        }
    }

    /// The form of this error that may travel in a page's URL. A form posted without
    /// JavaScript comes back to its page with the error in the query string (`__err`, Leptos'
    /// progressive enhancement), and anyone can make such a URL: so only these fixed texts,
    /// one per kind, go that way, and the server turns away a URL carrying anything else.
    pub fn for_url(&self) -> Self {
        match self {
            Self::NotLoggedIn => Self::NotLoggedIn,
            Self::Invalid(_) => Self::Invalid(
                "Some of what you entered could not be accepted. Check the form and try again."
                    .to_owned(),
            ),
            Self::WrongCredentials(_) => Self::WrongCredentials(
                "The email or password is not right. Check both and try again.".to_owned(),
            ),
            Self::Conflict(_) => Self::Conflict(
                "An account with this email already exists. Log in instead, or use another email."
                    .to_owned(),
            ),
            Self::TooLarge(_) => Self::TooLarge(
                "This request is too large for zqsync. Shorten what you entered and try again."
                    .to_owned(),
            ),
            Self::TooManyRequests(_) => Self::TooManyRequests(
                "Too many attempts. Wait a few minutes and try again.".to_owned(),
            ),
            Self::Internal | Self::Network => Self::Internal,
        }
    }

    /// A request whose arguments could not be read (malformed, a missing field, a value that
    /// is not one of the choices): what serde said, which names the field or value.
    pub fn unreadable(detail: &str) -> Self {
        let mut detail = detail.trim().to_owned();
        if detail.len() > 200 {
            let mut cut = 200;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push('…');
        }
        Self::Invalid(format!(
            "zqsync could not read this request ({detail}). Reload the page and try again; if it keeps happening, contact support."
        ))
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::Network,
            // On the server, arguments that do not decode: the caller's mistake (400). In the
            // browser, an answer that does not decode is ours.
            ServerFnErrorErr::Args(detail) => Self::unreadable(&detail),
            ServerFnErrorErr::MissingArg(name) => {
                Self::unreadable(&format!("missing field `{name}`"))
            }
            ServerFnErrorErr::Deserialization(detail) if cfg!(feature = "ssr") => {
                Self::unreadable(&detail)
            }
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_faults_are_5xx() {
        assert_eq!(AppError::Invalid(String::new()).status(), 400);
        assert_eq!(AppError::WrongCredentials(String::new()).status(), 401);
        assert_eq!(AppError::NotLoggedIn.status(), 401);
        assert_eq!(AppError::Conflict(String::new()).status(), 409);
        assert_eq!(AppError::TooLarge(String::new()).status(), 413);
        assert_eq!(AppError::TooManyRequests(String::new()).status(), 429);
        assert_eq!(AppError::Internal.status(), 500);
    }

    #[test]
    fn errors_in_urls_are_fixed_texts() {
        let echo = AppError::Invalid("unknown variant `call 555`".to_owned());
        assert_ne!(echo.for_url(), echo);
        assert_eq!(echo.for_url().for_url(), echo.for_url());
        assert_eq!(echo.for_url().status(), 400);
        assert_eq!(AppError::Internal.for_url(), AppError::Internal);
    }

    #[test]
    fn unreadable_requests_name_the_problem_briefly() {
        let AppError::Invalid(message) = AppError::unreadable(&"x".repeat(1000)) else {
            panic!("an Invalid");
        };
        assert!(message.len() < 400, "{message}");
        let AppError::Invalid(message) =
            AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("plan".into()))
        else {
            panic!("an Invalid");
        };
        assert!(message.contains("missing field `plan`"), "{message}");
    }
}
