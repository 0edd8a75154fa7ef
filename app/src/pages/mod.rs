pub mod auth_pages;
pub mod outbox;
pub mod placeholders;
pub mod plan;
