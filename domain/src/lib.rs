//! Pure types and rules shared by the browser (wasm32) and the server.
//!
//! No IO, no async: everything here is data and functions over data, so the
//! UI can validate and preview exactly what the engine will do.

pub mod fields;
pub mod filters;
pub mod log;
pub mod mapping;
pub mod pairs;
pub mod plans;
pub mod record;
pub mod settings;
