//! `/api/v1/matters`: the filtered list with cursor paging, 立项 with an Idempotency-Key, and one
//! matter with its timeline and an `ETag`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use taizhang_app::ledger::matters::{DeadlineInput, NewMilestone};
use taizhang_app::ledger::{self, MatterDetail, NewMatter, list::MatterQuery};
use taizhang_app::{AppError, Caller};
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiQuery, PathId, bad, etag_of, header_value};
use super::types::{
    Created, ErrorBody, MatterDetailOut, MatterList, MatterOut, NewMatterIn, TimelineEvent,
};
use super::{error_response, json_ok_sized};
use crate::AppState;
use crate::session::Api;

/// Filters, sort and paging of the matter list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Status codes, comma-separated (`in_progress,assigned`).
    status: Option<String>,
    /// `green`, `yellow`, `red`, `grey`.
    light: Option<String>,
    /// Only matters past their deadline and still held.
    overdue: Option<bool>,
    /// Lead or assisting unit id.
    unit: Option<i64>,
    /// Leader in charge (person id).
    leader: Option<i64>,
    /// 任务来源 code.
    source: Option<String>,
    /// Text in title, content, latest progress or number (`%` and `_` are literal).
    q: Option<String>,
    year: Option<i64>,
    /// Deadline strictly before this date (`YYYY-MM-DD`).
    due_before: Option<String>,
    /// `deadline`, `number`, `updated`, `created`, `urgency`; `-` in front for descending.
    sort: Option<String>,
    /// Page size 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `next_cursor`.
    cursor: Option<String>,
    /// Add `total` (the number of matching matters).
    with_total: Option<bool>,
    /// Only the 子事项 of this matter.
    parent: Option<i64>,
    /// Only top-level matters (no 子事项).
    top_only: Option<bool>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    o: i64,
    f: String,
}

fn fingerprint(p: &ListParams, limit: i64) -> String {
    let s = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{limit}|{:?}|{:?}",
        p.status,
        p.light,
        p.overdue,
        p.unit,
        p.leader,
        p.source,
        p.q,
        p.year,
        p.due_before,
        p.sort,
        p.parent,
        p.top_only
    );
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

fn bad_cursor() -> Response {
    bad(
        StatusCode::BAD_REQUEST,
        "bad_cursor",
        Some("cursor"),
        "cursor 无效或与查询条件不符",
    )
}

fn to_query(p: &ListParams, limit: i64, offset: i64) -> Result<MatterQuery, AppError> {
    let (sort, desc) = match p.sort.as_deref() {
        Some(s) => match s.strip_prefix('-') {
            Some(k) => (Some(k.to_owned()), true),
            None => (Some(s.to_owned()), false),
        },
        None => (None, false),
    };
    let deadline_to = match &p.due_before {
        Some(d) => {
            let d = ledger::parse_date("due_before", d)?;
            let before = d
                .yesterday()
                .map_err(|_| AppError::invalid("due_before", "date", "日期超出范围"))?;
            Some(before.to_string())
        }
        None => None,
    };
    let statuses = p
        .status
        .as_deref()
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(MatterQuery {
        year: p.year,
        unit_id: p.unit,
        leader_id: p.leader,
        source: p.source.clone(),
        statuses,
        light: p.light.clone(),
        overdue: p.overdue.unwrap_or(false),
        q: p.q.clone(),
        deadline_to,
        sort,
        desc,
        page: u32::try_from(offset / limit + 1).unwrap_or(u32::MAX),
        per_page: u32::try_from(limit).unwrap_or(50),
        parent_id: p.parent,
        top_only: p.top_only.unwrap_or(false),
        ..Default::default()
    })
}

/// List matters in the caller's scope.
#[utoipa::path(get, path = "/api/v1/matters", tag = "matters", params(ListParams),
    responses((status = 200, body = MatterList), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_matters(
    State(st): State<AppState>,
    Api(who): Api,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Response {
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        let e = AppError::invalid("limit", "limit_out_of_range", "limit 须为 1–200");
        return error_response(&e);
    }
    let fp = fingerprint(&p, limit);
    let offset = match &p.cursor {
        None => 0,
        Some(c) => match URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
        {
            Some(cur) if cur.f == fp && cur.o >= 0 && cur.o % limit == 0 && cur.o < 1 << 40 => {
                cur.o
            }
            _ => return bad_cursor(),
        },
    };
    let q = match to_query(&p, limit, offset) {
        Ok(q) => q,
        Err(e) => return error_response(&e),
    };
    // The total is counted only when asked for; otherwise one row past the page says whether a
    // next page exists.
    let (rows, total, more) = if p.with_total.unwrap_or(false) {
        match ledger::list::list_matters(&st.app, &who, &q).await {
            Ok(page) => {
                let seen = offset + i64::try_from(page.rows.len()).unwrap_or(0);
                (page.rows, Some(page.total), seen < page.total)
            }
            Err(e) => return error_response(&e),
        }
    } else {
        match ledger::list::list_slice(&st.app, &who, &q).await {
            Ok(slice) => (slice.rows, None, slice.more),
            Err(e) => return error_response(&e),
        }
    };
    let seen = offset + i64::try_from(rows.len()).unwrap_or(0);
    let next_cursor = (more && !rows.is_empty()).then(|| {
        let c = Cursor { o: seen, f: fp };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap_or_default())
    });
    let capacity = 256 + rows.len() * 1536;
    json_ok_sized(
        &MatterList {
            items: rows.into_iter().map(MatterOut::from).collect(),
            next_cursor,
            total,
        },
        capacity,
    )
}

fn new_matter(b: NewMatterIn) -> Result<NewMatter, AppError> {
    let deadline = match (b.deadline, b.deadline_workdays, b.deadline_days) {
        (None, None, None) => DeadlineInput::None,
        (Some(d), None, None) => DeadlineInput::Date(d),
        (None, Some(n), None) if (1..=3650).contains(&n) => DeadlineInput::WorkingDays(n),
        (None, None, Some(n)) if (1..=3650).contains(&n) => DeadlineInput::CalendarDays(n),
        _ => {
            return Err(AppError::invalid(
                "deadline",
                "deadline",
                "deadline、deadline_workdays、deadline_days 只能填一个（天数 1–3650）",
            ));
        }
    };
    let mut m = match b.parent_id {
        // A 子事项 inherits 任务来源 (and 来源文件, 牵头领导) unless given.
        Some(p) => NewMatter::sub(&b.title, p, b.lead_unit_id, deadline),
        None => NewMatter::basic(&b.title, b.lead_unit_id, deadline),
    };
    m.content = b.content;
    if let Some(s) = b.source_category {
        m.source_category = s;
    }
    m.source_doc = b.source_doc;
    m.lead_leader_id = b.lead_leader_id;
    m.assisting_unit_ids = b.assisting_unit_ids;
    m.handler_ids = b.handler_ids;
    if let Some(u) = b.urgency {
        m.urgency = u;
    }
    m.major = b.major;
    if let Some(f) = b.feedback_cycle {
        m.feedback_cycle = f;
    }
    if let Some(l) = b.label {
        m.label = l;
    }
    m.parent_id = b.parent_id;
    m.remarks = b.remarks;
    m.milestones = b
        .milestones
        .into_iter()
        .map(|x| NewMilestone {
            title: x.title,
            due_on: x.due_on,
            owner_id: x.owner_id,
        })
        .collect();
    Ok(m)
}

fn created(id: i64, body: String, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
    (
        status,
        [
            (header::CONTENT_TYPE, header_value("application/json")),
            (
                header::LOCATION,
                header_value(&format!("/api/v1/matters/{id}")),
            ),
        ],
        body,
    )
        .into_response()
}

/// 立项 (a draft). With `Idempotency-Key`, a repeat of the same body answers the first response;
/// the same key with another body is refused with 422 `idempotency_mismatch`.
#[utoipa::path(post, path = "/api/v1/matters", tag = "matters", request_body = NewMatterIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Created), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_matter(
    State(st): State<AppState>,
    Api(who): Api,
    headers: HeaderMap,
    body: ApiJson<NewMatterIn>,
) -> Response {
    let input = match new_matter(body.value) {
        Ok(m) => m,
        Err(e) => return error_response(&e),
    };
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let render = |id: i64| (201u16, serde_json::json!({ "id": id }).to_string());
    let result = match key {
        None => taizhang_app::ledger::create_matter(&st.app, &who, input)
            .await
            .map(|id| (id, render(id))),
        Some(k) => {
            taizhang_app::directory::create_matter_once(&st.app, &who, k, &body.raw, input, render)
                .await
                .map(|r| {
                    let id = serde_json::from_str::<Created>(&r.body).map_or(0, |c| c.id);
                    (id, (r.status, r.body))
                })
        }
    };
    match result {
        Ok((id, (status, body))) => created(id, body, status),
        Err(e) => error_response(&e),
    }
}

/// The API shape of a matter's record, with the steps `who` may take now.
pub fn detail_out(who: &Caller, d: MatterDetail) -> MatterDetailOut {
    let actions = taizhang_app::ledger::actions::actions_for(who, &d)
        .into_iter()
        .map(|a| a.code.to_owned())
        .collect();
    MatterDetailOut {
        assisting_unit_ids: d.assisting_unit_ids.clone(),
        handler_ids: d.handler_ids.clone(),
        milestones: arr(&d.milestones),
        reports: arr(&d.reports),
        extensions: arr(&d.extensions),
        urges: arr(&d.urges),
        notices: arr(&d.notices),
        effects: arr(&d.effects),
        actions,
        parent: d.parent.map(|p| super::types::ParentOut {
            id: p.id,
            number: p.number,
            title: p.title,
        }),
        children: d.children.into_iter().map(MatterOut::from).collect(),
        timeline: d.events.into_iter().map(TimelineEvent::from).collect(),
        matter: MatterOut::from(d.matter),
    }
}

/// Stored rows as JSON objects.
fn arr<T: Serialize>(rows: &[T]) -> Vec<serde_json::Value> {
    rows.iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect()
}

/// The body and ETag of a matter as `who` sees it.
pub async fn current(st: &AppState, who: &Caller, id: i64) -> Result<(Vec<u8>, String), AppError> {
    let d = ledger::get_matter(&st.app, who, id).await?;
    let mut body = Vec::with_capacity(16 * 1024);
    serde_json::to_writer(&mut body, &detail_out(who, d))
        .map_err(|e| AppError::Internal(format!("matter json: {e}")))?;
    let tag = etag_of(&body);
    Ok((body, tag))
}

/// One matter with its timeline. Answers `ETag`; `If-None-Match` with it gives 304.
#[utoipa::path(get, path = "/api/v1/matters/{id}", tag = "matters",
    params(("id" = i64, Path, description = "Matter id")),
    responses((status = 200, body = MatterDetailOut, headers(("ETag" = String))),
        (status = 304), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_matter(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Response {
    let (body, tag) = match current(&st, &who, id).await {
        Ok(x) => x,
        Err(e) => return error_response(&e),
    };
    let etag = header_value(&tag);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, header_value("application/json")),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}
