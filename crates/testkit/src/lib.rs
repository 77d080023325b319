//! Test helpers: a fresh database per test on SQLite (temp file) or PostgreSQL (a new
//! database created on the test server and dropped afterwards).

use std::path::PathBuf;

use sqlx::Connection;

/// The PostgreSQL server used by tests: `TAIZHANG_TEST_DATABASE_URL`, else the local default.
pub fn pg_admin_url() -> String {
    std::env::var("TAIZHANG_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether PostgreSQL tests must run. In CI (`CI` set) or when `TAIZHANG_REQUIRE_PG=1`, a missing
/// PostgreSQL is a failure, never a silent skip.
pub fn pg_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("TAIZHANG_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// A database that exists for one test.
pub struct TestDb {
    /// URL to hand to the code under test.
    pub url: String,
    kind: Kind,
}

enum Kind {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh SQLite database in its own temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("taizhang-test-{}", random_suffix()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let url = format!("sqlite://{}", dir.join("test.db").display());
        TestDb {
            url,
            kind: Kind::Sqlite { dir },
        }
    }

    /// A fresh PostgreSQL database, or `None` when PostgreSQL is unreachable and not required.
    /// Panics with the reason when PostgreSQL is required (CI) but unreachable.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = pg_admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(c) => c,
            Err(e) => {
                if pg_required() {
                    panic!(
                        "PostgreSQL is required for this test run but {admin_url} is unreachable: {e}. \
                         Start it (scripts/test does) or set TAIZHANG_TEST_DATABASE_URL."
                    );
                }
                eprintln!(
                    "skipping PostgreSQL case: {admin_url} unreachable ({e}); set CI=1 to make this fatal"
                );
                return None;
            }
        };
        let name = format!("taizhang_test_{}", random_suffix());
        let create = format!("CREATE DATABASE {name}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = conn.close().await;
        let mut url = url::Url::parse(&admin_url)
            .unwrap_or_else(|e| panic!("bad PostgreSQL URL {admin_url}: {e}"));
        url.set_path(&format!("/{name}"));
        Some(TestDb {
            url: url.to_string(),
            kind: Kind::Postgres { admin_url, name },
        })
    }

    /// Both backends: SQLite always, PostgreSQL when reachable (or required).
    pub async fn both() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite()];
        if let Some(pg) = TestDb::postgres().await {
            v.push(pg);
        }
        v
    }

    /// A short name for messages: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite { .. } => "sqlite",
            Kind::Postgres { .. } => "postgres",
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.kind {
            Kind::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Kind::Postgres { admin_url, name } => {
                let admin_url = admin_url.clone();
                let drop_sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                // Drop from a separate thread with its own runtime: Drop may run inside a runtime.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop_sql))
                                .execute(&mut conn)
                                .await;
                            let _ = conn.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

fn random_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{:x}_{}", n, std::process::id())
}
