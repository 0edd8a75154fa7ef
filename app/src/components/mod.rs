pub mod local_time;
pub mod shell;
pub mod summary;
