//! 修改台账: who may edit what in which state, the stale-version refusal, the same validation as
//! 立项, 节点 edits, and — after every refusal — nothing changed; each edit is one timeline row
//! (old → new) and one audit record.

use jiff::civil::date;
use taizhang_app::ledger::edit::{MatterEdit, MilestoneEdit, edit_matter};
use taizhang_app::ledger::matters::DeadlineInput;
use taizhang_app::ledger::{flow, get_matter};
use taizhang_app::org::{UnitEdit, edit_unit};
use taizhang_app::{App, AppError, Caller};
use taizhang_testkit::TestDb;

use crate::support::{Env, code};

/// (version, number of timeline rows, title, deadline, lead unit, status) of a matter.
async fn state(
    app: &App,
    who: &Caller,
    id: i64,
) -> (i64, usize, String, Option<String>, i64, String) {
    let d = get_matter(app, who, id).await.unwrap();
    let m = d.matter.row;
    (
        m.version,
        d.events.len(),
        m.title,
        m.deadline,
        m.lead_unit_id,
        m.status,
    )
}

async fn audits(app: &App, action: &str) -> usize {
    let mut c = app.store.read().await.unwrap();
    let q = taizhang_store::audit::AuditQuery {
        action: Some(action.into()),
        limit: 500,
        ..Default::default()
    };
    taizhang_store::audit::search(&mut c, &q)
        .await
        .unwrap()
        .len()
}

fn title(t: &str) -> MatterEdit {
    MatterEdit {
        title: Some(t.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_draft_is_edited_in_full_with_one_timeline_row_and_one_audit_record() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let id = env.new_matter("原事项名称", "2026-03-10").await;
        let other = env.unit_of("chuzhang2").await;
        let helper = env.unit_of("zuzhi1").await;
        let leader = env.who("buzhang").await.person_id;
        let worker = env.who("jingban2").await.person_id.unwrap();
        let before_audits = audits(app, "matter.edit").await;
        let e = MatterEdit {
            title: Some("修改后的事项名称".into()),
            content: Some("新的事项内容".into()),
            source_category: Some("meeting_decision".into()),
            source_doc: Some("部务会纪要〔2026〕3号".into()),
            lead_leader_id: Some(leader),
            lead_unit_id: Some(other),
            assisting_unit_ids: Some(vec![helper]),
            handler_ids: Some(vec![worker]),
            deadline: Some(DeadlineInput::Date("2026-03-20".into())),
            urgency: Some("urgent".into()),
            major: Some(true),
            feedback_cycle: Some("monthly_workday:5".into()),
            remarks: Some("备注一条".into()),
            milestones: Some(vec![MilestoneEdit {
                id: None,
                title: "形成初稿".into(),
                due_on: "2026-03-12".into(),
                owner_id: None,
            }]),
        };
        let out = edit_matter(app, &ducha, id, 1, e.clone()).await.unwrap();
        assert_eq!(out.version, 2, "{b}");
        for f in [
            "事项名称",
            "牵头单位",
            "办理时限",
            "节点",
            "经办人",
            "配合单位",
        ] {
            assert!(
                out.changed.iter().any(|c| c == f),
                "{b}: {f} in {:?}",
                out.changed
            );
        }
        let d = get_matter(app, &ducha, id).await.unwrap();
        let m = &d.matter.row;
        assert_eq!(m.title, "修改后的事项名称", "{b}");
        assert_eq!(m.lead_unit_id, other, "{b}");
        assert_eq!(m.deadline.as_deref(), Some("2026-03-20"), "{b}");
        assert_eq!((m.urgency.as_str(), m.major), ("urgent", true), "{b}");
        assert_eq!(m.source_category, "meeting_decision", "{b}");
        assert_eq!(m.lead_leader_id, leader, "{b}");
        assert_eq!(d.assisting_unit_ids, vec![helper], "{b}");
        assert_eq!(d.handler_ids, vec![worker], "{b}");
        assert_eq!(d.milestones.len(), 1, "{b}");
        let ev = d.events.last().unwrap();
        assert_eq!(ev.kind, "edit", "{b}");
        assert!(
            ev.note.contains("事项名称：原事项名称 → 修改后的事项名称")
                && ev.note.contains("办理时限：2026-03-10 → 2026-03-20")
                && ev.note.contains("新增节点「形成初稿」"),
            "{b}: {}",
            ev.note
        );
        assert_eq!(audits(app, "matter.edit").await, before_audits + 1, "{b}");

        // The same values again: nothing to change, nothing written.
        let again = edit_matter(
            app,
            &ducha,
            id,
            2,
            MatterEdit {
                milestones: None,
                ..e
            },
        )
        .await
        .unwrap();
        assert!(again.changed.is_empty(), "{b}: {:?}", again.changed);
        assert_eq!(state(app, &ducha, id).await.0, 2, "{b}");
        assert_eq!(audits(app, "matter.edit").await, before_audits + 1, "{b}");
    }
}

#[tokio::test]
async fn a_stale_edit_is_refused_and_changes_nothing() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let id = env.new_matter("并发修改事项", "2026-03-10").await;
        edit_matter(app, &ducha, id, 1, title("第一人的修改"))
            .await
            .unwrap();
        let before = state(app, &ducha, id).await;
        let r = edit_matter(app, &ducha, id, 1, title("第二人的修改")).await;
        match r {
            Err(AppError::Conflict(msg)) => assert!(msg.contains("刷新"), "{b}: {msg}"),
            other => panic!("{b}: expected a conflict, got {other:?}"),
        }
        assert_eq!(state(app, &ducha, id).await, before, "{b}");
        assert_eq!(before.2, "第一人的修改", "{b}");
    }
}

#[tokio::test]
async fn after_assignment_only_the_supervisor_edits_the_deadline_stays_and_reassignment_waits_for_signing()
 {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let head1 = env.who("chuzhang1").await;
        let head2 = env.who("chuzhang2").await;
        let id = env.new_matter("交办后修改事项", "2026-03-20").await;
        flow::submit_matter(app, &ducha, id).await.unwrap();
        flow::approve_matter(app, &ducha, id).await.unwrap();
        env.set_day(date(2026, 3, 4));
        let before = state(app, &ducha, id).await;

        // The unit head may not edit; nor may anybody move the deadline here.
        assert!(
            matches!(
                edit_matter(app, &head1, id, before.0, title("处长改名")).await,
                Err(AppError::Forbidden)
            ),
            "{b}"
        );
        let later = MatterEdit {
            deadline: Some(DeadlineInput::Date("2026-04-30".into())),
            ..Default::default()
        };
        let r = edit_matter(app, &ducha, id, before.0, later).await;
        match &r {
            Err(AppError::Invalid { code, message, .. }) => {
                assert_eq!(code, "deadline_locked", "{b}");
                assert!(message.contains("延期"), "{b}: {message}");
            }
            other => panic!("{b}: {other:?}"),
        }
        assert_eq!(state(app, &ducha, id).await, before, "{b}: nothing changed");
        // Sending the deadline in force is no change.
        let same = MatterEdit {
            deadline: Some(DeadlineInput::Date("2026-03-20".into())),
            ..title("交办后修改事项（改名）")
        };
        edit_matter(app, &ducha, id, before.0, same).await.unwrap();

        // 改派 before 签收: still 待签收, for the new unit, from today.
        let v = state(app, &ducha, id).await.0;
        let move_to = |u: i64| MatterEdit {
            lead_unit_id: Some(u),
            ..Default::default()
        };
        edit_matter(app, &ducha, id, v, move_to(head2.unit_id))
            .await
            .unwrap();
        let d = get_matter(app, &ducha, id).await.unwrap();
        assert_eq!(d.matter.row.status, "assigned", "{b}");
        assert_eq!(
            d.matter.row.assigned_on.as_deref(),
            Some("2026-03-04"),
            "{b}"
        );
        assert_eq!(d.matter.row.deadline.as_deref(), Some("2026-03-20"), "{b}");
        assert!(flow::sign_for(app, &head1, id).await.is_err(), "{b}");
        flow::sign_for(app, &head2, id).await.unwrap();

        // After 签收 the lead unit is locked; other fields still change.
        let s = state(app, &ducha, id).await;
        assert_eq!(
            code(edit_matter(app, &ducha, id, s.0, move_to(head1.unit_id)).await),
            "lead_unit_locked",
            "{b}"
        );
        assert_eq!(state(app, &ducha, id).await, s, "{b}: nothing changed");
        edit_matter(app, &ducha, id, s.0, title("办理中改名"))
            .await
            .unwrap();
        assert_eq!(state(app, &ducha, id).await.2, "办理中改名", "{b}");
    }
}

#[tokio::test]
async fn finished_matters_and_closed_years_are_read_only() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let head = env.who("chuzhang1").await;
        let id = env.new_matter("办结后只读事项", "2026-03-20").await;
        flow::submit_matter(app, &ducha, id).await.unwrap();
        flow::approve_matter(app, &ducha, id).await.unwrap();
        flow::sign_for(app, &head, id).await.unwrap();
        flow::report_completion(app, &head, id, "文件已印发")
            .await
            .unwrap();
        flow::review_completion(app, &ducha, id, true, "")
            .await
            .unwrap();
        let s = state(app, &ducha, id).await;
        assert_eq!(
            code(edit_matter(app, &ducha, id, s.0, title("改不了")).await),
            "read_only",
            "{b}: 已办结"
        );
        flow::close_out(app, &ducha, id).await.unwrap();
        let s = state(app, &ducha, id).await;
        assert_eq!(
            code(edit_matter(app, &ducha, id, s.0, title("改不了")).await),
            "read_only",
            "{b}: 已销号"
        );
        taizhang_app::ledger::year::close_year(app, &Caller::system("test"), 2026)
            .await
            .unwrap();
        assert_eq!(
            code(edit_matter(app, &ducha, id, s.0, title("改不了")).await),
            "year_closed",
            "{b}"
        );
        assert_eq!(state(app, &ducha, id).await, s, "{b}: nothing changed");
    }
}

#[tokio::test]
async fn an_edit_is_validated_like_creation_and_a_refused_one_changes_nothing() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let system = Caller::system("test");
        let id = env.new_matter("校验事项", "2026-03-10").await;
        let gone = edit_unit(
            app,
            &system,
            UnitEdit::Create {
                parent_id: None,
                name: "临时专班".into(),
                kind: "division".into(),
            },
        )
        .await
        .unwrap();
        edit_unit(app, &system, UnitEdit::Retire { id: gone })
            .await
            .unwrap();
        let before = state(app, &ducha, id).await;
        let cases: Vec<(MatterEdit, &str)> = vec![
            (title("  "), "title_empty"),
            (title(&"长".repeat(201)), "title_too_long"),
            (
                MatterEdit {
                    lead_unit_id: Some(999_999),
                    ..Default::default()
                },
                "unit_unknown",
            ),
            (
                MatterEdit {
                    lead_unit_id: Some(gone),
                    ..Default::default()
                },
                "unit_retired",
            ),
            (
                MatterEdit {
                    assisting_unit_ids: Some(vec![gone]),
                    ..Default::default()
                },
                "unit_retired",
            ),
            (
                MatterEdit {
                    deadline: Some(DeadlineInput::Date("2026-03-01".into())),
                    ..Default::default()
                },
                "deadline_before_start",
            ),
            (
                MatterEdit {
                    deadline: Some(DeadlineInput::Date("2100-01-04".into())),
                    ..Default::default()
                },
                "date_out_of_range",
            ),
            (
                MatterEdit {
                    handler_ids: Some(vec![999_999]),
                    ..Default::default()
                },
                "person_unknown",
            ),
            (
                MatterEdit {
                    source_category: Some("天上掉下来".into()),
                    ..Default::default()
                },
                "unknown_code",
            ),
            (
                MatterEdit {
                    milestones: Some(vec![MilestoneEdit {
                        id: Some(999_999),
                        title: "别人的节点".into(),
                        due_on: "2026-03-05".into(),
                        owner_id: None,
                    }]),
                    ..Default::default()
                },
                "milestone_unknown",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(
                code(edit_matter(app, &ducha, id, before.0, e).await),
                want,
                "{b}"
            );
            assert_eq!(
                state(app, &ducha, id).await,
                before,
                "{b}: {want} changed nothing"
            );
        }
    }
}

#[tokio::test]
async fn unfinished_milestones_are_added_changed_and_removed_finished_ones_stay() {
    for db in TestDb::both().await {
        let env = Env::new(&db, date(2026, 3, 2), false).await;
        let (app, b) = (&env.app, env.backend);
        let ducha = env.who("ducha").await;
        let id = env.new_matter("节点修改事项", "2026-04-30").await;
        let ms = |id: Option<i64>, t: &str, d: &str| MilestoneEdit {
            id,
            title: t.into(),
            due_on: d.into(),
            owner_id: None,
        };
        let e = MatterEdit {
            milestones: Some(vec![
                ms(None, "调研", "2026-03-10"),
                ms(None, "起草", "2026-03-20"),
                ms(None, "印发", "2026-04-20"),
            ]),
            ..Default::default()
        };
        edit_matter(app, &ducha, id, 1, e).await.unwrap();
        let d = get_matter(app, &ducha, id).await.unwrap();
        let ids: Vec<i64> = d.milestones.iter().map(|m| m.row.id).collect();
        assert_eq!(ids.len(), 3, "{b}");
        {
            let mut c = app.store.begin().await.unwrap();
            taizhang_store::ledger::set_milestone_done(&mut c, ids[0], Some("2026-03-02"))
                .await
                .unwrap();
            c.commit().await.unwrap();
        }
        // Change 起草's date, drop 印发, add 验收; the finished 调研 is not listed and stays.
        let e = MatterEdit {
            milestones: Some(vec![
                ms(Some(ids[1]), "起草", "2026-03-25"),
                ms(None, "验收", "2026-04-25"),
            ]),
            ..Default::default()
        };
        let out = edit_matter(app, &ducha, id, 2, e).await.unwrap();
        assert_eq!(out.changed, ["节点"], "{b}");
        let d = get_matter(app, &ducha, id).await.unwrap();
        let rows: Vec<(&str, &str, bool)> = d
            .milestones
            .iter()
            .map(|m| {
                (
                    m.row.title.as_str(),
                    m.row.due_on.as_str(),
                    m.row.done_on.is_some(),
                )
            })
            .collect();
        assert!(
            rows.contains(&("调研", "2026-03-10", true)),
            "{b}: {rows:?}"
        );
        assert!(
            rows.contains(&("起草", "2026-03-25", false)),
            "{b}: {rows:?}"
        );
        assert!(
            rows.contains(&("验收", "2026-04-25", false)),
            "{b}: {rows:?}"
        );
        assert!(!rows.iter().any(|r| r.0 == "印发"), "{b}: {rows:?}");
        let note = &d.events.last().unwrap().note;
        assert!(
            note.contains("日期 2026-03-20 → 2026-03-25") && note.contains("删除节点「印发」"),
            "{b}: {note}"
        );
        // A finished 节点 cannot be changed.
        let s = state(app, &ducha, id).await;
        let e = MatterEdit {
            milestones: Some(vec![ms(Some(ids[0]), "调研（改）", "2026-03-10")]),
            ..Default::default()
        };
        assert_eq!(
            code(edit_matter(app, &ducha, id, s.0, e).await),
            "milestone_done",
            "{b}"
        );
        assert_eq!(state(app, &ducha, id).await, s, "{b}");
        assert_eq!(
            get_matter(app, &ducha, id).await.unwrap().milestones.len(),
            3,
            "{b}"
        );
    }
}
