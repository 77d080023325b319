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

/// A matter of the seeded unit, written straight through the store.
async fn seed_matter(s: &Store, unit: i64, person: i64) -> i64 {
    let m = taizhang_store::matters::MatterRow {
        id: 0,
        year: 2026,
        seq: 1,
        number: "督〔2026〕1号".into(),
        title: "佐证材料往返".into(),
        content: String::new(),
        source_category: "other".into(),
        source_doc: String::new(),
        lead_leader_id: None,
        lead_unit_id: unit,
        deadline_kind: "none".into(),
        deadline_workdays: None,
        deadline: None,
        original_deadline: None,
        urgency: "normal".into(),
        major: false,
        feedback_cycle: "none".into(),
        status: "in_progress".into(),
        progress: None,
        label: "normal".into(),
        parent_id: None,
        carried_from_id: None,
        remarks: String::new(),
        latest_progress: String::new(),
        completion_note: String::new(),
        assigned_on: None,
        signed_on: None,
        completed_on: None,
        closed_on: None,
        lookback_on: None,
        created_by: Some(person),
        created_at: 1,
        updated_at: 1,
        last_update_on: None,
        version: 1,
    };
    let mut c = s.begin().await.unwrap();
    let id = taizhang_store::matters::insert(&mut c, &m).await.unwrap();
    c.commit().await.unwrap();
    id
}

#[tokio::test]
async fn attachment_bytes_are_stored_once_and_round_trip_through_backup_and_restore() {
    use taizhang_store::attachments::{self, AttachmentRow};
    // Every byte value, a NUL, invalid UTF-8 and a PNG signature: nothing may be mangled.
    let mut bytes: Vec<u8> = (0..=255u8).collect();
    bytes.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\xff\xfe");
    let sha = "ab".repeat(32);
    for src in TestDb::both().await {
        let b = src.backend();
        let s = fresh(&src).await;
        let (div, p) = seed(&s).await;
        let matter = seed_matter(&s, div, p).await;
        let mut c = s.begin().await.unwrap();
        assert!(
            attachments::put_blob(&mut c, &sha, "image/png", &bytes, 5)
                .await
                .unwrap()
        );
        // The same bytes again: deduplicated, no second blob.
        assert!(
            !attachments::put_blob(&mut c, &sha, "image/png", &bytes, 6)
                .await
                .unwrap()
        );
        let row = AttachmentRow {
            id: 0,
            matter_id: matter,
            report_id: None,
            sha256: sha.clone(),
            size_bytes: bytes.len() as i64,
            media_type: "image/png".into(),
            filename: "现场照片.png".into(),
            uploaded_by: p,
            uploaded_at: 7,
            removed_at: None,
            removed_by: None,
            removed_reason: String::new(),
        };
        let a1 = attachments::insert(&mut c, &row).await.unwrap();
        let a2 = attachments::insert(&mut c, &row).await.unwrap();
        attachments::mark_removed(&mut c, a2, Some(p), "重复上传", 8)
            .await
            .unwrap();
        assert!(
            matches!(
                attachments::mark_removed(&mut c, a2, Some(p), "again", 9).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}: withdrawing twice is a conflict"
        );
        c.commit().await.unwrap();
        let mut r = s.read().await.unwrap();
        assert_eq!(attachments::blob_count(&mut r).await.unwrap(), 1, "{b}");
        assert_eq!(
            attachments::list_by_matter(&mut r, matter)
                .await
                .unwrap()
                .len(),
            2,
            "{b}"
        );
        drop(r);

        let mut buf = Vec::new();
        s.backup_to(&mut buf).await.unwrap();
        for dst in [TestDb::sqlite()]
            .into_iter()
            .chain(TestDb::postgres().await)
        {
            let d = fresh(&dst).await;
            d.restore_from(&mut buf.as_slice(), false)
                .await
                .unwrap_or_else(|e| panic!("{b} -> {}: {e}", dst.backend()));
            let mut r = d.read().await.unwrap();
            assert_eq!(
                attachments::blob(&mut r, &sha).await.unwrap(),
                bytes,
                "{b} -> {}: the bytes survive",
                dst.backend()
            );
            let got = attachments::get(&mut r, a1).await.unwrap();
            assert_eq!(got.filename, "现场照片.png");
            let gone = attachments::get(&mut r, a2).await.unwrap();
            assert_eq!(
                (
                    gone.removed_at,
                    gone.removed_by,
                    gone.removed_reason.as_str()
                ),
                (Some(8), Some(p), "重复上传"),
                "{b} -> {}: the withdrawal survives",
                dst.backend()
            );
        }
    }
}

/// Deterministic bytes that do not compress or repeat (a tiny xorshift).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test]
async fn many_attachments_stream_through_backup_and_restore_on_both_backends() {
    use taizhang_store::attachments::{self, AttachmentRow};
    use taizhang_store::org::UnitChange;
    // Several MB-sized blobs (more than one group per query, one larger than a group on its
    // own) and more small ones than one page of keys.
    let mut blobs: Vec<(String, Vec<u8>)> = [3 << 20, 3 << 20, 3 << 20, 9 << 20, 1, 0]
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("{:064x}", i + 1), noise(i as u64, *n)))
        .collect();
    for i in 0..1100u64 {
        blobs.push((format!("{:064x}", 1000 + i), noise(1000 + i, 64)));
    }
    for src in TestDb::both().await {
        let b = src.backend();
        let s = fresh(&src).await;
        let (div, p) = seed(&s).await;
        let matter = seed_matter(&s, div, p).await;
        let mut c = s.begin().await.unwrap();
        let root = org::get_unit(&mut c, div).await.unwrap().parent_id.unwrap();
        // A parent with a larger id than its child: a self reference pointing forward.
        let later = org::insert_unit(
            &mut c,
            &NewUnit {
                parent_id: None,
                name: "后建单位",
                short_name: "后建",
                kind: "department",
                sort_order: 5,
            },
            2,
        )
        .await
        .unwrap();
        org::update_unit(&mut c, root, UnitChange::Move(later), None, 3)
            .await
            .unwrap();
        for (i, (sha, bytes)) in blobs.iter().enumerate() {
            attachments::put_blob(&mut c, sha, "application/pdf", bytes, 5)
                .await
                .unwrap();
            if i < 6 {
                let row = AttachmentRow {
                    id: 0,
                    matter_id: matter,
                    report_id: None,
                    sha256: sha.clone(),
                    size_bytes: bytes.len() as i64,
                    media_type: "application/pdf".into(),
                    filename: format!("扫描件{i}.pdf"),
                    uploaded_by: p,
                    uploaded_at: 7,
                    removed_at: None,
                    removed_by: None,
                    removed_reason: String::new(),
                };
                attachments::insert(&mut c, &row).await.unwrap();
            }
        }
        c.commit().await.unwrap();

        let mut buf = Vec::new();
        let summary = s.backup_to(&mut buf).await.unwrap();
        assert_eq!(
            summary.counts["attachment_blobs"],
            blobs.len() as u64,
            "{b}"
        );
        assert_eq!(summary.counts["attachments"], 6, "{b}");
        for dst in [TestDb::sqlite()]
            .into_iter()
            .chain(TestDb::postgres().await)
        {
            let d = fresh(&dst).await;
            let restored = d
                .restore_from(&mut buf.as_slice(), false)
                .await
                .unwrap_or_else(|e| panic!("{b} -> {}: {e}", dst.backend()));
            assert_eq!(restored.counts, summary.counts);
            assert_eq!(restored.sha256, summary.sha256);
            assert_eq!(d.row_counts().await.unwrap(), s.row_counts().await.unwrap());
            let mut r = d.read().await.unwrap();
            for (sha, bytes) in &blobs {
                let got = attachments::blob(&mut r, sha).await.unwrap();
                assert!(
                    got == *bytes,
                    "{b} -> {}: blob {sha} differs",
                    dst.backend()
                );
            }
            let units = org::list_units(&mut r).await.unwrap();
            let moved = units.iter().find(|u| u.id == root).unwrap();
            assert_eq!(moved.parent_id, Some(later), "{b} -> {}", dst.backend());
            let list = attachments::list_by_matter(&mut r, matter).await.unwrap();
            assert_eq!(list.len(), 6, "{b} -> {}", dst.backend());
        }
    }
}

/// The layout the first writer produced: keys in sorted order (`{"r":…,"t":…}`) and an end line
/// `{"counts":…,"end":true,"sha256":…}`, the digest over every line before it.
fn first_writer_layout(current: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let text = std::str::from_utf8(current).unwrap();
    let mut out = Vec::new();
    let mut hasher = Sha256::new();
    let mut counts = serde_json::Value::Null;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("end").is_some() {
            counts = v["counts"].clone();
            continue;
        }
        let s = v.to_string();
        hasher.update(s.as_bytes());
        hasher.update(b"\n");
        out.extend_from_slice(s.as_bytes());
        out.push(b'\n');
    }
    let footer = serde_json::json!({"end": true, "counts": counts,
        "sha256": hex::encode(hasher.finalize())});
    out.extend_from_slice(format!("{footer}\n").as_bytes());
    out
}

#[tokio::test]
async fn a_backup_in_the_first_writers_layout_still_restores() {
    use taizhang_store::attachments;
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        let (div, p) = seed(&s).await;
        seed_matter(&s, div, p).await;
        let bytes = noise(7, 300_000);
        let sha = "cd".repeat(32);
        let mut c = s.begin().await.unwrap();
        attachments::put_blob(&mut c, &sha, "image/png", &bytes, 1)
            .await
            .unwrap();
        c.commit().await.unwrap();
        let mut buf = Vec::new();
        let summary = s.backup_to(&mut buf).await.unwrap();
        let old = first_writer_layout(&buf);
        assert!(old.starts_with(b"{\"format\""), "the header comes first");
        let dst = TestDb::sqlite();
        let d = fresh(&dst).await;
        let restored = d
            .restore_from(&mut old.as_slice(), false)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.backend()));
        assert_eq!(restored.counts, summary.counts);
        let mut r = d.read().await.unwrap();
        assert!(attachments::blob(&mut r, &sha).await.unwrap() == bytes);
        // Cut before the end line: refused, nothing kept.
        let cut = &old[..old.len() - 10];
        let dst2 = TestDb::sqlite();
        let d2 = fresh(&dst2).await;
        let err = d2.restore_from(&mut &cut[..], false).await.unwrap_err();
        assert!(err.to_string().contains("backup file"), "{err}");
        assert!(d2.is_empty().await.unwrap());
    }
}

/// A matter row with every text column set to `text` (and the given order key in `title`).
fn matter_row(
    unit: i64,
    seq: i64,
    title: &str,
    text: &str,
    deadline: Option<&str>,
) -> taizhang_store::matters::MatterRow {
    taizhang_store::matters::MatterRow {
        id: 0,
        year: 2026,
        seq,
        number: format!("督〔2026〕{seq}号"),
        title: title.to_owned(),
        content: text.to_owned(),
        source_category: "meeting_decision".into(),
        source_doc: text.to_owned(),
        lead_leader_id: None,
        lead_unit_id: unit,
        deadline_kind: if deadline.is_some() { "date" } else { "none" }.into(),
        deadline_workdays: None,
        deadline: deadline.map(str::to_owned),
        original_deadline: deadline.map(str::to_owned),
        urgency: "normal".into(),
        major: seq % 2 == 0,
        feedback_cycle: "none".into(),
        status: "in_progress".into(),
        progress: (seq % 3 == 0).then_some(seq * 7),
        label: "normal".into(),
        parent_id: None,
        carried_from_id: None,
        remarks: text.to_owned(),
        latest_progress: text.to_owned(),
        completion_note: String::new(),
        assigned_on: Some("2026-01-05".into()),
        signed_on: None,
        completed_on: None,
        closed_on: None,
        lookback_on: None,
        created_by: None,
        created_at: 1_700_000_000_000 + seq,
        updated_at: 1_700_000_000_000 + seq,
        last_update_on: None,
        version: 1,
    }
}

#[tokio::test]
async fn listed_matter_rows_keep_the_query_order_and_every_value() {
    // SQLite hands the rows over packed into one JSON value: the order must be the query's and
    // every text (quotes, backslashes, control characters, line separators, emoji) and NULL must
    // come back exactly as a single-row read gives it.
    let texts = [
        "普通文本",
        "引号\"与'单引号'，反斜杠\\n不是换行",
        "换行\n制表\t回车\r",
        "控制字符\u{1}\u{1e}\u{1f}",
        "行分隔符\u{2028}段分隔符\u{2029}",
        "表情😀与生僻字𠀀",
        "",
    ];
    for db in TestDb::both().await {
        let s = fresh(&db).await;
        let (unit, _) = seed(&s).await;
        let mut c = s.begin().await.unwrap();
        let mut ids = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let seq = i64::try_from(i).unwrap() + 1;
            let deadline = (i % 2 == 0).then_some("2026-12-30");
            let title = format!("事项{}", (b'a' + u8::try_from(i).unwrap()) as char);
            ids.push(
                taizhang_store::matters::insert(
                    &mut c,
                    &matter_row(unit, seq, &title, t, deadline),
                )
                .await
                .unwrap(),
            );
        }
        c.commit().await.unwrap();
        let mut r = s.read().await.unwrap();
        let sql = format!(
            "SELECT {} FROM matters m WHERE m.lead_unit_id = $1 ORDER BY m.title DESC",
            taizhang_store::matters::COLS
        );
        let rows = taizhang_store::matters::query_rows(
            &mut r,
            sql,
            &[taizhang_store::matters::Arg::Int(unit)],
        )
        .await
        .unwrap();
        let listed: Vec<i64> = rows.iter().map(|m| m.id).collect();
        let expected: Vec<i64> = ids.iter().rev().copied().collect();
        assert_eq!(listed, expected, "{}: order", db.backend());
        for m in &rows {
            let one = taizhang_store::matters::get(&mut r, m.id).await.unwrap();
            assert_eq!(m, &one, "{}: row {}", db.backend(), m.id);
        }
        assert!(
            rows.iter()
                .any(|m| m.deadline.is_none() && m.progress.is_none())
        );
        assert!(rows.iter().any(|m| m.major) && rows.iter().any(|m| !m.major));
    }
}
