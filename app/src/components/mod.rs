pub mod confirm_dialog;
pub mod get_started;
pub mod local_time;
pub mod save_outcome;
pub mod shell;
pub mod status_ticker;
pub mod summary;
pub mod unsaved;
