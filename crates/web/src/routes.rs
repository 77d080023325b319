//! Every route, with who may reach it. The router is built from this table and the
//! authorization matrix test walks it, so a route cannot exist without an entry.

use std::sync::OnceLock;

use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use taizhang_domain::policy::Role;

use crate::{
    AppState, admin_pages as admin, admin_units as units, api, auth_pages as auth, metrics, pages,
};

/// Who may reach a route (the coarse gate; use cases apply the fine policy and data scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// A session at any login step (second factor, password change).
    Step,
    /// Any fully logged-in user; the use case decides the rest.
    User,
    /// Only these roles (others get 403/404 from the use case, audited as denied).
    Roles(&'static [Role]),
}

pub struct RouteEntry {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub handler: MethodRouter<AppState>,
}

/// What a route moves, which sets its time limit and body cap ([`crate::layers::limit_route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// Pages, forms and JSON: the ordinary timeout and body cap.
    Ordinary,
    /// A file coming in: the longer timeout; the handler refuses a body over the limit in force
    /// in its own words (page or JSON), never the bare 413 of the cap.
    Upload,
    /// A file being built or sent (exports, reports, 佐证材料): the longer timeout.
    Download,
}

impl RouteEntry {
    /// Whether the route changes something (and so must refuse 纪检监察).
    pub fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD)
    }

    /// What the route moves (every route not named here is ordinary).
    pub fn transfer(&self) -> Transfer {
        match (&self.method, self.path) {
            (
                &Method::POST,
                "/matters/{id}/attachments" | "/api/v1/matters/{id}/attachments" | "/import",
            ) => Transfer::Upload,
            (
                &Method::GET,
                "/attachments/{id}"
                | "/api/v1/attachments/{id}"
                | "/matters/export.xlsx"
                | "/matters/export.csv",
            ) => Transfer::Download,
            (&Method::GET, p) if p.starts_with("/reports/") => Transfer::Download,
            _ => Transfer::Ordinary,
        }
    }
}

const ADMINS: &[Role] = &[Role::SysAdmin, Role::SecAdmin];
const PEOPLE_ADMIN: &[Role] = &[Role::SysAdmin];
const GRANTS_ADMIN: &[Role] = &[Role::SecAdmin];
const AUDIT_READERS: &[Role] = &[Role::AuditAdmin, Role::Inspector];

macro_rules! r {
    ($m:ident $path:literal $access:expr, $h:expr) => {
        RouteEntry {
            method: Method::$m,
            path: $path,
            access: $access,
            handler: if Method::$m == Method::GET {
                get($h)
            } else {
                post($h)
            },
        }
    };
}

pub fn table() -> Vec<RouteEntry> {
    use Access::*;
    vec![
        r!(GET "/" Public, pages::home),
        r!(GET "/healthz" Public, pages::healthz),
        r!(GET "/readyz" Public, pages::readyz),
        r!(GET "/metrics" Public, metrics::render),
        r!(GET "/login" Public, auth::login_page),
        r!(POST "/login" Public, auth::login_submit),
        r!(POST "/logout" Step, auth::logout),
        r!(GET "/login/totp" Step, auth::totp_page),
        r!(POST "/login/totp" Step, auth::totp_submit),
        r!(GET "/account/totp" Step, auth::enrol_page),
        r!(POST "/account/totp" Step, auth::enrol_submit),
        r!(GET "/account/next" Step, auth::after_enrol),
        r!(GET "/account/password" Step, auth::password_page),
        r!(POST "/account/password" Step, auth::password_submit),
        r!(GET "/admin" Roles(ADMINS), admin::admin_home),
        r!(POST "/admin/people" Roles(PEOPLE_ADMIN), admin::create_person),
        r!(POST "/admin/people/{id}/reset" Roles(PEOPLE_ADMIN), admin::reset_person),
        r!(POST "/admin/people/{id}/disable" Roles(PEOPLE_ADMIN), admin::disable_person),
        r!(POST "/admin/people/{id}/enable" Roles(PEOPLE_ADMIN), admin::enable_person),
        r!(POST "/admin/people/{id}/unlock" Roles(PEOPLE_ADMIN), admin::unlock_person),
        r!(POST "/admin/people/{id}/roles" Roles(GRANTS_ADMIN), admin::set_roles),
        r!(POST "/admin/people/{id}/clearance" Roles(GRANTS_ADMIN), units::set_clearance),
        r!(POST "/admin/matter-label" Roles(GRANTS_ADMIN), units::set_matter_label),
        r!(GET "/admin/units" Roles(PEOPLE_ADMIN), units::units_page),
        r!(POST "/admin/units" Roles(PEOPLE_ADMIN), units::create_unit),
        r!(POST "/admin/units/{id}/rename" Roles(PEOPLE_ADMIN), units::rename_unit),
        r!(POST "/admin/units/{id}/move" Roles(PEOPLE_ADMIN), units::move_unit),
        r!(POST "/admin/units/{id}/retire" Roles(PEOPLE_ADMIN), units::retire_unit),
        r!(POST "/admin/units/{id}/leader" Roles(PEOPLE_ADMIN), units::set_leader),
        r!(GET "/admin/tokens" User, admin::tokens),
        r!(POST "/admin/tokens" User, admin::create_token),
        r!(POST "/admin/tokens/{id}/revoke" User, admin::revoke_token),
        r!(GET "/audit" Roles(AUDIT_READERS), admin::audit_search),
        // --- notifications: 通知渠道, 投递记录 (administrators), 通知设置 (everyone) ---
        r!(GET "/admin/notify" Roles(PEOPLE_ADMIN), crate::notify_pages::targets),
        r!(POST "/admin/notify/targets" Roles(PEOPLE_ADMIN), crate::notify_pages::create_target),
        r!(GET "/admin/notify/targets/{id}" Roles(PEOPLE_ADMIN), crate::notify_pages::edit_target),
        r!(POST "/admin/notify/targets/{id}" Roles(PEOPLE_ADMIN), crate::notify_pages::update_target),
        r!(POST "/admin/notify/targets/{id}/enable" Roles(PEOPLE_ADMIN), crate::notify_pages::enable_target),
        r!(POST "/admin/notify/targets/{id}/disable" Roles(PEOPLE_ADMIN), crate::notify_pages::disable_target),
        r!(POST "/admin/notify/targets/{id}/test" Roles(PEOPLE_ADMIN), crate::notify_pages::test_target),
        r!(GET "/admin/deliveries" Roles(ADMINS), crate::notify_pages::deliveries),
        r!(GET "/account/notifications" User, crate::notify_pages::my_prefs_page),
        r!(POST "/account/notifications" User, crate::notify_pages::save_my_prefs),
        // --- ledger pages: 工作台, 台账, 事项 (ledger UI) ---
        r!(GET "/desk" User, crate::ledger_pages::desk),
        r!(POST "/desk/checks/{id}" User, crate::ledger_pages::confirm_check),
        r!(GET "/matters" User, crate::ledger_pages::list_page),
        // --- 常用视图: saved ledger filters of the logged-in person ---
        r!(POST "/matters/views" User, crate::ledger_pages::save_view),
        r!(POST "/matters/views/delete" User, crate::ledger_pages::delete_view),
        r!(GET "/matters/new" User, crate::matter_new::new_form),
        r!(POST "/matters/new" User, crate::matter_new::create),
        r!(GET "/matters/deadline" User, crate::matter_new::deadline_helper),
        r!(GET "/matters/{id}" User, crate::matter_pages::show),
        r!(GET "/matters/{id}/act/{action}" User, crate::matter_pages::act_form),
        r!(POST "/matters/{id}/act/{action}" User, crate::matter_pages::act_submit),
        // --- 修改台账 (子事项 are created on /matters/new?parent=) ---
        r!(GET "/matters/{id}/edit" User, crate::matter_edit::edit_form),
        r!(POST "/matters/{id}/edit" User, crate::matter_edit::edit_submit),
        // --- closed loop on the record: 督办单回复, 进展审核, 节点完成 ---
        r!(POST "/matters/{id}/notices/{nid}/answer" User, crate::matter_loop::answer_notice),
        r!(POST "/matters/{id}/reports/{rid}/review" User, crate::matter_loop::review_report),
        r!(POST "/matters/{id}/milestones/{mid}/done" User, crate::matter_loop::complete_milestone),
        // --- 佐证材料: upload (multipart, its own body limit), download/preview, withdraw ---
        RouteEntry {
            method: Method::POST,
            path: "/matters/{id}/attachments",
            access: User,
            handler: post(crate::attachment_pages::upload).layer(
                axum::extract::DefaultBodyLimit::max(crate::attachment_pages::BODY_LIMIT),
            ),
        },
        r!(GET "/attachments/{id}" User, crate::attachment_pages::download),
        r!(POST "/attachments/{id}/remove" User, crate::attachment_pages::remove),
        // --- cadence pages: 日清查, 周小结, 月盘点, 年度归零, calendar admin ---
        r!(GET "/checks" User, crate::cadence_pages::checks_page),
        r!(POST "/checks/run" User, crate::cadence_pages::run_checks),
        r!(POST "/checks/{id}/confirm" User, crate::cadence_pages::confirm_check),
        r!(GET "/weekly" User, crate::weekly_pages::weekly_page),
        r!(POST "/weekly/run" User, crate::weekly_pages::run_weekly),
        r!(GET "/weekly/{id}" User, crate::weekly_pages::weekly_show),
        r!(POST "/weekly/{id}/edit" User, crate::weekly_pages::edit_weekly),
        r!(POST "/weekly/{id}/submit" User, crate::weekly_pages::submit_weekly),
        r!(POST "/weekly/{id}/approve" User, crate::weekly_pages::approve_weekly),
        r!(GET "/monthly" User, crate::report_pages::monthly_page),
        r!(GET "/monthly/print" User, crate::report_pages::monthly_print),
        r!(GET "/monthly/data.json" User, crate::report_pages::monthly_data),
        r!(POST "/monthly/snapshot" User, crate::report_pages::take_snapshot),
        r!(POST "/monthly/bulletin" User, crate::report_pages::issue_bulletin),
        r!(GET "/year-close" User, crate::year_pages::year_page),
        r!(GET "/year-close/print" User, crate::year_pages::year_print),
        r!(POST "/year-close" User, crate::year_pages::close_year),
        r!(GET "/admin/calendar" Roles(PEOPLE_ADMIN), crate::calendar_pages::calendar_page),
        r!(POST "/admin/calendar/day" Roles(PEOPLE_ADMIN), crate::calendar_pages::set_day),
        r!(POST "/admin/calendar/clear" Roles(PEOPLE_ADMIN), crate::calendar_pages::clear_day),
        r!(POST "/admin/calendar/import" Roles(PEOPLE_ADMIN), crate::calendar_pages::import),
        // --- 预警阈值 per 任务来源 ---
        r!(GET "/admin/thresholds" Roles(PEOPLE_ADMIN), crate::threshold_pages::page),
        r!(POST "/admin/thresholds" Roles(PEOPLE_ADMIN), crate::threshold_pages::save),
        r!(GET "/lang" Public, crate::i18n::switch),
        // --- office: import / export / report downloads ---
        r!(GET "/import" User, crate::office_pages::import_page),
        RouteEntry {
            method: Method::POST,
            path: "/import",
            access: User,
            handler: post(crate::office_pages::import_upload).layer(
                axum::extract::DefaultBodyLimit::max(crate::office_pages::MAX_UPLOAD + (1 << 20)),
            ),
        },
        r!(POST "/import/{token}/check" User, crate::office_pages::import_check),
        r!(POST "/import/{token}/apply" User, crate::office_pages::import_apply),
        r!(GET "/matters/export.xlsx" User, crate::office_pages::export_xlsx),
        r!(GET "/matters/export.csv" User, crate::office_pages::export_csv),
        r!(GET "/reports/weekly.docx" User, crate::office_pages::weekly_docx),
        r!(GET "/reports/weekly.xlsx" User, crate::office_pages::weekly_xlsx),
        r!(GET "/reports/monthly.docx" User, crate::office_pages::monthly_docx),
        r!(GET "/reports/monthly.xlsx" User, crate::office_pages::monthly_xlsx),
        r!(GET "/reports/bulletin.docx" User, crate::office_pages::bulletin_docx),
        r!(GET "/reports/annual.docx" User, crate::office_pages::annual_docx),
        r!(GET "/reports/annual.xlsx" User, crate::office_pages::annual_xlsx),
        r!(POST "/api/v1/auth/login" Public, api::login),
        r!(GET "/api/v1/me" User, api::me),
        // --- api v1 ---
        r!(GET "/api/openapi.json" Public, api::doc::openapi_json),
        r!(GET "/api/docs" Public, api::doc::docs_index),
        r!(GET "/api/docs/" Public, api::doc::docs_file),
        r!(GET "/api/docs/{*path}" Public, api::doc::docs_file),
        r!(GET "/api/v1/matters" User, api::matters::list_matters),
        r!(POST "/api/v1/matters" User, api::matters::create_matter),
        r!(GET "/api/v1/matters/{id}" User, api::matters::get_matter),
        RouteEntry {
            method: Method::PATCH,
            path: "/api/v1/matters/{id}",
            access: User,
            handler: axum::routing::patch(api::matter_edit::patch_matter),
        },
        r!(GET "/api/v1/settings/light-thresholds" User, api::thresholds::get_thresholds),
        RouteEntry {
            method: Method::PUT,
            path: "/api/v1/settings/light-thresholds",
            access: User,
            handler: axum::routing::put(api::thresholds::put_thresholds),
        },
        r!(POST "/api/v1/matters/{id}/submit" User, api::steps::submit),
        r!(POST "/api/v1/matters/{id}/approve" User, api::steps::approve),
        r!(POST "/api/v1/matters/{id}/reject" User, api::steps::reject),
        r!(POST "/api/v1/matters/{id}/sign-for" User, api::steps::sign_for),
        r!(POST "/api/v1/matters/{id}/return" User, api::steps::return_assignment),
        r!(POST "/api/v1/matters/{id}/progress" User, api::steps::report_progress),
        r!(POST "/api/v1/matters/{id}/extensions" User, api::steps::request_extension),
        r!(POST "/api/v1/matters/{id}/extensions/decision" User, api::steps::decide_extension),
        r!(POST "/api/v1/matters/{id}/completion" User, api::steps::report_completion),
        r!(POST "/api/v1/matters/{id}/review" User, api::steps::review_completion),
        r!(POST "/api/v1/matters/{id}/urge" User, api::steps::urge),
        r!(POST "/api/v1/matters/{id}/notices" User, api::steps::issue_notice),
        r!(POST "/api/v1/matters/{id}/close-out" User, api::steps::close_out),
        r!(POST "/api/v1/matters/{id}/reopen" User, api::steps::reopen),
        r!(POST "/api/v1/matters/{id}/stop" User, api::steps::request_stop),
        r!(POST "/api/v1/matters/{id}/stop/decision" User, api::steps::decide_stop),
        r!(POST "/api/v1/matters/{id}/carry-over" User, api::steps::carry_over),
        r!(POST "/api/v1/matters/{id}/effects" User, api::steps::review_effect),
        r!(POST "/api/v1/reports/{id}/review" User, api::steps::review_report),
        r!(POST "/api/v1/notices/{id}/answer" User, api::steps::answer_notice),
        r!(GET "/api/v1/daily-checks" User, api::cadence::daily_list),
        r!(POST "/api/v1/daily-checks" User, api::cadence::daily_run),
        r!(POST "/api/v1/daily-checks/items/{id}/confirm" User, api::cadence::daily_confirm),
        r!(GET "/api/v1/weekly-summaries" User, api::cadence::weekly_list),
        r!(POST "/api/v1/weekly-summaries" User, api::cadence::weekly_run),
        r!(POST "/api/v1/weekly-summaries/{id}/submit" User, api::cadence::weekly_submit),
        r!(POST "/api/v1/weekly-summaries/{id}/approve" User, api::cadence::weekly_approve),
        r!(GET "/api/v1/monthly-stocktakes" User, api::cadence::monthly_get),
        r!(POST "/api/v1/monthly-stocktakes" User, api::cadence::monthly_take),
        r!(GET "/api/v1/year-close" User, api::cadence::year_get),
        r!(POST "/api/v1/year-close" User, api::cadence::year_close),
        r!(GET "/api/v1/calendar/add-workdays" User, api::cadence::add_workdays),
        r!(GET "/api/v1/units" User, api::directory::list_units),
        r!(GET "/api/v1/people" User, api::directory::list_people),
        r!(GET "/api/v1/inbox" User, api::directory::inbox),
        r!(GET "/api/v1/inbox/count" User, api::directory::inbox_count),
        r!(POST "/api/v1/inbox/{id}/read" User, api::directory::inbox_read),
        r!(GET "/api/v1/notify/targets" Roles(PEOPLE_ADMIN), api::notify::list_targets),
        r!(POST "/api/v1/notify/targets" Roles(PEOPLE_ADMIN), api::notify::create_target),
        r!(GET "/api/v1/notify/targets/{id}" Roles(PEOPLE_ADMIN), api::notify::get_target),
        RouteEntry {
            method: Method::PUT,
            path: "/api/v1/notify/targets/{id}",
            access: Roles(PEOPLE_ADMIN),
            handler: axum::routing::put(api::notify::update_target),
        },
        RouteEntry {
            method: Method::DELETE,
            path: "/api/v1/notify/targets/{id}",
            access: Roles(PEOPLE_ADMIN),
            handler: axum::routing::delete(api::notify::delete_target),
        },
        r!(POST "/api/v1/notify/targets/{id}/test" Roles(PEOPLE_ADMIN), api::notify::test_target),
        r!(GET "/api/v1/notify/prefs" User, api::notify::my_prefs),
        RouteEntry {
            method: Method::PUT,
            path: "/api/v1/notify/prefs",
            access: User,
            handler: axum::routing::put(api::notify::put_my_prefs),
        },
        r!(GET "/api/v1/notify/deliveries" Roles(ADMINS), api::notify::deliveries),
        r!(GET "/api/v1/matters/{id}/attachments" User, api::attachments::list),
        RouteEntry {
            method: Method::POST,
            path: "/api/v1/matters/{id}/attachments",
            access: User,
            handler: post(api::attachments::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::attachment_pages::BODY_LIMIT,
            )),
        },
        r!(GET "/api/v1/attachments/{id}" User, api::attachments::download),
        RouteEntry {
            method: Method::DELETE,
            path: "/api/v1/attachments/{id}",
            access: User,
            handler: axum::routing::delete(api::attachments::remove),
        },
    ]
}

/// Wrap a route's handler with its coarse gate: the roles it needs, and — for every route that
/// changes something — the refusal of 纪检监察, whose access is read-only everywhere. Refusals are
/// audited as denials.
pub fn gate(state: &AppState, e: &RouteEntry) -> MethodRouter<AppState> {
    let needs_gate = match e.access {
        Access::Public | Access::Step => false,
        Access::User => e.is_write(),
        Access::Roles(_) => true,
    };
    if !needs_gate {
        return e.handler.clone();
    }
    let spec = GateSpec {
        access: e.access,
        write: e.is_write(),
        path: e.path,
    };
    e.handler
        .clone()
        .route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), spec),
            gate_fn,
        ))
}

#[derive(Clone, Copy)]
struct GateSpec {
    access: Access,
    write: bool,
    path: &'static str,
}

async fn gate_fn(
    axum::extract::State((st, spec)): axum::extract::State<(AppState, GateSpec)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    let caller = if parts.uri.path().starts_with("/api/") {
        match crate::session::Api::from_request_parts(&mut parts, &st).await {
            Ok(crate::session::Api(c)) => c,
            Err(resp) => return resp,
        }
    } else {
        match crate::session::Web::from_request_parts(&mut parts, &st).await {
            Ok(crate::session::Web(s)) => s.caller,
            Err(resp) => return resp,
        }
    };
    let role_ok = match spec.access {
        Access::Roles(roles) => roles.iter().any(|r| caller.roles.contains(r)),
        _ => true,
    };
    let inspector_write = spec.write && caller.roles.contains(&Role::Inspector);
    if !role_ok || inspector_write {
        let e = taizhang_app::AppError::Forbidden;
        crate::error::audit_denial(&st, &caller, spec.path, &e).await;
        if parts.uri.path().starts_with("/api/") {
            return crate::api::error_response(&e);
        }
        return crate::error::page_error(&st, &e).into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// The paths in the table (cached), for navigation.
pub fn paths() -> &'static [&'static str] {
    static P: OnceLock<Vec<&'static str>> = OnceLock::new();
    P.get_or_init(|| table().iter().map(|e| e.path).collect())
}
