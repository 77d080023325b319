//! The store contract: the same cases on SQLite and on PostgreSQL (a fresh database each run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use taizhang_store::org::{self, NewUnit};
use taizhang_store::people::{self, NewPerson};
use taizhang_store::{Store, StoreError, audit, cadence};
use taizhang_testkit::TestDb;

async fn fresh(db: &TestDb) -> Store {
    let s = Store::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("{}: connect: {e}", db.backend()));
    s.migrate()
        .await
        .unwrap_or_else(|e| panic!("{}: migrate: {e}", db.backend()));
    s
}

async fn seed(s: &Store) -> (i64, i64) {
    let mut c = s.begin().await.unwrap();
    let root = org::insert_unit(
        &mut c,
        &NewUnit {
            parent_id: None,
            name: "省委组织部",
            short_name: "省委组织部",
            kind: "department",
            sort_order: 0,
        },
        1,
    )
    .await
    .unwrap();
    let div = org::insert_unit(
        &mut c,
        &NewUnit {
            parent_id: Some(root),
            name: "干部一处",
            short_name: "干部一处",
            kind: "division",
            sort_order: 1,
        },
        1,
    )
    .await
    .unwrap();
    let p = people::insert_person(
        &mut c,
        &NewPerson {
            username: "zhangsan",
            display_name: "张三",
            unit_id: div,
            position: "处长",
            email: "",
            clearance: "normal",
            password_hash: Some("$argon2id$fake"),
            must_change_password: false,
        },
        1,
    )
    .await
    .unwrap();
    people::grant_role(&mut c, p, "unit_head", None, 1)
        .await
        .unwrap();
    c.commit().await.unwrap();
    (div, p)
}

#[tokio::test]
async fn migrations_apply_twice_and_the_database_answers() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        s.migrate().await.unwrap();
        s.ping().await.unwrap();
        assert!(s.is_empty().await.unwrap(), "{}", db.backend());
    }
}

#[tokio::test]
async fn a_duplicate_username_is_a_conflict_not_a_crash() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        let (div, _) = seed(&s).await;
        let mut c = s.begin().await.unwrap();
        let err = people::insert_person(
            &mut c,
            &NewPerson {
                username: "zhangsan",
                display_name: "张三二",
                unit_id: div,
                position: "",
                email: "",
                clearance: "normal",
                password_hash: None,
                must_change_password: true,
            },
            2,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict(_)),
            "{}: {err:?}",
            db.backend()
        );
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_nothing() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        let mut c = s.begin().await.unwrap();
        org::insert_unit(
            &mut c,
            &NewUnit {
                parent_id: None,
                name: "临时",
                short_name: "临时",
                kind: "department",
                sort_order: 0,
            },
            1,
        )
        .await
        .unwrap();
        c.rollback().await.unwrap();
        let mut r = s.read().await.unwrap();
        assert!(
            org::list_units(&mut r).await.unwrap().is_empty(),
            "{}",
            db.backend()
        );
    }
}

#[tokio::test]
async fn failed_logins_count_exactly_and_lock_at_the_threshold() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        let (_, p) = seed(&s).await;
        let mut last = (0, None);
        for _ in 0..5 {
            let mut c = s.begin().await.unwrap();
            last = people::record_failed_login(&mut c, p, 5, 999)
                .await
                .unwrap();
            c.commit().await.unwrap();
        }
        assert_eq!(last, (5, Some(999)), "{}", db.backend());
    }
}

#[tokio::test]
async fn the_audit_head_hands_out_gapless_sequence_numbers() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        for expected in 1..=3 {
            let mut c = s.begin().await.unwrap();
            let (seq, prev) = audit::reserve_next(&mut c).await.unwrap();
            assert_eq!(seq, expected, "{}", db.backend());
            assert_eq!(prev.len(), 64);
            let row = audit::AuditRow {
                seq,
                at_ms: 1,
                actor_id: None,
                actor_name: "t".into(),
                role: "system".into(),
                source_ip: "local".into(),
                action: "test".into(),
                object_type: "x".into(),
                object_id: "1".into(),
                result: "ok".into(),
                request_id: String::new(),
                detail: String::new(),
                detail_digest: String::new(),
                mac: format!("{seq:064}"),
            };
            audit::insert(&mut c, &row).await.unwrap();
            c.commit().await.unwrap();
        }
        let mut r = s.read().await.unwrap();
        assert_eq!(audit::head(&mut r).await.unwrap().0, 3);
        assert_eq!(audit::scan(&mut r, 0, 10).await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn a_cadence_period_is_claimed_once() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        let mut c = s.begin().await.unwrap();
        assert!(
            cadence::claim(&mut c, "daily-check", "2026-03-02", "a", 1)
                .await
                .unwrap()
        );
        c.commit().await.unwrap();
        let mut c = s.begin().await.unwrap();
        assert!(
            !cadence::claim(&mut c, "daily-check", "2026-03-02", "b", 2)
                .await
                .unwrap(),
            "{}",
            db.backend()
        );
        c.commit().await.unwrap();
    }
}

#[tokio::test]
async fn backup_then_restore_into_an_empty_database_gives_identical_row_counts() {
    let dbs = TestDb::both().await;
    for src in &dbs {
        let s = fresh(src).await;
        seed(&s).await;
        let mut buf = Vec::new();
        let summary = s.backup_to(&mut buf).await.unwrap();
        assert!(summary.total_rows() >= 5);
        // Restore into every backend: SQLite → PostgreSQL works too.
        for dst_db in [TestDb::sqlite()]
            .into_iter()
            .chain(TestDb::postgres().await)
        {
            let d = fresh(&dst_db).await;
            let restored = d
                .restore_from(&mut buf.as_slice(), false)
                .await
                .unwrap_or_else(|e| panic!("{} -> {}: {e}", src.backend(), dst_db.backend()));
            assert_eq!(restored.counts, summary.counts);
            assert_eq!(
                d.row_counts().await.unwrap(),
                s.row_counts().await.unwrap(),
                "{} -> {}",
                src.backend(),
                dst_db.backend()
            );
            // A second restore without --force is refused: the database is no longer empty.
            let again = d
                .restore_from(&mut buf.as_slice(), false)
                .await
                .unwrap_err();
            assert!(matches!(again, StoreError::Conflict(_)));
            // New rows after a restore get fresh ids (sequences were moved past the restored ones).
            let mut c = d.begin().await.unwrap();
            org::insert_unit(
                &mut c,
                &NewUnit {
                    parent_id: None,
                    name: "新单位",
                    short_name: "新",
                    kind: "department",
                    sort_order: 9,
                },
                3,
            )
            .await
            .unwrap();
            c.commit().await.unwrap();
        }
    }
}

#[tokio::test]
async fn an_altered_backup_file_is_refused_and_changes_nothing() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        seed(&s).await;
        let mut buf = Vec::new();
        s.backup_to(&mut buf).await.unwrap();
        let text = String::from_utf8(buf).unwrap().replace("张三", "李四");
        let dst = TestDb::sqlite();
        let d = fresh(&dst).await;
        let err = d
            .restore_from(&mut text.as_bytes(), false)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("digest mismatch"), "{err}");
        assert!(d.is_empty().await.unwrap());
    }
}

#[tokio::test]
async fn the_backup_table_registry_matches_the_live_schema() {
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        let live = s.schema_columns().await.unwrap();
        for (table, cols) in taizhang_store::TABLES {
            let names: Vec<String> = cols.iter().map(|(n, _)| (*n).to_owned()).collect();
            let mut want = names.clone();
            want.sort();
            let mut have = live.get(*table).cloned().unwrap_or_default();
            have.sort();
            assert_eq!(have, want, "{}: table {table}", db.backend());
        }
        let registered: Vec<&str> = taizhang_store::TABLES.iter().map(|(t, _)| *t).collect();
        for t in live
            .keys()
            .filter(|t| !taizhang_store::NOT_BACKED_UP.contains(&t.as_str()))
        {
            assert!(
                registered.contains(&t.as_str()),
                "{}: table {t} is missing from the backup registry",
                db.backend()
            );
        }
    }
}
