//! The four cadences over the API: 日清查 lists, 周小结, 月盘点, 年度归零, and the working-day
//! calculator. Each calls the use case the cadence pages call.

use axum::extract::State;
use axum::response::Response;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use taizhang_app::AppError;
use taizhang_app::ledger::{self, calendar, daily, monthly, weekly, year};
use taizhang_domain::period::PeriodKey;
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiQuery, PathId};
use super::types::{DayIn, DecisionIn, Done, ErrorBody, Payload, PeriodIn, WorkdaysOut, YearIn};
use super::{error_response, json_ok};
use crate::AppState;
use crate::session::Api;

fn payload<T: Serialize>(r: Result<T, AppError>) -> Response {
    match r
        .and_then(|v| serde_json::to_value(v).map_err(|e| AppError::Internal(format!("json: {e}"))))
    {
        Ok(data) => json_ok(&Payload { data }),
        Err(e) => error_response(&e),
    }
}

fn day_or_today(st: &AppState, day: Option<&str>) -> Result<Date, AppError> {
    match day {
        Some(d) => ledger::parse_date("day", d),
        None => Ok(ledger::today(&st.app)),
    }
}

fn period(field: &str, s: &str, week: bool) -> Result<PeriodKey, AppError> {
    let p = PeriodKey::parse(s.trim())
        .map_err(|e| AppError::invalid(field, "period", e.to_string()))?;
    match (p, week) {
        (PeriodKey::Week { .. }, true) | (PeriodKey::Month { .. }, false) => Ok(p),
        _ => Err(AppError::invalid(
            field,
            "period",
            if week {
                "周应写作 2026-W12"
            } else {
                "月应写作 2026-03"
            },
        )),
    }
}

/// `?day=YYYY-MM-DD&unit=ID&limit=N&offset=N`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DayParams {
    /// Default today.
    day: Option<String>,
    unit: Option<i64>,
    /// Items per response, 1–5000 (default 1000): a department's day at 10^6 matters is
    /// 780,000 items. Fewer than `limit` items means the list ends.
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
    /// Items to skip (default 0).
    offset: Option<u32>,
}

/// The recorded check list of a day (日清查).
#[utoipa::path(get, path = "/api/v1/daily-checks", tag = "cadences", params(DayParams),
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn daily_list(
    State(st): State<AppState>,
    Api(who): Api,
    ApiQuery(p): ApiQuery<DayParams>,
) -> Response {
    let r = async {
        let day = day_or_today(&st, p.day.as_deref())?;
        let limit = p.limit.unwrap_or(1000);
        if !(1..=5000).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                "limit_out_of_range",
                "limit 须为 1–5000",
            ));
        }
        let offset = i64::from(p.offset.unwrap_or(0));
        daily::daily_check_slice(&st.app, &who, day, p.unit, i64::from(limit), offset).await
    };
    payload(r.await)
}

/// Run the daily check of a day (idempotent; confirmations are kept).
#[utoipa::path(post, path = "/api/v1/daily-checks", tag = "cadences", request_body = DayIn,
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn daily_run(
    State(st): State<AppState>,
    Api(who): Api,
    body: ApiJson<DayIn>,
) -> Response {
    let r = async {
        let day = day_or_today(&st, body.value.day.as_deref())?;
        daily::run_daily_check(&st.app, &who, day).await
    };
    payload(r.await)
}

/// What was done about a check item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIn {
    pub action: String,
}

/// Confirm one check item.
#[utoipa::path(post, path = "/api/v1/daily-checks/items/{id}/confirm", tag = "cadences",
    request_body = ConfirmIn, params(("id" = i64, Path, description = "Check item id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn daily_confirm(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    body: ApiJson<ConfirmIn>,
) -> Response {
    match daily::confirm_check_item(&st.app, &who, id, &body.value.action).await {
        Ok(()) => json_ok(&Done {
            id: Some(id),
            number: None,
        }),
        Err(e) => error_response(&e),
    }
}

/// `?period=2026-W12` or `?period=2026-03`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    period: String,
}

/// The weekly summaries (周小结) of a week.
#[utoipa::path(get, path = "/api/v1/weekly-summaries", tag = "cadences", params(PeriodParams),
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn weekly_list(
    State(st): State<AppState>,
    Api(who): Api,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Response {
    let r = async {
        let key = period("period", &p.period, true)?;
        weekly::list_weekly_summaries(&st.app, &who, &key.to_string()).await
    };
    payload(r.await)
}

/// Draft the weekly summaries of a week.
#[utoipa::path(post, path = "/api/v1/weekly-summaries", tag = "cadences", request_body = PeriodIn,
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn weekly_run(
    State(st): State<AppState>,
    Api(who): Api,
    body: ApiJson<PeriodIn>,
) -> Response {
    let r = async {
        let key = period("period", &body.value.period, true)?;
        weekly::run_weekly_summary(&st.app, &who, key, ledger::today(&st.app)).await
    };
    payload(r.await)
}

/// Submit a weekly summary for approval.
#[utoipa::path(post, path = "/api/v1/weekly-summaries/{id}/submit", tag = "cadences",
    params(("id" = i64, Path, description = "Summary id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn weekly_submit(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
) -> Response {
    match weekly::submit_weekly_summary(&st.app, &who, id).await {
        Ok(()) => json_ok(&Done {
            id: Some(id),
            number: None,
        }),
        Err(e) => error_response(&e),
    }
}

/// Approve (or send back) a weekly summary.
#[utoipa::path(post, path = "/api/v1/weekly-summaries/{id}/approve", tag = "cadences",
    request_body = DecisionIn, params(("id" = i64, Path, description = "Summary id")),
    responses((status = 200, body = Done), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn weekly_approve(
    State(st): State<AppState>,
    Api(who): Api,
    PathId(id): PathId,
    body: ApiJson<DecisionIn>,
) -> Response {
    match weekly::approve_weekly_summary(&st.app, &who, id, body.value.approve).await {
        Ok(()) => json_ok(&Done {
            id: Some(id),
            number: None,
        }),
        Err(e) => error_response(&e),
    }
}

/// A frozen monthly stock-take (月盘点).
#[utoipa::path(get, path = "/api/v1/monthly-stocktakes", tag = "cadences", params(PeriodParams),
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn monthly_get(
    State(st): State<AppState>,
    Api(who): Api,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Response {
    let r = async {
        let key = period("period", &p.period, false)?;
        monthly::get_monthly_snapshot(&st.app, &who, &key.to_string())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("{key} 月盘点")))
    };
    payload(r.await)
}

/// Take (freeze) the stock-take of a month.
#[utoipa::path(post, path = "/api/v1/monthly-stocktakes", tag = "cadences", request_body = PeriodIn,
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn monthly_take(
    State(st): State<AppState>,
    Api(who): Api,
    body: ApiJson<PeriodIn>,
) -> Response {
    let r = async {
        let key = period("period", &body.value.period, false)?;
        monthly::take_monthly_snapshot(&st.app, &who, key, ledger::today(&st.app)).await
    };
    payload(r.await)
}

/// `?year=2026`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearParams {
    #[param(minimum = 2000, maximum = 2100)]
    year: i64,
}

/// The 年度归零 report of a closed year.
#[utoipa::path(get, path = "/api/v1/year-close", tag = "cadences", params(YearParams),
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn year_get(
    State(st): State<AppState>,
    Api(who): Api,
    ApiQuery(p): ApiQuery<YearParams>,
) -> Response {
    let r = async {
        year::year_report(&st.app, &who, p.year)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("{}年度归零", p.year)))
    };
    payload(r.await)
}

/// 年度归零: close a year (refused while matters are open).
#[utoipa::path(post, path = "/api/v1/year-close", tag = "cadences", request_body = YearIn,
    responses((status = 200, body = Payload), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn year_close(
    State(st): State<AppState>,
    Api(who): Api,
    body: ApiJson<YearIn>,
) -> Response {
    payload(year::close_year(&st.app, &who, body.value.year).await)
}

/// `?start=YYYY-MM-DD&days=N`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkdayParams {
    start: String,
    #[param(minimum = 0, maximum = 3650)]
    days: i64,
}

/// The date N working days after `start` (法定节假日 and 调休 included).
#[utoipa::path(get, path = "/api/v1/calendar/add-workdays", tag = "calendar", params(WorkdayParams),
    responses((status = 200, body = WorkdaysOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_workdays(
    State(st): State<AppState>,
    Api(_who): Api,
    ApiQuery(p): ApiQuery<WorkdayParams>,
) -> Response {
    let r = async {
        let start = ledger::parse_date("start", &p.start)?;
        let days = u32::try_from(p.days)
            .ok()
            .filter(|d| *d <= 3650)
            .ok_or_else(|| AppError::invalid("days", "days_out_of_range", "days 须为 0–3650"))?;
        let (date, provisional) = calendar::add_workdays(&st.app, start, days).await?;
        Ok::<_, AppError>(WorkdaysOut {
            start: start.to_string(),
            days,
            date: date.to_string(),
            provisional,
        })
    };
    match r.await {
        Ok(out) => json_ok(&out),
        Err(e) => error_response(&e),
    }
}
