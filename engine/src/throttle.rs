//! Throttling of failed log-ins, kept in the database so that several server processes share
//! the count.

use crate::db::Db;
use crate::with_pool;

/// Failures counted over this window.
const WINDOW_MILLIS: i64 = 15 * 60 * 1000;
/// Failures per email within the window before log-ins for it are refused.
const MAX_PER_EMAIL: i64 = 5;
/// Failures per client address: higher, as offices share an address.
const MAX_PER_ADDRESS: i64 = 30;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Throttled {
    No,
    Yes { retry_after_secs: u64 },
}

pub(crate) async fn check(
    db: &Db,
    subjects: &[String],
    now: i64,
) -> Result<Throttled, sqlx::Error> {
    let since = now - WINDOW_MILLIS;
    for subject in subjects {
        let (count, oldest): (i64, Option<i64>) = with_pool!(db, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), MIN(failed_at) FROM login_failures WHERE subject = $1 AND failed_at > $2",
            )
            .bind(subject)
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        let limit = if subject.starts_with("email:") {
            MAX_PER_EMAIL
        } else {
            MAX_PER_ADDRESS
        };
        if count >= limit {
            let frees_at = oldest.unwrap_or(now) + WINDOW_MILLIS;
            let retry_after_secs = u64::try_from((frees_at - now).max(1000) / 1000).unwrap_or(1);
            return Ok(Throttled::Yes { retry_after_secs });
        }
    }
    Ok(Throttled::No)
}

pub(crate) async fn record_failure(
    db: &Db,
    subjects: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    for subject in subjects {
        with_pool!(db, pool => {
            sqlx::query("INSERT INTO login_failures (id, subject, failed_at) VALUES ($1, $2, $3)")
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(subject)
                .bind(now)
                .execute(pool)
                .await?;
        });
    }
    Ok(())
}

pub(crate) async fn clear(db: &Db, subjects: &[String]) -> Result<(), sqlx::Error> {
    for subject in subjects {
        with_pool!(db, pool => {
            sqlx::query("DELETE FROM login_failures WHERE subject = $1")
                .bind(subject)
                .execute(pool)
                .await?;
        });
    }
    Ok(())
}

/// Drops failures older than the window; called by the server's housekeeping task.
pub(crate) async fn purge(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    let done = with_pool!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
            .bind(now - WINDOW_MILLIS)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done)
}
