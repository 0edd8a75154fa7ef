pub mod auth_pages;
pub mod placeholders;
