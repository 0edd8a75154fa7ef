//! Emails (billing, and password reset links), sent with lettre: over SMTP when `ZQSYNC_SMTP_URL` is set, otherwise written
//! as `.eml` files into `<data dir>/mail`. Every email is also recorded in `email_outbox` (the
//! sandbox-mode Outbox page lists it); its dedupe key makes each email go out once, however
//! often a webhook or a retried request asks for it.

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::clock::Clock;
use crate::db::Db;
use crate::with_pool;

pub const FROM: &str = "zqsync billing <billing@zqsync.example>";
/// The sender of account emails (password reset links).
pub const ACCOUNTS_FROM: &str = "zqsync <accounts@zqsync.example>";

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad SMTP URL (expected smtp:// or smtps://): {0}")]
    SmtpUrl(String),
    #[error("could not create the mail directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// Sends and records billing emails.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    db: Db,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::File(..) => "file",
        };
        f.debug_struct("Mailer")
            .field("transport", &kind)
            .finish_non_exhaustive()
    }
}

/// One email as the Outbox page shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEmail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub delivery: String,
    pub created_at: i64,
}

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub kind: &'static str,
    /// Unique per tenant: the same key is never sent twice.
    pub dedupe_key: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    /// SMTP when `smtp_url` is given (`smtp://user:pass@host:587` with STARTTLS, `smtps://…`),
    /// else `.eml` files in `<data_dir>/mail`. The URL is never logged: it may hold a password.
    pub fn new(
        smtp_url: Option<&str>,
        data_dir: &std::path::Path,
        db: Db,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, MailError> {
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::SmtpUrl(e.to_string()))?
                    .build(),
            ),
            None => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir).map_err(|source| MailError::Dir {
                    path: dir.display().to_string(),
                    source,
                })?;
                Transport::File(AsyncFileTransport::<Tokio1Executor>::new(&dir), dir)
            }
        };
        Ok(Self {
            transport,
            db,
            clock,
        })
    }

    /// Where file-transport emails land, if that is the transport.
    pub fn mail_dir(&self) -> Option<&std::path::Path> {
        match &self.transport {
            Transport::File(_, dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Records and sends `email` unless one with its dedupe key went out before. Returns
    /// whether it was sent now. A failed delivery is recorded as such and logged (without the
    /// address); billing carries on.
    pub async fn send(&self, tenant_id: &str, email: &Email) -> Result<bool, sqlx::Error> {
        self.send_as(FROM, tenant_id, email).await
    }

    /// [`Mailer::send`] from another sender (`ACCOUNTS_FROM`).
    pub async fn send_as(
        &self,
        from: &str,
        tenant_id: &str,
        email: &Email,
    ) -> Result<bool, sqlx::Error> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now_millis();
        let inserted = with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO email_outbox \
                 (tenant_id, id, dedupe_key, kind, recipient, subject, body, delivery, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) \
                 ON CONFLICT (tenant_id, dedupe_key) DO NOTHING",
            )
            .bind(tenant_id)
            .bind(&id)
            .bind(&email.dedupe_key)
            .bind(email.kind)
            .bind(&email.to)
            .bind(&email.subject)
            .bind(&email.body)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Ok(false);
        }
        let delivery = match self.deliver(from, email).await {
            Ok(()) => "sent",
            Err(error) => {
                tracing::warn!(tenant_id, kind = email.kind, %error, "email not delivered");
                "failed"
            }
        };
        with_pool!(&self.db, pool => {
            sqlx::query("UPDATE email_outbox SET delivery = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(delivery)
                .bind(tenant_id)
                .bind(&id)
                .execute(pool)
                .await?;
        });
        Ok(true)
    }

    async fn deliver(&self, from: &str, email: &Email) -> Result<(), String> {
        let from: Mailbox = from.parse().map_err(|e| format!("from: {e}"))?;
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|_| "the recipient address is not valid".to_owned())?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(&email.subject)
            .body(email.body.clone())
            .map_err(|e| e.to_string())?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::File(file, _) => file
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }

    /// A tenant's emails, newest first.
    pub async fn outbox(&self, tenant_id: &str) -> Result<Vec<OutboxEmail>, sqlx::Error> {
        outbox(&self.db, tenant_id).await
    }
}

pub async fn outbox(db: &Db, tenant_id: &str) -> Result<Vec<OutboxEmail>, sqlx::Error> {
    Ok(with_pool!(db, pool => {
        sqlx::query_as::<_, OutboxEmail>(
            "SELECT id, kind, recipient, subject, body, delivery, created_at FROM email_outbox \
             WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?
    }))
}
