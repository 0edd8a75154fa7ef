pub mod auth_pages;
pub mod connection_card;
pub mod placeholders;
pub mod quickbooks;
pub mod settings;
