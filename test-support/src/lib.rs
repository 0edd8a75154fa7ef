//! What the integration tests of every crate share (dev-dependency only): a fresh database per
//! test, so tests never see each other's rows and run in parallel. SQLite by default (a file
//! in a temporary directory); `ZQSYNC_TEST_DATABASE=postgres` with `ZQSYNC_TEST_POSTGRES_URL`
//! (an admin connection; `scripts/test` starts a throwaway cluster and sets both) creates a new
//! PostgreSQL database instead.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::Executor as _;

/// How long one test may hold its database before the watchdog calls it hung.
/// `ZQSYNC_TEST_WATCHDOG_SECS` overrides it; the slowest test takes under a minute on PostgreSQL.
const WATCHDOG_DEFAULT: Duration = Duration::from_secs(300);

/// Whether this test run is the PostgreSQL pass.
pub fn backend_is_postgres() -> bool {
    std::env::var("ZQSYNC_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// The admin URL of the test PostgreSQL server (the PostgreSQL pass needs it).
pub fn postgres_admin_url() -> String {
    std::env::var("ZQSYNC_TEST_POSTGRES_URL").expect(
        "ZQSYNC_TEST_DATABASE=postgres needs ZQSYNC_TEST_POSTGRES_URL (scripts/test sets both)",
    )
}

/// A database made for one test; [`FreshDatabase::drop_it`] removes it.
#[derive(Debug)]
pub struct FreshDatabase {
    /// `sqlite://…` or `postgres://…`, for `Db::connect`.
    pub url: String,
    postgres: Option<(String, String)>,
    sqlite_dir: Option<PathBuf>,
    /// Held, never read: dropping it tells the watchdog the test ended.
    _watchdog: Watchdog,
}

/// Ends the whole test process, naming the test, when a test outlives its allowance: a test
/// that waits forever (a lock never released, a channel never written) must fail CI in
/// minutes with its name, not hold it until CI's own timeout with no word of which test hung.
#[derive(Debug)]
pub struct Watchdog {
    finished: Arc<AtomicBool>,
}

impl Watchdog {
    /// Starts watching the calling test (its thread carries the test's name).
    pub fn start() -> Self {
        let finished = Arc::new(AtomicBool::new(false));
        let allowance = std::env::var("ZQSYNC_TEST_WATCHDOG_SECS")
            .ok()
            .and_then(|secs| secs.parse().ok())
            .map_or(WATCHDOG_DEFAULT, Duration::from_secs);
        let test = std::thread::current()
            .name()
            .unwrap_or("an unnamed test")
            .to_owned();
        let watched = finished.clone();
        std::thread::spawn(move || {
            std::thread::sleep(allowance);
            if !watched.load(Ordering::SeqCst) {
                // Straight to stderr: the test harness captures `eprintln!` of test threads
                // (and of threads they spawn) and would swallow the one line that matters.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nFAIL: test `{test}` still running after {} s: it is hung; \
                     ending the test process",
                    allowance.as_secs()
                );
                std::process::exit(101);
            }
        });
        Self { finished }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.finished.store(true, Ordering::SeqCst);
    }
}

/// A fresh, empty database: a file in a temporary directory, or a new PostgreSQL database.
/// The test is watched from here until the database is dropped (see [`Watchdog`]).
pub async fn fresh_database() -> FreshDatabase {
    let watchdog = Watchdog::start();
    let id = uuid::Uuid::new_v4().simple().to_string();
    if backend_is_postgres() {
        let admin = postgres_admin_url();
        let name = format!("zqsync_test_{id}");
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .expect("connect to the test Postgres");
        pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create a test database");
        pool.close().await;
        let (base, _) = admin
            .rsplit_once('/')
            .expect("ZQSYNC_TEST_POSTGRES_URL ends in /DATABASE");
        FreshDatabase {
            url: format!("{base}/{name}"),
            postgres: Some((admin, name)),
            sqlite_dir: None,
            _watchdog: watchdog,
        }
    } else {
        let dir = std::env::temp_dir().join(format!("zqsync-test-{id}"));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        FreshDatabase {
            url: format!("sqlite://{}/test.db", dir.display()),
            postgres: None,
            sqlite_dir: Some(dir),
            _watchdog: watchdog,
        }
    }
}

impl FreshDatabase {
    /// Removes the database (its PostgreSQL database, or its SQLite directory).
    pub async fn drop_it(mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            let pool = sqlx::PgPool::connect(&admin).await.expect("admin");
            let _ = pool
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
            pool.close().await;
        }
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
