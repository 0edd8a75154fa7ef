//! The one error type at the edge: what a server function may tell the browser. Every message
//! says what happened and what to do next; internal details stay in the server log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session, or it expired: the page sends the user to log in.
    #[error("Your session has ended. Log in again to continue.")]
    NotLoggedIn,
    /// The input cannot be accepted; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// Too many attempts; the message says how long to wait.
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

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::Network,
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::Invalid(
                "Some of the form's fields are missing. Fill in every field and try again.".into(),
            ),
            _ => Self::Internal,
        }
    }
}
