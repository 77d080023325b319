//! The audit trail on both backends: written with every change, verified, and every tampering of
//! the stored rows detected (≥ 1000 random tamperings per backend).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use taizhang_app::audit::{self, Event};
use taizhang_app::{App, AppSettings, Caller, FixedClock};
use taizhang_store::Store;
use taizhang_testkit::TestDb;

async fn app_on(db: &TestDb) -> App {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    App::new(
        store,
        Arc::new(FixedClock::at_date(jiff::civil::date(2026, 3, 16))),
        AppSettings::for_tests(),
    )
}

async fn exec(app: &App, sql: String) {
    let mut c = app.store.begin().await.unwrap();
    // `on!` passes the connection's error up with `?`: run it in a block that returns one.
    async {
        Ok::<_, taizhang_store::StoreError>(taizhang_store::on!(c, c => sqlx::query(
            sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected()))
    }
    .await
    .unwrap();
    c.commit().await.unwrap();
}

#[tokio::test]
async fn the_demo_trail_verifies_and_a_direct_edit_is_named() {
    for db in TestDb::both().await {
        let app = app_on(&db).await;
        taizhang_app::demo::load(&app, "Demo#Pass2026x")
            .await
            .unwrap();
        for i in 0..5 {
            audit::record_alone(
                &app,
                &Caller::system("test"),
                Event::ok("test.event", "thing", i, "detail"),
            )
            .await
            .unwrap();
        }
        audit::checkpoint(&app).await.unwrap();
        let v = audit::verify(&app).await.unwrap().unwrap();
        assert!(v.rows >= 6, "{}", db.backend());
        exec(
            &app,
            "UPDATE audit_log SET detail = 'forged' WHERE seq = 3".into(),
        )
        .await;
        let broken = audit::verify(&app).await.unwrap().unwrap_err();
        assert_eq!(broken.seq(), 3, "{}: {broken}", db.backend());
    }
}

#[tokio::test]
async fn a_thousand_random_tamperings_of_the_table_are_all_detected() {
    for db in TestDb::both().await {
        let app = app_on(&db).await;
        let who = Caller::system("test");
        for i in 0..24 {
            audit::record_alone(
                &app,
                &who,
                Event::ok("test.event", "thing", i, format!("detail {i}")),
            )
            .await
            .unwrap();
        }
        audit::checkpoint(&app).await.unwrap();
        assert!(audit::verify(&app).await.unwrap().is_ok());
        let rows = {
            let mut c = app.store.read().await.unwrap();
            taizhang_store::audit::scan(&mut c, 0, 100).await.unwrap()
        };
        let n = rows.len() as i64;
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261129);
        let fields = [
            "at_ms",
            "actor_name",
            "role",
            "source_ip",
            "action",
            "object_type",
            "object_id",
            "result",
            "request_id",
            "detail",
            "detail_digest",
            "mac",
        ];
        for round in 0..1000 {
            let seq = rng.random_range(1..=n);
            let kind = rng.random_range(0..5);
            let (tamper, undo): (Vec<String>, Vec<String>) = match kind {
                0 => {
                    let f = fields[rng.random_range(0..fields.len())];
                    let original = &rows[(seq - 1) as usize];
                    let restore = match f {
                        "at_ms" => format!(
                            "UPDATE audit_log SET at_ms = {} WHERE seq = {seq}",
                            original.at_ms
                        ),
                        _ => {
                            let v = match f {
                                "actor_name" => &original.actor_name,
                                "role" => &original.role,
                                "source_ip" => &original.source_ip,
                                "action" => &original.action,
                                "object_type" => &original.object_type,
                                "object_id" => &original.object_id,
                                "result" => &original.result,
                                "request_id" => &original.request_id,
                                "detail" => &original.detail,
                                "detail_digest" => &original.detail_digest,
                                _ => &original.mac,
                            };
                            format!(
                                "UPDATE audit_log SET {f} = '{}' WHERE seq = {seq}",
                                v.replace('\'', "''")
                            )
                        }
                    };
                    let change = if f == "at_ms" {
                        format!("UPDATE audit_log SET at_ms = at_ms + 1 WHERE seq = {seq}")
                    } else if f == "result" {
                        format!(
                            "UPDATE audit_log SET result = CASE WHEN result = 'ok' THEN 'denied' ELSE 'ok' END WHERE seq = {seq}"
                        )
                    } else {
                        format!("UPDATE audit_log SET {f} = {f} || 'x' WHERE seq = {seq}")
                    };
                    (vec![change], vec![restore])
                }
                1 => (
                    vec![format!("DELETE FROM audit_log WHERE seq = {seq}")],
                    vec![insert_sql(&rows[(seq - 1) as usize])],
                ),
                2 => {
                    // Swap the contents of two rows, keeping their sequence numbers.
                    let other = if seq == n { seq - 1 } else { seq + 1 };
                    let (a, b) = (&rows[(seq - 1) as usize], &rows[(other - 1) as usize]);
                    (
                        vec![update_all(b, seq), update_all(a, other)],
                        vec![update_all(a, seq), update_all(b, other)],
                    )
                }
                3 => {
                    // Truncate the tail (below the signed checkpoint).
                    let from = rng.random_range(seq..=n);
                    (
                        vec![format!("DELETE FROM audit_log WHERE seq >= {from}")],
                        rows[(from - 1) as usize..].iter().map(insert_sql).collect(),
                    )
                }
                _ => {
                    // A forged row appended with an unkeyed digest as its MAC.
                    let mut forged = rows[(n - 1) as usize].clone();
                    forged.seq = n + 1;
                    forged.detail = "forged".into();
                    forged.mac =
                        hex::encode(taizhang_domain::crypto::sha256(forged.detail.as_bytes()));
                    (
                        vec![insert_sql(&forged)],
                        vec![format!("DELETE FROM audit_log WHERE seq = {}", n + 1)],
                    )
                }
            };
            for s in tamper {
                exec(&app, s).await;
            }
            let res = audit::verify(&app).await.unwrap();
            assert!(
                res.is_err(),
                "{}: round {round}, kind {kind}, seq {seq} went undetected",
                db.backend()
            );
            for s in undo {
                exec(&app, s).await;
            }
        }
        assert!(
            audit::verify(&app).await.unwrap().is_ok(),
            "{}: restored chain verifies",
            db.backend()
        );
    }
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn insert_sql(r: &taizhang_store::audit::AuditRow) -> String {
    format!(
        "INSERT INTO audit_log (seq, at_ms, actor_id, actor_name, role, source_ip, action, object_type, object_id, result, request_id, detail, detail_digest, mac) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        r.seq,
        r.at_ms,
        r.actor_id.map_or("NULL".into(), |v| v.to_string()),
        q(&r.actor_name),
        q(&r.role),
        q(&r.source_ip),
        q(&r.action),
        q(&r.object_type),
        q(&r.object_id),
        q(&r.result),
        q(&r.request_id),
        q(&r.detail),
        q(&r.detail_digest),
        q(&r.mac)
    )
}

fn update_all(r: &taizhang_store::audit::AuditRow, seq: i64) -> String {
    format!(
        "UPDATE audit_log SET at_ms = {}, actor_name = {}, role = {}, source_ip = {}, action = {}, object_type = {}, object_id = {}, \
         result = {}, request_id = {}, detail = {}, detail_digest = {}, mac = {} WHERE seq = {seq}",
        r.at_ms,
        q(&r.actor_name),
        q(&r.role),
        q(&r.source_ip),
        q(&r.action),
        q(&r.object_type),
        q(&r.object_id),
        q(&r.result),
        q(&r.request_id),
        q(&r.detail),
        q(&r.detail_digest),
        q(&r.mac)
    )
}

#[tokio::test]
async fn retention_purges_only_old_records_and_the_chain_still_verifies() {
    for db in TestDb::both().await {
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::at_date(jiff::civil::date(2025, 1, 6)));
        let mut settings = AppSettings::for_tests();
        settings.audit_retention_days = 30; // configured below the floor: 180 days still apply
        let app = App::new(store, clock.clone(), settings);
        let who = Caller::system("test");
        for i in 0..10 {
            audit::record_alone(&app, &who, Event::ok("old.event", "thing", i, ""))
                .await
                .unwrap();
        }
        clock.advance_ms(200 * 86_400_000);
        for i in 0..5 {
            audit::record_alone(&app, &who, Event::ok("new.event", "thing", i, ""))
                .await
                .unwrap();
        }
        clock.advance_ms(100 * 86_400_000); // old ones are 300 days old, new ones 100
        let purged = audit::purge_expired(&app).await.unwrap();
        assert_eq!(purged, 10, "{}", db.backend());
        let v = audit::verify(&app).await.unwrap().unwrap();
        assert_eq!(v.rows, 6, "5 young records and the purge record");
        let mut c = app.store.read().await.unwrap();
        let left = taizhang_store::audit::scan(&mut c, 0, 100).await.unwrap();
        assert!(left.iter().all(|r| r.action != "old.event"));
    }
}
