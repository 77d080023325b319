//! Administration pages (系统管理员, 安全管理员) and the audit search (审计管理员, 纪检监察).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use taizhang_app::org::NewAccount;
use taizhang_app::{AppError, identity, org};
use taizhang_domain::policy::{Action, Role};
use taizhang_store::audit::AuditQuery;

use crate::AppState;
use crate::ctx::PageCtx;
use crate::error::{denied_page, page_error};
use crate::session::{Web, csrf_ok};

pub async fn admin_home(State(st): State<AppState>, Web(s): Web) -> Response {
    let people = match org::list_people(&st.app, &s.caller).await {
        Ok(p) => p,
        Err(e) => return denied_page(&st, &s.caller, "/admin", &e).await,
    };
    let units = {
        let mut c = match st.app.store.read().await {
            Ok(c) => c,
            Err(e) => return page_error(&st, &e.into()),
        };
        taizhang_store::org::list_units(&mut c)
            .await
            .unwrap_or_default()
    };
    let counts = st.app.store.row_counts().await.unwrap_or_default();
    let roles: Vec<(&str, &str)> = Role::ALL.iter().map(|r| (r.code(), r.label_zh())).collect();
    st.templates.render(
        "admin/index.html",
        json!({
            "page": PageCtx::new(&s, "/admin"),
            "people": people, "units": units, "roles": roles,
            "can_people": s.caller.decide(Action::ManagePeople, None).is_allowed(),
            "can_grants": s.caller.decide(Action::ManageGrants, None).is_allowed(),
            "backend": st.info.backend, "sqlite_path": st.info.sqlite_path, "counts": counts,
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateForm {
    csrf: String,
    username: String,
    display_name: String,
    unit_id: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    role: Vec<String>,
}

pub async fn create_person(
    State(st): State<AppState>,
    Web(s): Web,
    axum_extra_form: RawForm,
) -> Response {
    let f: CreateForm = match axum_extra_form.parse() {
        Ok(f) => f,
        Err(msg) => return page_error(&st, &AppError::rule("bad_form", msg)),
    };
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let roles: Vec<Role> = f.role.iter().filter_map(|r| Role::parse(r)).collect();
    let Ok(unit_id) = f.unit_id.trim().parse::<i64>() else {
        return page_error(
            &st,
            &AppError::invalid("unit_id", "unit_unknown", "请选择单位"),
        );
    };
    let acct = NewAccount {
        username: f.username,
        display_name: f.display_name,
        unit_id,
        position: f.position,
        roles,
        clearance: "normal".into(),
        password: None,
        must_change_password: true,
    };
    match org::create_account(&st.app, &s.caller, acct).await {
        Ok((_, pw)) => st.templates.render(
            "admin/password_shown.html",
            json!({"page": PageCtx::new(&s, "/admin"), "what": "新账号已创建", "password": pw}),
        ),
        Err(e) => denied_page(&st, &s.caller, "/admin/people", &e).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn reset_person(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let username = {
        let Ok(mut c) = st.app.store.read().await else {
            return page_error(&st, &AppError::Unavailable("db".into()));
        };
        match taizhang_store::people::find_person(&mut c, id).await {
            Ok(Some(p)) => p.username,
            _ => return page_error(&st, &AppError::NotFound("人员".into())),
        }
    };
    match identity::reset_password(&st.app, &s.caller, &username).await {
        Ok(pw) => st.templates.render(
            "admin/password_shown.html",
            json!({"page": PageCtx::new(&s, "/admin"), "what": format!("{username} 的密码已重置"), "password": pw}),
        ),
        Err(e) => denied_page(&st, &s.caller, "/admin/people/reset", &e).await,
    }
}

pub async fn set_roles(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    form: RawForm,
) -> Response {
    let pairs = form.pairs();
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if !csrf_ok(&s, csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    if let Some((k, _)) = pairs.iter().find(|(k, _)| k != "csrf" && k != "role") {
        return page_error(
            &st,
            &AppError::rule("unknown_field", format!("未知字段 {k}")),
        );
    }
    let roles: Vec<Role> = pairs
        .iter()
        .filter(|(k, _)| k == "role")
        .filter_map(|(_, v)| Role::parse(v))
        .collect();
    match org::set_roles(&st.app, &s.caller, id, &roles).await {
        Ok(()) => Redirect::to("/admin").into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/people/roles", &e).await,
    }
}

pub async fn disable_person(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    toggle(st, s, id, f, Some(true)).await
}

pub async fn enable_person(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    toggle(st, s, id, f, Some(false)).await
}

pub async fn unlock_person(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    toggle(st, s, id, f, None).await
}

async fn toggle(
    st: AppState,
    s: identity::SessionInfo,
    id: i64,
    f: CsrfOnly,
    disable: Option<bool>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    let r = match disable {
        Some(d) => org::set_disabled(&st.app, &s.caller, id, d).await,
        None => org::unlock(&st.app, &s.caller, id).await,
    };
    match r {
        Ok(()) => Redirect::to("/admin").into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/people/state", &e).await,
    }
}

pub async fn tokens(State(st): State<AppState>, Web(s): Web) -> Response {
    let all = s.caller.decide(Action::ManageTokens, None).is_allowed();
    let list = {
        let Ok(mut c) = st.app.store.read().await else {
            return page_error(&st, &AppError::Unavailable("db".into()));
        };
        taizhang_store::people::list_tokens(&mut c, if all { None } else { s.caller.person_id })
            .await
            .unwrap_or_default()
    };
    st.templates.render(
        "admin/tokens.html",
        json!({"page": PageCtx::new(&s, "/admin"), "tokens": list, "all": all}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_days: Option<i64>,
}

pub async fn create_token(
    State(st): State<AppState>,
    Web(s): Web,
    Form(f): Form<TokenForm>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match identity::create_token(&st.app, &s.caller, &s.caller.name, &f.name, f.expires_days.or(Some(90))).await {
        Ok(raw) => st.templates.render(
            "admin/password_shown.html",
            json!({"page": PageCtx::new(&s, "/admin"), "what": "API 令牌已创建（只显示这一次）", "password": raw}),
        ),
        Err(e) => denied_page(&st, &s.caller, "/admin/tokens", &e).await,
    }
}

pub async fn revoke_token(
    State(st): State<AppState>,
    Web(s): Web,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !csrf_ok(&s, &f.csrf) {
        return page_error(&st, &AppError::Forbidden);
    }
    match identity::revoke_token(&st.app, &s.caller, id).await {
        Ok(()) => Redirect::to("/admin/tokens").into_response(),
        Err(e) => denied_page(&st, &s.caller, "/admin/tokens/revoke", &e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    object_id: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    before: Option<i64>,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.chars().take(100).collect())
}

pub async fn audit_search(
    State(st): State<AppState>,
    Web(s): Web,
    Query(f): Query<AuditFilter>,
) -> Response {
    let q = AuditQuery {
        actor_name: opt(&f.actor),
        action: opt(&f.action),
        object_type: opt(&f.object_type),
        object_id: opt(&f.object_id),
        result: opt(&f.result),
        from_ms: None,
        to_ms: None,
        before_seq: f.before,
        limit: 100,
    };
    match taizhang_app::audit::search(&st.app, &s.caller, &q).await {
        Ok(rows) => {
            let view: Vec<_> = rows
                .iter()
                .map(|r| json!({"seq": r.seq, "at": taizhang_app::clock::format_ms(r.at_ms), "actor": r.actor_name,
                    "role": r.role, "ip": r.source_ip, "action": r.action, "object": format!("{} {}", r.object_type, r.object_id),
                    "result": r.result, "detail": r.detail, "request_id": r.request_id}))
                .collect();
            let next = rows.last().map(|r| r.seq);
            st.templates.render(
                "audit/search.html",
                json!({"page": PageCtx::new(&s, "/audit"), "rows": view, "f": {"actor": f.actor, "action": f.action,
                    "object_type": f.object_type, "object_id": f.object_id, "result": f.result}, "next": next}),
            )
        }
        Err(e) => denied_page(&st, &s.caller, "/audit", &e).await,
    }
}

/// A urlencoded form kept as pairs, for forms with repeated keys (checkbox lists).
pub struct RawForm(String);

impl<S: Send + Sync> axum::extract::FromRequest<S> for RawForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = String::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(RawForm(body))
    }
}

impl RawForm {
    pub fn pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.0.as_bytes())
            .into_owned()
            .collect()
    }

    /// Parse into a struct; repeated keys become a list for `Vec` fields.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        let mut map = serde_json::Map::new();
        for (k, v) in self.pairs() {
            match map.get_mut(&k) {
                Some(serde_json::Value::Array(a)) => a.push(v.into()),
                Some(existing) => {
                    let first = existing.take();
                    *existing = serde_json::Value::Array(vec![first, v.into()]);
                }
                None => {
                    let val = if k == "role" {
                        serde_json::Value::Array(vec![v.into()])
                    } else {
                        v.into()
                    };
                    map.insert(k, val);
                }
            }
        }
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| format!("表单有误：{e}"))
    }
}
