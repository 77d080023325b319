//! The authorization matrix: every route of the router × every demo role. A route cannot exist
//! without a table entry (the router is built from the table), and 纪检监察 is refused on every
//! route that changes business or administrative data.

use axum::http::{Method, StatusCode};
use taizhang_testkit::TestDb;
use taizhang_web::routes::{Access, table};

use crate::support::TestApp;

/// Demo users whose logins need no second factor, and their roles.
const USERS: &[&str] = &[
    "buzhang",
    "ducha",
    "chuzhang1",
    "jingban1",
    "jijian",
    "jinan",
];

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
}

#[tokio::test]
async fn every_route_answers_each_role_as_its_table_entry_says() {
    for db in TestDb::both().await {
        let t = TestApp::new(db, true).await;
        let routes = table();
        assert!(routes.len() >= 20);
        // Anonymous: only public routes are served; the rest send to the login page or 401.
        for e in &routes {
            let mut b = t.browser();
            let r = if e.method == Method::GET {
                b.get(&concrete(e.path)).await
            } else if e.method == Method::POST {
                b.post_form(&concrete(e.path), &[]).await
            } else {
                b.send_form(e.method.clone(), &concrete(e.path), &[]).await
            };
            match e.access {
                Access::Public => assert!(
                    r.status != StatusCode::UNAUTHORIZED,
                    "{} {}",
                    e.method,
                    e.path
                ),
                _ => assert!(
                    matches!(
                        r.status,
                        StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ),
                    "anonymous reached {} {}: {}",
                    e.method,
                    e.path,
                    r.status
                ),
            }
        }
        for user in USERS {
            let mut b = t.login(user).await;
            let caller = taizhang_app::caller::load_caller_by_username(&t.app, user)
                .await
                .unwrap();
            for e in &routes {
                if matches!(e.access, Access::Public | Access::Step) || e.path == "/logout" {
                    continue;
                }
                let r = if e.method == Method::GET {
                    b.get(&concrete(e.path)).await
                } else if e.method == Method::POST {
                    b.post_csrf(&concrete(e.path), &[]).await
                } else {
                    b.send_form(e.method.clone(), &concrete(e.path), &[]).await
                };
                if let Access::Roles(roles) = e.access
                    && !roles.iter().any(|r| caller.roles.contains(r))
                {
                    assert!(
                        matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                        "{user} reached {} {} without the role: {}",
                        e.method,
                        e.path,
                        r.status
                    );
                }
                if *user == "jijian" && e.is_write() {
                    assert!(
                        matches!(
                            r.status,
                            StatusCode::FORBIDDEN
                                | StatusCode::NOT_FOUND
                                | StatusCode::UNPROCESSABLE_ENTITY
                                | StatusCode::BAD_REQUEST
                        ),
                        "纪检监察 changed something via {} {}: {}",
                        e.method,
                        e.path,
                        r.status
                    );
                }
                assert!(
                    r.status != StatusCode::INTERNAL_SERVER_ERROR,
                    "{user} {} {}: 500 {}",
                    e.method,
                    e.path,
                    r.body
                );
            }
        }
    }
}

#[tokio::test]
async fn the_inspector_changes_nothing_anywhere() {
    let t = TestApp::new(TestDb::sqlite(), true).await;
    let before = t.app.store.row_counts().await.unwrap();
    let mut b = t.login("jijian").await;
    for e in table()
        .iter()
        .filter(|e| e.is_write() && !matches!(e.access, Access::Public | Access::Step))
    {
        for id in ["1", "2", "40"] {
            b.post_csrf(
                &e.path.replace("{id}", id),
                &[("name", "x"), ("role", "sys_admin")],
            )
            .await;
        }
    }
    let after = t.app.store.row_counts().await.unwrap();
    for (table, n) in &before {
        if table != "audit_log" && table != "audit_head" {
            assert_eq!(after.get(table), Some(n), "纪检监察 changed {table}");
        }
    }
    // Every refusal was audited as a denial.
    let mut c = t.app.store.read().await.unwrap();
    let q = taizhang_store::audit::AuditQuery {
        actor_name: Some("jijian".into()),
        result: Some("denied".into()),
        limit: 500,
        ..Default::default()
    };
    assert!(
        !taizhang_store::audit::search(&mut c, &q)
            .await
            .unwrap()
            .is_empty()
    );
}
