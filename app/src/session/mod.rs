//! The browser side of the session: the idle watch of the app shell and the drafts of unsaved
//! edits kept when a session ends.

pub mod drafts;
pub mod idle;
