//! The server's integration tests, one binary (the stack links once): each test starts the real
//! server on a free loopback port with a database of its own (`common`), SQLite by default or
//! PostgreSQL when `ZQSYNC_TEST_DATABASE=postgres`.

mod accounts;
mod bench;
mod billing;
mod common;
mod connections;
mod logs;
mod mapping;
mod password_reset;
mod security;
mod sync_settings;
