//! `PATCH /api/v1/matters/{id}`: 修改台账. Only the fields sent change. The edit must name the
//! state it was made on: `If-Match` with the matter's `ETag`, or `version` in the body (or
//! both); without either it is refused (428), with a stale one it changes nothing (412 for the
//! ETag, 409 `conflict` for the version).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};
use taizhang_app::AppError;
use taizhang_app::ledger::edit::{self, MatterEdit, MilestoneEdit};
use taizhang_app::ledger::matters::DeadlineInput;
use utoipa::ToSchema;

use super::extract::{
    ApiJson, PathId, bad, etag_of, has_if_match, header_value, if_match_ok, precondition_failed,
};
use super::matters::current;
use super::types::ErrorBody;
use super::{error_response, json_ok};
use crate::AppState;
use crate::session::Api;

/// `null` kept apart from "absent": absent → `None`, `null` → `Some(None)`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A 节点 as edited: with `id` an unfinished 节点 of the matter, without a new one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneEditIn {
    #[serde(default)]
    pub id: Option<i64>,
    pub title: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    #[serde(default)]
    pub owner_id: Option<i64>,
}

/// 修改台账: every field optional, only those sent change. Deadline (only before 交办): at most
/// one of `deadline`, `deadline_workdays`, `deadline_days`, `no_deadline: true`.
/// `milestones`, when sent, is the whole list of unfinished 节点 wanted (finished ones stay).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatterEditIn {
    /// The version the edit was made on (`matter.version` of `GET /api/v1/matters/{id}`).
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub source_category: Option<String>,
    #[serde(default)]
    pub source_doc: Option<String>,
    /// `null` clears the 牵头领导.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub lead_leader_id: Option<Option<i64>>,
    #[serde(default)]
    pub lead_unit_id: Option<i64>,
    #[serde(default)]
    pub assisting_unit_ids: Option<Vec<i64>>,
    #[serde(default)]
    pub handler_ids: Option<Vec<i64>>,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub deadline_workdays: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub deadline_days: Option<u32>,
    /// `true`: 长期事项 (no deadline).
    #[serde(default)]
    pub no_deadline: bool,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub major: Option<bool>,
    #[serde(default)]
    pub feedback_cycle: Option<String>,
    #[serde(default)]
    pub remarks: Option<String>,
    #[serde(default)]
    pub milestones: Option<Vec<MilestoneEditIn>>,
}

/// What the edit changed, and the version the matter is at now.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditDoneOut {
    /// Labels of the changed fields (empty: nothing to change, nothing written).
    pub changed: Vec<String>,
    pub version: i64,
}

fn to_edit(b: MatterEditIn) -> Result<MatterEdit, AppError> {
    let deadline = match (
        b.deadline,
        b.deadline_workdays,
        b.deadline_days,
        b.no_deadline,
    ) {
        (None, None, None, false) => None,
        (None, None, None, true) => Some(DeadlineInput::None),
        (Some(d), None, None, false) => Some(DeadlineInput::Date(d)),
        (None, Some(n), None, false) if (1..=3650).contains(&n) => {
            Some(DeadlineInput::WorkingDays(n))
        }
        (None, None, Some(n), false) if (1..=3650).contains(&n) => {
            Some(DeadlineInput::CalendarDays(n))
        }
        _ => {
            return Err(AppError::invalid(
                "deadline",
                "deadline",
                "deadline、deadline_workdays、deadline_days、no_deadline 只能填一个（天数 1–3650）",
            ));
        }
    };
    Ok(MatterEdit {
        title: b.title,
        content: b.content,
        source_category: b.source_category,
        source_doc: b.source_doc,
        lead_leader_id: b.lead_leader_id,
        lead_unit_id: b.lead_unit_id,
        assisting_unit_ids: b.assisting_unit_ids,
        handler_ids: b.handler_ids,
        deadline,
        urgency: b.urgency,
        major: b.major,
        feedback_cycle: b.feedback_cycle,
        remarks: b.remarks,
        milestones: b.milestones.map(|v| {
            v.into_iter()
                .map(|m| MilestoneEdit {
                    id: m.id,
                    title: m.title,
                    due_on: m.due_on,
                    owner_id: m.owner_id,
                })
                .collect()
        }),
    })
}

/// 修改台账. Answers the changed fields and the new version, with the matter's new `ETag`.
#[utoipa::path(patch, path = "/api/v1/matters/{id}", tag = "matters", request_body = MatterEditIn,
    params(("id" = i64, Path, description = "Matter id"),
        ("If-Match" = Option<String>, Header, description = "The matter's ETag (or send `version`)")),
    responses((status = 200, body = EditDoneOut, headers(("ETag" = String))),
        (status = 409, body = ErrorBody, description = "`version` is stale"),
        (status = 412, body = ErrorBody, description = "`If-Match` is stale"),
        (status = 428, body = ErrorBody, description = "Neither `If-Match` nor `version`"),
        (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_matter(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    headers: HeaderMap,
    body: ApiJson<MatterEditIn>,
) -> Response {
    let b = body.value;
    let mut version = b.version;
    if has_if_match(&headers) {
        let d = match taizhang_app::ledger::get_matter(&st.app, &who, id).await {
            Ok(d) => d,
            Err(e) => return error_response(&e),
        };
        let at = d.matter.row.version;
        let Ok(json) = serde_json::to_vec(&super::matters::detail_out(&who, d)) else {
            return error_response(&AppError::Internal("matter json".into()));
        };
        if !if_match_ok(&headers, &etag_of(&json)) {
            return precondition_failed();
        }
        if version.is_some_and(|v| v != at) {
            return error_response(&AppError::Conflict(format!(
                "version 与 If-Match 不一致（当前第{at}版）"
            )));
        }
        version = Some(at);
    }
    let Some(version) = version else {
        return bad(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            Some("If-Match"),
            "修改须带 If-Match（事项的 ETag）或请求体中的 version",
        );
    };
    let edit = match to_edit(b) {
        Ok(e) => e,
        Err(e) => return error_response(&e),
    };
    match edit::edit_matter(&st.app, &who, id, version, edit).await {
        Ok(out) => {
            let mut r = json_ok(&EditDoneOut {
                changed: out.changed,
                version: out.version,
            });
            if let Ok((_, tag)) = current(&st, &who, id).await {
                r.headers_mut().insert(header::ETAG, header_value(&tag));
            }
            r.into_response()
        }
        Err(e) => error_response(&e),
    }
}
