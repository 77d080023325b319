//! Unit tree administration (系统管理员) and clearances (安全管理员).

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use taizhang_app::AppError;
use taizhang_app::org::{self, UnitEdit};

use crate::AppState;
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

pub async fn units_page(State(st): State<AppState>, Web(s): Web) -> Response {
    if let Err(e) = s
        .caller
        .require(taizhang_domain::policy::Action::ManageUnits, None)
    {
        return denied_page(&st, &s.caller, "/admin/units", &e).await;
    }
    let (units, people) = {
        let Ok(mut c) = st.app.store.read().await else {
            return page_error(&st, &AppError::Unavailable("db".into()));
        };
        let tree = match org::UnitTree::load(&mut c).await {
            Ok(t) => t,
            Err(e) => return page_error(&st, &e),
        };
        let roles = taizhang_store::people::all_roles(&mut c)
            .await
            .unwrap_or_default();
        let people = taizhang_store::people::list_people(&mut c)
            .await
            .unwrap_or_default();
        let leaders: Vec<_> = people
            .iter()
            .filter(|p| {
                roles
                    .iter()
                    .any(|(id, r)| *id == p.id && r == "dept_leader")
            })
            .map(|p| json!({"id": p.id, "name": format!("{}（{}）", p.display_name, p.position)}))
            .collect();
        // Depth-first order with indentation, so the page reads as a tree.
        let mut rows = Vec::new();
        let mut stack: Vec<(i64, usize)> = tree.roots().into_iter().rev().map(|r| (r, 0)).collect();
        while let Some((id, depth)) = stack.pop() {
            if let Some(u) = tree.units.get(&id) {
                let parent = u
                    .parent_id
                    .map(|p| tree.name(p).to_owned())
                    .unwrap_or_default();
                let leader = u.leader_id;
                rows.push(json!({"id": u.id, "name": u.name, "kind": u.kind, "depth": depth, "parent": parent,
                    "retired": u.retired_at.is_some(), "leader_id": leader}));
            }
            for ch in tree.children_of(id).iter().rev() {
                stack.push((*ch, depth + 1));
            }
        }
        (rows, leaders)
    };
    st.templates.render(
        "admin/units.html",
        json!({"page": PageCtx::new(&s, "/admin"), "units": units, "leaders": people}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    leader_id: String,
}

fn id_of(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

async fn apply(
    st: AppState,
    s: taizhang_app::identity::SessionInfo,
    csrf: &str,
    edit: UnitEdit,
) -> Response {
    if !csrf_ok(&s, csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match org::edit_unit(&st.app, &s.caller, edit).await {
        Ok(_) => Redirect::to("/admin/units").into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/units", &e).await,
    }
}

pub async fn create_unit(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<UnitForm>,
) -> Response {
    let edit = UnitEdit::Create {
        parent_id: id_of(&f.parent_id),
        name: f.name,
        kind: f.kind,
    };
    apply(st, s, &f.csrf, edit).await
}

pub async fn rename_unit(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<UnitForm>,
) -> Response {
    apply(st, s, &f.csrf, UnitEdit::Rename { id, name: f.name }).await
}

pub async fn move_unit(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<UnitForm>,
) -> Response {
    let Some(parent_id) = id_of(&f.parent_id) else {
        return page_error(
            &st,
            &AppError::invalid("parent_id", "unit_unknown", "请选择上级单位"),
        );
    };
    apply(st, s, &f.csrf, UnitEdit::Move { id, parent_id }).await
}

pub async fn retire_unit(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<UnitForm>,
) -> Response {
    apply(st, s, &f.csrf, UnitEdit::Retire { id }).await
}

pub async fn set_leader(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<UnitForm>,
) -> Response {
    apply(
        st,
        s,
        &f.csrf,
        UnitEdit::SetLeader {
            id,
            leader_id: id_of(&f.leader_id),
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearanceForm {
    csrf: String,
    clearance: String,
}

pub async fn set_clearance(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<ClearanceForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match org::set_clearance(&st.app, &s.caller, id, &f.clearance).await {
        Ok(()) => Redirect::to("/admin").into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/people/clearance", &e).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelForm {
    csrf: String,
    number: String,
    label: String,
}

/// 安全管理员: set the sensitivity label of a matter by its number.
pub async fn set_matter_label(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<LabelForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match org::set_matter_label(&st.app, &s.caller, &f.number, &f.label).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/matter-label", &e).await,
    }
}
