//! The page context every authenticated template gets: who is logged in, the navigation they may
//! use, the CSRF token for forms, and the language.

use serde::Serialize;
use taizhang_app::identity::SessionInfo;
use taizhang_domain::policy::Role;

/// One navigation entry.
#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub on: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageCtx {
    pub user: String,
    pub username: String,
    pub roles: Vec<&'static str>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub version: &'static str,
    pub lang: &'static str,
}

/// Roles that may read the cadence reports (经办人 has no report rights: the use cases refuse).
const REPORT_READERS: &[Role] = &[
    Role::Supervisor,
    Role::DeptLeader,
    Role::UnitHead,
    Role::Liaison,
    Role::Inspector,
];

/// Navigation entries and who sees them: (href, label, roles; empty = every business role).
const NAV: &[(&str, &str, &[Role])] = &[
    ("/desk", "工作台", &[]),
    ("/matters", "台账", &[]),
    ("/checks", "日清查", REPORT_READERS),
    ("/weekly", "周小结", REPORT_READERS),
    ("/monthly", "月盘点", REPORT_READERS),
    (
        "/year-close",
        "年度归零",
        &[Role::Supervisor, Role::DeptLeader, Role::Inspector],
    ),
    ("/admin", "管理", &[Role::SysAdmin, Role::SecAdmin]),
    ("/audit", "审计", &[Role::AuditAdmin, Role::Inspector]),
];

/// Paths of navigation entries that exist in this build (pages land issue by issue).
pub fn available(href: &str) -> bool {
    crate::routes::paths().contains(&href)
}

impl PageCtx {
    pub fn new(s: &SessionInfo, current: &str) -> PageCtx {
        let roles = &s.caller.roles;
        let business = roles.iter().any(|r| !r.is_admin_role());
        let nav = NAV
            .iter()
            .filter(|(href, _, need)| {
                let allowed = if need.is_empty() {
                    business
                } else {
                    need.iter().any(|r| roles.contains(r))
                };
                allowed && available(href)
            })
            .map(|(href, label, _)| NavItem {
                href,
                label,
                on: current.starts_with(href),
            })
            .collect();
        PageCtx {
            user: s.caller.display_name.clone(),
            username: s.caller.name.clone(),
            roles: roles.iter().map(|r| r.label_zh()).collect(),
            csrf: s.csrf_token.clone(),
            nav,
            version: env!("CARGO_PKG_VERSION"),
            lang: crate::i18n::current(),
        }
    }
}
