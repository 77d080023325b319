//! The binary as an operator meets it: bad input gets one clear line and a non-zero exit, with
//! nothing half-written; backup → restore; audit verify; the calendar helper.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taizhang"));
    // A clean environment: no stray TAIZHANG_* from the developer's shell.
    for (k, _) in std::env::vars() {
        if k.starts_with("TAIZHANG_") {
            c.env_remove(k);
        }
    }
    c
}

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!(
            "taizhang-cli-{tag}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn url(&self) -> String {
        format!("sqlite://{}", self.0.join("t.db").display())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        % 1_000_000_007
}

fn run(dir: &Dir, args: &[&str]) -> Output {
    bin().current_dir(dir.path()).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn an_unknown_url_scheme_fails_with_one_clear_line() {
    let d = Dir::new("scheme");
    let o = run(
        &d,
        &["migrate", "--database-url", "mysql://root@localhost/x"],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("unknown database URL scheme `mysql`"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
}

#[test]
fn an_unreachable_postgres_fails_clearly() {
    let d = Dir::new("pg");
    let o = run(
        &d,
        &[
            "migrate",
            "--database-url",
            "postgres://nobody:secret@127.0.0.1:1/none",
        ],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("cannot reach PostgreSQL"), "{e}");
    assert!(
        !e.contains("secret"),
        "the password must not be printed: {e}"
    );
}

#[test]
fn a_corrupted_sqlite_file_is_refused_before_anything_is_written() {
    let d = Dir::new("corrupt");
    let db = d.path().join("t.db");
    std::fs::write(
        &db,
        b"this is not a database, just some bytes that look nothing like SQLite".repeat(100),
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let o = run(&d, &["migrate", "--database-url", &d.url()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not a usable SQLite database") || stderr(&o).contains("integrity"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the damaged file was not touched"
    );
}

#[test]
fn a_read_only_data_directory_is_named_in_the_error() {
    let d = Dir::new("ro");
    let sub = d.path().join("ro");
    std::fs::create_dir_all(&sub).unwrap();
    let mut perm = std::fs::metadata(&sub).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&sub, perm).unwrap();
    if std::fs::write(sub.join("probe"), b"").is_ok() {
        // Running as root: directory permissions do not apply. A data folder that cannot be
        // created (its parent is a file) must fail just as clearly.
        let file = d.path().join("plainfile");
        std::fs::write(&file, b"x").unwrap();
        let o = run(
            &d,
            &[
                "migrate",
                "--database-url",
                &format!("sqlite://{}/data/t.db", file.display()),
            ],
        );
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("cannot create the data folder"),
            "{}",
            stderr(&o)
        );
        return;
    }
    let o = run(
        &d,
        &[
            "migrate",
            "--database-url",
            &format!("sqlite://{}/t.db", sub.display()),
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not writable"), "{}", stderr(&o));
}

#[test]
fn an_invalid_config_key_or_value_is_refused() {
    let d = Dir::new("cfg");
    std::fs::write(
        d.path().join("taizhang.toml"),
        "bind = \"127.0.0.1:8080\"\nbogus_key = 1\n",
    )
    .unwrap();
    let o = run(&d, &["migrate"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown key `bogus_key`"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        d.path().join("taizhang.toml"),
        "audit_retention_days = 30\n",
    )
    .unwrap();
    let o = run(&d, &["migrate"]);
    assert!(stderr(&o).contains("cannot be below 180"), "{}", stderr(&o));
    std::fs::remove_file(d.path().join("taizhang.toml")).unwrap();
    let o = bin()
        .current_dir(d.path())
        .env("TAIZHANG_SESSION_IDLE_MINUTES", "abc")
        .args(["migrate"])
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("TAIZHANG_SESSION_IDLE_MINUTES"),
        "{}",
        stderr(&o)
    );
    assert!(
        !d.path().join("data").exists(),
        "nothing was created on a bad config"
    );
}

#[test]
fn a_port_in_use_fails_before_the_database_is_touched() {
    let d = Dir::new("port");
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let o = run(&d, &["serve", "--bind", &addr, "--database-url", &d.url()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot listen on"), "{}", stderr(&o));
    assert!(!d.path().join("t.db").exists(), "no database was created");
}

#[test]
fn config_example_prints_every_key_and_version_answers() {
    let d = Dir::new("ex");
    let o = run(&d, &["config-example"]);
    assert!(o.status.success());
    for key in [
        "bind",
        "database_url",
        "audit_key_file",
        "session_idle_minutes",
        "password_profile",
        "audit_retention_days",
    ] {
        assert!(stdout(&o).contains(&format!("{key} =")), "{key}");
    }
    assert!(stdout(&run(&d, &["version"])).starts_with("taizhang "));
    assert!(stdout(&run(&d, &["--help"])).contains("台账"));
}

#[test]
fn backup_then_restore_into_an_empty_database_keeps_every_row_and_the_audit_chain() {
    let d = Dir::new("backup");
    let o = run(
        &d,
        &[
            "demo",
            "--database-url",
            &d.url(),
            "--password",
            "Demo#Pass2026x",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let file = d.path().join("b.backup");
    let o = run(
        &d,
        &[
            "backup",
            "--database-url",
            &d.url(),
            "--to",
            file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let target = format!("sqlite://{}", d.path().join("restored.db").display());
    let o = run(
        &d,
        &[
            "restore",
            "--database-url",
            &target,
            "--from",
            file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Restoring again into the now non-empty database is refused.
    let o = run(
        &d,
        &[
            "restore",
            "--database-url",
            &target,
            "--from",
            file.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    // The restored trail verifies with the same key file.
    let o = run(&d, &["audit", "verify", "--database-url", &target]);
    assert!(o.status.success(), "{} {}", stdout(&o), stderr(&o));
}

#[test]
fn audit_verify_names_the_record_after_a_direct_edit() {
    let d = Dir::new("verify");
    let o = run(
        &d,
        &[
            "demo",
            "--database-url",
            &d.url(),
            "--password",
            "Demo#Pass2026x",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&d, &["audit", "verify", "--database-url", &d.url()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Edit one row directly with the sqlite3-compatible driver through a tiny SQL run.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&d.url()).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor_name = 'someone-else' WHERE seq = 1")
            .execute(&mut c)
            .await
            .unwrap();
    });
    let o = run(&d, &["audit", "verify", "--database-url", &d.url()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("record 1"), "{}", stderr(&o));
}

#[test]
fn export_ledger_writes_a_workbook_and_import_dry_run_prints_the_json_counts() {
    let d = Dir::new("office");
    let o = run(
        &d,
        &[
            "demo",
            "--database-url",
            &d.url(),
            "--password",
            "Demo#Pass2026x",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.path().join("x.xlsx");
    let o = run(
        &d,
        &[
            "export",
            "ledger",
            "--database-url",
            &d.url(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");

    let o = run(
        &d,
        &[
            "import",
            "ledger",
            out.to_str().unwrap(),
            "--dry-run",
            "--format",
            "json",
            "--database-url",
            &d.url(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys.len(),
        4,
        "exactly matters, milestones, refused, no_fixed_deadline: {v}"
    );
    assert!(v["matters"].as_u64().unwrap() > 0, "{v}");
    assert!(
        v["milestones"].is_u64() && v["no_fixed_deadline"].is_u64(),
        "{v}"
    );
    for r in v["refused"].as_array().unwrap() {
        assert!(r["sheet"].is_string() && r["row"].is_u64() && r["reason"].is_string());
    }
    // Refused rows (drafts with a relative deadline) block the apply: non-zero exit.
    assert_eq!(
        o.status.success(),
        v["refused"].as_array().unwrap().is_empty()
    );
}

#[test]
fn import_ledger_applies_a_clean_file_and_refuses_a_file_with_a_bad_row_as_a_whole() {
    let d = Dir::new("import");
    let o = run(
        &d,
        &[
            "demo",
            "--database-url",
            &d.url(),
            "--password",
            "Demo#Pass2026x",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let good = d.path().join("good.csv");
    std::fs::write(
        &good,
        "事项名称,牵头单位,完成时限\n命令行导入测试事项,干部一处,长期坚持\n",
    )
    .unwrap();
    let args = |f: &Path| {
        vec![
            "import".to_owned(),
            "ledger".into(),
            f.to_str().unwrap().into(),
            "--format".into(),
            "json".into(),
            "--database-url".into(),
            d.url(),
        ]
    };
    let o = bin()
        .current_dir(d.path())
        .args(args(&good))
        .output()
        .unwrap();
    assert!(o.status.success(), "{} {}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(
        (v["matters"].as_u64(), v["no_fixed_deadline"].as_u64()),
        (Some(1), Some(1))
    );

    let bad = d.path().join("bad.csv");
    std::fs::write(
        &bad,
        "事项名称,牵头单位,完成时限\n另一个事项,干部一处,2030年6月30日\n第三个事项,不存在的处,2030年6月30日\n",
    )
    .unwrap();
    let o = bin()
        .current_dir(d.path())
        .args(args(&bad))
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["matters"], 0, "nothing applied: {v}");
    assert_eq!(v["refused"][0]["row"], 3, "{v}");
}

/// `bench explain` on a seeded database of each backend: a Markdown document of every list and
/// count, with the statements as the code builds them and the plans the backend chose, naming the
/// indexes those plans use (0007's among them).
#[tokio::test]
async fn bench_explain_documents_the_plans_of_every_list_on_both_backends() {
    for db in taizhang_testkit::TestDb::both().await {
        let b = db.backend();
        let d = Dir::new("explain");
        let seed = run(
            &d,
            &[
                "bench",
                "seed",
                "--matters",
                "3000",
                "--database-url",
                &db.url,
            ],
        );
        assert!(seed.status.success(), "{b}: {}", stderr(&seed));
        let out = d.path().join("plans.md");
        let o = run(
            &d,
            &[
                "bench",
                "explain",
                "--runs",
                "1",
                "--out",
                out.to_str().unwrap(),
                "--database-url",
                &db.url,
            ],
        );
        assert!(o.status.success(), "{b}: {}", stderr(&o));
        let doc = std::fs::read_to_string(&out).unwrap();
        let heading = if b == "sqlite" {
            "## SQLite"
        } else {
            "## PostgreSQL"
        };
        assert!(
            doc.starts_with(heading),
            "{b}: {}",
            &doc[..200.min(doc.len())]
        );
        // Every section has its statement, a plan and a verdict.
        let sections = doc.matches("\n#### ").count();
        assert!(sections >= 50, "{b}: {sections} sections");
        assert_eq!(doc.matches("Verdict: ").count(), sections, "{b}");
        assert_eq!(doc.matches("```sql\n").count(), sections, "{b}");
        // The statements are the ones the code builds (the list's sort key, the overdue literal
        // list, the desk's one pass, the check list's page).
        for needle in [
            "ORDER BY COALESCE(m.deadline, '9999-12-31') ASC, m.id ASC",
            "m.status IN ('assigned', 'in_progress', 'extension_pending', 'stop_pending')",
            "COALESCE(SUM(CASE WHEN status = 'assigned' THEN 1 ELSE 0 END), 0)",
            "FROM daily_check_items WHERE check_day = $1",
            "UNION ALL SELECT mu.matter_id FROM matter_units mu",
        ] {
            assert!(doc.contains(needle), "{b}: no `{needle}` in\n{doc}");
        }
        // The plans use the indexes the lists are built for (0007's among them): the verdict of
        // a section names the indexes its plan uses.
        let mut expected = vec![
            (
                "default sort (deadline), every unit — page",
                "matters_deadline_key",
            ),
            (
                "status=in_progress, sorted by deadline — page",
                "matters_status_deadline_key",
            ),
            (
                "overdue, sorted by deadline — count",
                "matters_status_deadline",
            ),
            (
                "one unit's scope (chuzhang1), default sort — count",
                "matters_lead_unit",
            ),
            ("ducha — counts", "matters_desk"),
        ];
        if b == "sqlite" {
            expected.push(("chuzhang1 — first 100 lines", "daily_check_items_list"));
        }
        for (title, index) in expected {
            let used = indexes_of(&doc, title);
            assert!(
                used.iter().any(|u| u == index),
                "{b}: {title} uses {used:?}, not {index}"
            );
        }
    }
}

/// The indexes the verdict of the section titled `title` names (`uses a, b; …`).
fn indexes_of(doc: &str, title: &str) -> Vec<String> {
    let heading = doc
        .lines()
        .position(|l| l.starts_with("#### ") && l.ends_with(&format!(". {title}")))
        .unwrap_or_else(|| panic!("no section {title}"));
    let verdict = doc
        .lines()
        .skip(heading)
        .find(|l| l.starts_with("Verdict: "))
        .unwrap_or_else(|| panic!("no verdict for {title}"));
    let Some((_, uses)) = verdict.split_once(" uses ") else {
        return Vec::new();
    };
    uses.split(';')
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .split(", ")
        .map(str::to_owned)
        .collect()
}
