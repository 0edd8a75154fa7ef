//! Where people get help: the support address configured on the server (`ZQSYNC_SUPPORT_EMAIL`).

use leptos::prelude::*;

use crate::error::AppError;

/// The support email address the Help page links to.
#[server(endpoint = "support_contact")]
pub async fn support_contact() -> Result<String, AppError> {
    use crate::ssr::*;
    require_session()?;
    Ok(server_ctx()?.support_email)
}
