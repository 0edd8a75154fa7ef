//! The SQLite and Postgres migrations must describe the same tables and columns: the code runs
//! one SQL text on both, so a column missing on one side is a bug waiting for production.
//!
//! Needs `ZQSYNC_TEST_POSTGRES_URL`; `scripts/test` always provides it (and says so loudly when
//! it cannot, rather than passing in silence).

use engine::Db;
use sqlx::Executor as _;

/// The PostgreSQL server to test against, or `None` (said on stderr) when there is none.
fn postgres_url() -> Option<String> {
    let url = std::env::var("ZQSYNC_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        eprintln!(
            "skipped: no PostgreSQL (ZQSYNC_TEST_POSTGRES_URL is unset); scripts/test runs this against one"
        );
    }
    url
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("zqsync-schema-{}", uuid::Uuid::new_v4().simple()));
    let sqlite = Db::connect(&format!("sqlite://{}/schema.db", dir.display()))
        .await
        .expect("sqlite");
    sqlite.migrate().await.expect("sqlite migrations");

    let name = format!("zqsync_schema_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("connect to Postgres");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    let (base, _) = admin_url.rsplit_once('/').expect("URL ends in /DATABASE");
    let postgres = Db::connect(&format!("{base}/{name}"))
        .await
        .expect("postgres");
    postgres.migrate().await.expect("postgres migrations");

    let sqlite_columns = sqlite.schema_columns().await.expect("sqlite schema");
    let postgres_columns = postgres.schema_columns().await.expect("postgres schema");
    assert!(
        sqlite_columns
            .iter()
            .any(|(t, c)| t == "sessions" && c == "tenant_id")
    );
    assert_eq!(
        sqlite_columns, postgres_columns,
        "the two dialects' schemas differ"
    );

    postgres.close().await;
    sqlite.close().await;
    let _ = admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Every table except the throttling table (which holds hashes, not tenant data) and the
/// tenants table itself carries `tenant_id`.
#[tokio::test]
async fn every_tenant_data_table_has_tenant_id() {
    let dir = std::env::temp_dir().join(format!("zqsync-tenant-{}", uuid::Uuid::new_v4().simple()));
    let db = Db::connect(&format!("sqlite://{}/t.db", dir.display()))
        .await
        .expect("sqlite");
    db.migrate().await.expect("migrations");
    let columns = db.schema_columns().await.expect("schema");
    let mut tables: Vec<&str> = columns.iter().map(|(t, _)| t.as_str()).collect();
    tables.dedup();
    for table in tables {
        if matches!(table, "tenants" | "login_failures") {
            continue;
        }
        assert!(
            columns.iter().any(|(t, c)| t == table && c == "tenant_id"),
            "table {table} has no tenant_id"
        );
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Statements are planned for each run on PostgreSQL: a generic plan made while a table was
/// small would stay a sequential scan as it grows (see `Db::connect`).
#[tokio::test]
async fn postgres_connections_plan_every_statement() {
    let Some(url) = postgres_url() else {
        return;
    };
    let db = Db::connect(&url).await.expect("postgres");
    let Db::Postgres(pool) = &db else {
        panic!("a postgres:// URL gives a PostgreSQL pool");
    };
    let (mode,): (String,) = sqlx::query_as("SHOW plan_cache_mode")
        .fetch_one(pool)
        .await
        .expect("show");
    assert_eq!(mode, "force_custom_plan");
}
