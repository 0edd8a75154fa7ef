pub mod shell;
pub mod unsaved;
