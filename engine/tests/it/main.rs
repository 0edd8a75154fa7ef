//! The engine's integration tests, one binary (the stack links once): scenario tests of the
//! sync engine against the sandbox, the scheduler, connections and their OAuth flows, the
//! connectors against the simulators and recorded payloads, the schema parity of both
//! databases. Each test makes its own database (`test_support`); `ZQSYNC_TEST_DATABASE=postgres`
//! runs the database tests on PostgreSQL.

mod connections;
mod connectors;
mod connectors_fixtures;
mod oauth;
mod retries;
mod scheduler;
mod schema;
mod support;
mod sync_basics;
mod sync_bidirectional;
mod sync_dependencies;
mod sync_products;
mod sync_property;
mod sync_recovery;
mod sync_walks;
