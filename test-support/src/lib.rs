//! What the integration tests of every crate share (dev-dependency only): a fresh database per
//! test, so tests never see each other's rows and run in parallel. SQLite by default (a file
//! in a temporary directory); `ZQSYNC_TEST_DATABASE=postgres` with `ZQSYNC_TEST_POSTGRES_URL`
//! (an admin connection; `scripts/test` starts a throwaway cluster and sets both) creates a new
//! PostgreSQL database instead.

use std::path::PathBuf;

use sqlx::Executor as _;

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
}

/// A fresh, empty database: a file in a temporary directory, or a new PostgreSQL database.
pub async fn fresh_database() -> FreshDatabase {
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
        }
    } else {
        let dir = std::env::temp_dir().join(format!("zqsync-test-{id}"));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        FreshDatabase {
            url: format!("sqlite://{}/test.db", dir.display()),
            postgres: None,
            sqlite_dir: Some(dir),
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
