//! `/api/v1/settings/light-thresholds`: the light thresholds per 任务来源 (read by everyone who
//! reads the ledger, replaced by 系统管理员), the same use case as the admin page.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use taizhang_app::ledger::thresholds;
use taizhang_app::{AppError, Caller};
use taizhang_domain::light::{LightRules, LightTable};
use taizhang_domain::matter::SourceCategory;
use utoipa::ToSchema;

use super::extract::ApiJson;
use super::types::ErrorBody;
use super::{error_response, json_ok};
use crate::AppState;
use crate::session::Api;

/// One row of thresholds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRow {
    /// Yellow when the deadline is within this many working days (0–250).
    #[schema(minimum = 0, maximum = 250)]
    pub yellow_within_workdays: u32,
    /// Yellow from this many points behind 序时进度 (less than `lag_red_points`).
    #[schema(minimum = 0, maximum = 99)]
    pub lag_yellow_points: u8,
    /// Red when more than this many points behind (at most 100).
    #[schema(minimum = 1, maximum = 100)]
    pub lag_red_points: u8,
}

impl From<LightRules> for ThresholdRow {
    fn from(r: LightRules) -> Self {
        ThresholdRow {
            yellow_within_workdays: r.yellow_within_workdays,
            lag_yellow_points: r.lag_yellow_points,
            lag_red_points: r.lag_red_points,
        }
    }
}

impl From<&ThresholdRow> for LightRules {
    fn from(r: &ThresholdRow) -> Self {
        LightRules {
            yellow_within_workdays: r.yellow_within_workdays,
            lag_yellow_points: r.lag_yellow_points,
            lag_red_points: r.lag_red_points,
        }
    }
}

/// The rules in force for one 任务来源.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryThresholds {
    /// 任务来源 code, e.g. `leader_instruction`.
    pub category: String,
    pub label: String,
    /// `false`: the category uses the default row.
    pub own: bool,
    /// The rules in force (its own row, or the default). Nested rather than flattened: the
    /// row's schema forbids other properties, which a flattened object would break.
    pub rules: ThresholdRow,
}

/// The thresholds: the default row and, per category, the rules in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdsOut {
    pub default: ThresholdRow,
    pub categories: Vec<CategoryThresholds>,
}

/// New thresholds: the default row, and the categories that get their own row (by code).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsIn {
    pub default: ThresholdRow,
    #[serde(default)]
    pub categories: BTreeMap<String, ThresholdRow>,
}

fn out_of(t: &LightTable) -> ThresholdsOut {
    ThresholdsOut {
        default: t.default.into(),
        categories: SourceCategory::ALL
            .iter()
            .map(|c| CategoryThresholds {
                category: c.code().to_owned(),
                label: c.label_zh().to_owned(),
                own: t.own(*c).is_some(),
                rules: t.own(*c).unwrap_or(t.default).into(),
            })
            .collect(),
    }
}

async fn answer(st: &AppState, who: &Caller) -> Response {
    match thresholds::thresholds(&st.app, who).await {
        Ok(t) => json_ok(&out_of(&t)),
        Err(e) => error_response(&e),
    }
}

/// The light thresholds in force.
#[utoipa::path(get, path = "/api/v1/settings/light-thresholds", tag = "settings",
    responses((status = 200, body = ThresholdsOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_thresholds(State(st): State<AppState>, Api(who): Api) -> Response {
    answer(&st, &who).await
}

/// Replace the light thresholds (系统管理员). Validated: 0 ≤ N ≤ 250, yellow lag < red lag ≤ 100.
/// Audited; every node uses them from its next request.
#[utoipa::path(put, path = "/api/v1/settings/light-thresholds", tag = "settings",
    request_body = ThresholdsIn,
    responses((status = 200, body = ThresholdsOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_thresholds(
    State(st): State<AppState>,
    Api(who): Api,
    body: ApiJson<ThresholdsIn>,
) -> Response {
    let b = body.value;
    let mut t = LightTable::new((&b.default).into());
    for (code, row) in &b.categories {
        match SourceCategory::parse(code) {
            Ok(c) => t.set(c, Some(row.into())),
            Err(e) => {
                let e = AppError::invalid("categories", "unknown_code", e.to_string());
                return error_response(&e);
            }
        }
    }
    match thresholds::set_thresholds(&st.app, &who, t).await {
        Ok(_) => answer(&st, &who).await,
        Err(e) => error_response(&e),
    }
}
