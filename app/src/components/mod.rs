pub mod local_time;
pub mod shell;
