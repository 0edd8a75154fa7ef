pub mod auth_pages;
pub mod connection_card;
pub mod logs;
pub mod outbox;
pub mod placeholders;
pub mod plan;
pub mod quickbooks;
pub mod settings;
