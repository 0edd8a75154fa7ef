//! Throttling of log-ins and sign-ups, kept in the database so that several server processes
//! share the counts.
//!
//! The `login_failures` table holds one row per event and subject (a hash, never the email or
//! the address itself). A failed log-in is recorded against three subjects:
//!
//! - the (email, client address) pair: after [`PAIR`]'s five free failures that address must
//!   wait before trying that email again, 30 s and doubling with every further failure (at most
//!   15 minutes). This is what slows a guesser down; it never stops the owner, who logs in from
//!   another address.
//! - the client address, across emails: the same back-off after 30 failures (offices share an
//!   address), against one address trying many emails.
//! - the email, across addresses: never a lock-out. When one email collects
//!   [`EMAIL_UNDER_ATTACK`] failures within the window (a distributed attack), every address
//!   gets one free failure for it instead of five, so each new address of the attacker is
//!   slowed at once, while the right password from an address without failures still logs in.
//!
//! A sign-up is recorded against its client address; [`SignupLimit`] of them per window.
//!
//! A password reset request is recorded against the email asked about (whether or not it has
//! an account, so a refusal tells nothing about accounts) and the client address:
//! [`RESET_PER_EMAIL`] and [`RESET_PER_ADDRESS`] of them per [`RESET_WINDOW_MILLIS`].

use crate::db::Db;
use crate::with_pool;

/// Failures older than this are forgotten (and purged).
pub(crate) const FAILURE_WINDOW_MILLIS: i64 = 60 * 60 * 1000;

/// Failures of one email across all addresses, within the window, that mark a distributed
/// attack on it.
pub(crate) const EMAIL_UNDER_ATTACK: i64 = 50;

/// Exponential back-off: after `free` failures, the next attempt waits `base · 2^(n − free)`
/// from the last failure, at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub free: i64,
    pub base_millis: i64,
    pub cap_millis: i64,
}

/// Per (email, client address).
pub(crate) const PAIR: Backoff = Backoff {
    free: 5,
    base_millis: 30_000,
    cap_millis: 15 * 60_000,
};

/// Per client address, across emails.
pub(crate) const ADDRESS: Backoff = Backoff {
    free: 30,
    base_millis: 30_000,
    cap_millis: 15 * 60_000,
};

impl Backoff {
    /// How long to wait from `now`, after `failures` failures the last of which was at
    /// `last_at`; `None`: no wait.
    pub(crate) fn wait_millis(self, failures: i64, last_at: i64, now: i64) -> Option<i64> {
        if failures < self.free {
            return None;
        }
        let doublings = u32::try_from((failures - self.free).min(30)).unwrap_or(30);
        let wait = self
            .base_millis
            .saturating_mul(1_i64 << doublings)
            .min(self.cap_millis);
        let until = last_at.saturating_add(wait);
        (until > now).then_some(until - now)
    }
}

/// Sign-ups per client address within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignupLimit {
    pub per_address: u32,
    pub window_secs: u64,
}

impl Default for SignupLimit {
    /// Five per ten minutes.
    fn default() -> Self {
        Self {
            per_address: 5,
            window_secs: 600,
        }
    }
}

/// Password reset requests counted per window (within the purge window of failures).
pub(crate) const RESET_WINDOW_MILLIS: i64 = FAILURE_WINDOW_MILLIS;
/// Reset emails one address may be sent per window: enough to ask again when one went astray.
pub(crate) const RESET_PER_EMAIL: i64 = 3;
/// Reset requests per client address per window, across emails.
pub(crate) const RESET_PER_ADDRESS: i64 = 10;

/// What a log-in attempt is counted against (hashes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoginSubjects {
    pub email: String,
    pub pair: String,
    pub address: Option<String>,
}

impl LoginSubjects {
    /// `email` normalised; `client_addr` as the server saw it.
    pub(crate) fn new(email: &str, client_addr: Option<&str>) -> Self {
        use crate::accounts::hex_sha256;
        Self {
            email: format!("email:{}", hex_sha256(email)),
            pair: format!(
                "pair:{}",
                hex_sha256(&format!("{email}\n{}", client_addr.unwrap_or_default()))
            ),
            address: client_addr.map(|addr| format!("ip:{}", hex_sha256(addr))),
        }
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        [&self.email, &self.pair].into_iter().chain(&self.address)
    }
}

pub(crate) fn signup_subject(client_addr: &str) -> String {
    format!("signup:{}", crate::accounts::hex_sha256(client_addr))
}

/// What a password reset request is counted against (hashes only): the email (normalised)
/// and, when known, the client address.
pub(crate) fn reset_subjects(email: &str, client_addr: Option<&str>) -> Vec<(String, i64)> {
    use crate::accounts::hex_sha256;
    let mut subjects = vec![(
        format!("reset-email:{}", hex_sha256(email)),
        RESET_PER_EMAIL,
    )];
    if let Some(addr) = client_addr {
        subjects.push((format!("reset-ip:{}", hex_sha256(addr)), RESET_PER_ADDRESS));
    }
    subjects
}

/// Milliseconds until a password reset request may be made again, if one of its subjects
/// reached its limit.
pub(crate) async fn reset_wait(
    db: &Db,
    subjects: &[(String, i64)],
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let mut wait = None;
    for (subject, limit) in subjects {
        wait = wait.max(window_wait(db, subject, *limit, RESET_WINDOW_MILLIS, now).await?);
    }
    Ok(wait)
}

/// Counts a password reset request against each of its subjects.
pub(crate) async fn record_reset(
    db: &Db,
    subjects: &[(String, i64)],
    now: i64,
) -> Result<(), sqlx::Error> {
    for (subject, _) in subjects {
        insert(db, subject, now).await?;
    }
    Ok(())
}

/// Events of a subject since `since`: how many, the first and the last time.
async fn events(
    db: &Db,
    subject: &str,
    since: i64,
) -> Result<(i64, Option<i64>, Option<i64>), sqlx::Error> {
    let row: (i64, Option<i64>, Option<i64>) = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), MIN(failed_at), MAX(failed_at) FROM login_failures \
             WHERE subject = $1 AND failed_at > $2",
        )
        .bind(subject)
        .bind(since)
        .fetch_one(pool)
        .await?
    });
    Ok(row)
}

/// Milliseconds this log-in attempt must wait, if any.
pub(crate) async fn login_wait(
    db: &Db,
    subjects: &LoginSubjects,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let since = now - FAILURE_WINDOW_MILLIS;
    let (email_failures, _, _) = events(db, &subjects.email, since).await?;
    let pair_backoff = if email_failures >= EMAIL_UNDER_ATTACK {
        Backoff { free: 1, ..PAIR }
    } else {
        PAIR
    };
    let (failures, _, last) = events(db, &subjects.pair, since).await?;
    let mut wait = pair_backoff.wait_millis(failures, last.unwrap_or(now), now);
    if let Some(address) = &subjects.address {
        let (failures, _, last) = events(db, address, since).await?;
        wait = wait.max(ADDRESS.wait_millis(failures, last.unwrap_or(now), now));
    }
    Ok(wait)
}

/// Records a failed log-in; returns the wait it starts, if it starts one.
pub(crate) async fn record_login_failure(
    db: &Db,
    subjects: &LoginSubjects,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    for subject in subjects.all() {
        insert(db, subject, now).await?;
    }
    login_wait(db, subjects, now).await
}

/// A successful log-in forgets the failures of its (email, address) pair; the counts per
/// email and per address stay, so an attacker cannot reset them with their own account.
pub(crate) async fn clear_pair(db: &Db, subjects: &LoginSubjects) -> Result<(), sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE subject = $1")
            .bind(&subjects.pair)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Milliseconds until this address may sign up again, if it reached the limit.
pub(crate) async fn signup_wait(
    db: &Db,
    subject: &str,
    limit: SignupLimit,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let window = i64::try_from(limit.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    window_wait(db, subject, i64::from(limit.per_address), window, now).await
}

/// A sliding window: with `limit` events of `subject` in the last `window` milliseconds, the
/// wait until the oldest of them leaves it (at least a second).
async fn window_wait(
    db: &Db,
    subject: &str,
    limit: i64,
    window: i64,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let (count, first, _) = events(db, subject, now.saturating_sub(window)).await?;
    if count < limit {
        return Ok(None);
    }
    Ok(Some(
        (first.unwrap_or(now).saturating_add(window) - now).max(1000),
    ))
}

pub(crate) async fn record_signup(db: &Db, subject: &str, now: i64) -> Result<(), sqlx::Error> {
    insert(db, subject, now).await
}

async fn insert(db: &Db, subject: &str, now: i64) -> Result<(), sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query("INSERT INTO login_failures (id, subject, failed_at) VALUES ($1, $2, $3)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(subject)
            .bind(now)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Drops events older than the longest window; called by the server's housekeeping task.
pub(crate) async fn purge(db: &Db, now: i64, signup: SignupLimit) -> Result<u64, sqlx::Error> {
    let signup_window = i64::try_from(signup.window_secs.saturating_mul(1000)).unwrap_or(0);
    let done = with_pool!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
            .bind(now - FAILURE_WINDOW_MILLIS.max(signup_window))
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done)
}

/// Seconds for a `Retry-After` header: rounded up, at least one.
pub(crate) fn retry_after_secs(wait_millis: i64) -> u64 {
    u64::try_from(wait_millis.max(1)).map_or(1, |millis| millis.div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_after_the_free_failures_up_to_the_cap() {
        let now = 1_000_000;
        assert_eq!(PAIR.wait_millis(4, now, now), None);
        assert_eq!(PAIR.wait_millis(5, now, now), Some(30_000));
        assert_eq!(PAIR.wait_millis(6, now, now), Some(60_000));
        assert_eq!(PAIR.wait_millis(7, now, now), Some(120_000));
        assert_eq!(PAIR.wait_millis(9, now, now), Some(480_000));
        assert_eq!(PAIR.wait_millis(10, now, now), Some(900_000));
        assert_eq!(PAIR.wait_millis(500, now, now), Some(900_000));
        // Measured from the last failure.
        assert_eq!(PAIR.wait_millis(5, now - 20_000, now), Some(10_000));
        assert_eq!(PAIR.wait_millis(5, now - 30_000, now), None);
    }

    #[test]
    fn subjects_hold_no_plain_email_or_address() {
        let subjects = LoginSubjects::new("ann@example.com", Some("192.0.2.7"));
        let all: Vec<&String> = subjects.all().collect();
        assert_eq!(all.len(), 3);
        assert!(
            all.iter()
                .all(|s| !s.contains("ann") && !s.contains("192.0"))
        );
        assert_ne!(
            subjects.pair,
            LoginSubjects::new("ann@example.com", Some("192.0.2.8")).pair
        );
        assert_eq!(LoginSubjects::new("a@b.co", None).address, None);
    }

    #[test]
    fn reset_subjects_hold_no_plain_email_or_address() {
        let subjects = reset_subjects("ann@example.com", Some("192.0.2.7"));
        assert_eq!(subjects.len(), 2);
        assert!(
            subjects
                .iter()
                .all(|(s, _)| !s.contains("ann") && !s.contains("192.0"))
        );
        assert_eq!(subjects[0].1, RESET_PER_EMAIL);
        assert_eq!(subjects[1].1, RESET_PER_ADDRESS);
        assert_eq!(reset_subjects("a@b.co", None).len(), 1);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(30_000), 30);
        assert_eq!(retry_after_secs(29_001), 30);
        assert_eq!(retry_after_secs(0), 1);
    }
}
