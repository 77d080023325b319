//! Units and people (read), and the caller's in-app inbox (站内信) with its unread count.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use taizhang_app::{notify, org};
use utoipa::IntoParams;

use super::extract::{ApiQuery, PathId};
use super::types::{CountOut, Done, ErrorBody, InboxOut, PersonOut, UnitOut};
use super::{error_response, json_ok};
use crate::AppState;
use crate::session::Api;

/// The organization tree, flat (any user).
#[utoipa::path(get, path = "/api/v1/units", tag = "directory",
    responses((status = 200, body = Vec<UnitOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_units(State(st): State<AppState>, Api(who): Api) -> Response {
    match taizhang_app::directory::list_units(&st.app, &who).await {
        Ok(units) => json_ok(
            &units
                .into_iter()
                .map(|u| UnitOut {
                    id: u.id,
                    parent_id: u.parent_id,
                    name: u.name,
                    short_name: u.short_name,
                    kind: u.kind,
                    leader_id: u.leader_id,
                    retired: u.retired_at.is_some(),
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => error_response(&e),
    }
}

/// Everyone (系统管理员 and 安全管理员 only).
#[utoipa::path(get, path = "/api/v1/people", tag = "directory",
    responses((status = 200, body = Vec<PersonOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_people(State(st): State<AppState>, Api(who): Api) -> Response {
    match org::list_people(&st.app, &who).await {
        Ok(people) => json_ok(
            &people
                .into_iter()
                .map(|p| PersonOut {
                    id: p.id,
                    username: p.username,
                    display_name: p.display_name,
                    unit_id: p.unit_id,
                    position: p.position,
                    roles: p.roles,
                    disabled: p.disabled,
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => error_response(&e),
    }
}

/// `?unread=true&before=ID&limit=N`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    unread: Option<bool>,
    /// Lines older than this id (paging).
    before: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// The caller's inbox, newest first.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", params(InboxParams),
    responses((status = 200, body = Vec<InboxOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn inbox(
    State(st): State<AppState>,
    Api(who): Api,
    ApiQuery(p): ApiQuery<InboxParams>,
) -> Response {
    let limit = p.limit.unwrap_or(50);
    let r = notify::inbox(&st.app, &who, p.unread.unwrap_or(false), p.before, limit).await;
    match r {
        Ok(rows) => json_ok(
            &rows
                .into_iter()
                .map(|r| InboxOut {
                    id: r.id,
                    event_kind: r.event_kind,
                    title: r.title,
                    body: r.body,
                    link: r.link,
                    matter_id: r.matter_id,
                    created_at: r.created_at,
                    read_at: r.read_at,
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => error_response(&e),
    }
}

/// Unread lines (the badge).
#[utoipa::path(get, path = "/api/v1/inbox/count", tag = "inbox",
    responses((status = 200, body = CountOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn inbox_count(State(st): State<AppState>, Api(who): Api) -> Response {
    match notify::unread_count(&st.app, &who).await {
        Ok(unread) => json_ok(&CountOut { unread }),
        Err(e) => error_response(&e),
    }
}

/// Mark a line read.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", tag = "inbox",
    params(("id" = i64, Path, description = "Inbox line id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn inbox_read(State(st): State<AppState>, Api(who): Api, PathId(id): PathId) -> Response {
    match notify::mark_read(&st.app, &who, id).await {
        Ok(()) => json_ok(&Done {
            id: Some(id),
            number: None,
        }),
        Err(e) => error_response(&e),
    }
}
