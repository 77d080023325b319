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

impl RouteEntry {
    /// Whether the route changes something (and so must refuse 纪检监察).
    pub fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD)
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
        r!(GET "/desk" User, auth::desk),
        r!(GET "/admin" Roles(ADMINS), admin::admin_home),
        r!(POST "/admin/people" Roles(PEOPLE_ADMIN), admin::create_person),
        r!(POST "/admin/people/{id}/reset" Roles(PEOPLE_ADMIN), admin::reset_person),
        r!(POST "/admin/people/{id}/disable" Roles(PEOPLE_ADMIN), admin::disable_person),
        r!(POST "/admin/people/{id}/enable" Roles(PEOPLE_ADMIN), admin::enable_person),
        r!(POST "/admin/people/{id}/unlock" Roles(PEOPLE_ADMIN), admin::unlock_person),
        r!(POST "/admin/people/{id}/roles" Roles(GRANTS_ADMIN), admin::set_roles),
        r!(POST "/admin/people/{id}/clearance" Roles(GRANTS_ADMIN), units::set_clearance),
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
        // --- ledger pages: 工作台, 台账, 事项 (ledger UI) ---
        // --- cadence pages: 日清查, 周小结, 月盘点, 年度归零, calendar admin ---
        // --- office: import / export / report downloads ---
        r!(POST "/api/v1/auth/login" Public, api::login),
        r!(GET "/api/v1/me" User, api::me),
        // --- api v1 ---
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
