//! The simulators' tests, one binary (the stack links once): each simulator over real HTTP,
//! their control switches and pages, and the contract with the recorded payloads in
//! `tests/fixtures`.

mod common;
mod contract;
mod control;
mod oauth;
mod pages;
mod qbo;
mod stripe;
mod zoho;
