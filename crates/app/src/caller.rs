//! Who is asking: the person (or the system), their roles and scope, and where the request came
//! from. Built once per request by the web layer, or by the CLI for command-line work.

use std::collections::BTreeSet;

use taizhang_domain::policy::{self, Action, Actor, Decision, Label, Role, Target};

use crate::{AppError, AppResult};

#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` for the system itself (CLI bootstrap, scheduled jobs).
    pub person_id: Option<i64>,
    pub name: String,
    pub display_name: String,
    pub unit_id: i64,
    pub roles: Vec<Role>,
    pub actor: Actor,
    pub source_ip: String,
    pub request_id: String,
}

impl Caller {
    /// The system itself: used by the command line and by scheduled jobs. It bypasses the policy
    /// (the operator already has the machine) but is audited like anyone else.
    pub fn system(what: &str) -> Caller {
        Caller {
            person_id: None,
            name: what.to_owned(),
            display_name: "系统".into(),
            unit_id: 0,
            roles: Vec::new(),
            actor: Actor {
                person_id: 0,
                unit_id: 0,
                roles: Vec::new(),
                clearance: Label::Core,
                subtree: BTreeSet::new(),
                led_units: BTreeSet::new(),
            },
            source_ip: "local".into(),
            request_id: String::new(),
        }
    }

    pub fn is_system(&self) -> bool {
        self.person_id.is_none()
    }

    /// Role codes joined for the audit record.
    pub fn role_codes(&self) -> String {
        if self.is_system() {
            return "system".into();
        }
        self.roles
            .iter()
            .map(|r| r.code())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }

    /// Ask the policy; the system caller is always allowed.
    pub fn decide(&self, action: Action, target: Option<&Target>) -> Decision {
        if self.is_system() {
            return Decision::Allow;
        }
        policy::authorize(&self.actor, action, target)
    }

    /// Ask the policy and turn a refusal into an error: out of scope reads as "not found" so ids
    /// cannot be probed, anything else is "forbidden".
    pub fn require(&self, action: Action, target: Option<&Target>) -> AppResult<()> {
        match self.decide(action, target) {
            Decision::Allow => Ok(()),
            Decision::Deny(policy::DenyReason::OutOfScope) => {
                Err(AppError::NotFound("对象".into()))
            }
            Decision::Deny(_) => Err(AppError::Forbidden),
        }
    }
}

/// Load the caller for a person: roles, clearance, unit subtree and led units.
pub async fn load_caller(
    app: &crate::App,
    c: &mut taizhang_store::Conn,
    person_id: i64,
    source_ip: &str,
    request_id: &str,
) -> AppResult<Caller> {
    let p = taizhang_store::people::get_person(c, person_id).await?;
    caller_of(app, c, p, source_ip, request_id).await
}

/// The caller for a person already read (saves reading the person twice per request).
pub async fn caller_of(
    app: &crate::App,
    c: &mut taizhang_store::Conn,
    p: taizhang_store::people::Person,
    source_ip: &str,
    request_id: &str,
) -> AppResult<Caller> {
    let roles = taizhang_store::people::roles_of(c, p.id).await?;
    let tree = app.unit_tree(c).await?;
    Ok(build_caller(p, &roles, &tree, source_ip, request_id))
}

/// The caller for a person, their role codes (unknown codes are ignored) and the unit tree.
pub fn build_caller(
    p: taizhang_store::people::Person,
    role_codes: &[String],
    tree: &crate::org::UnitTree,
    source_ip: &str,
    request_id: &str,
) -> Caller {
    let person_id = p.id;
    let roles: Vec<Role> = role_codes.iter().filter_map(|r| Role::parse(r)).collect();
    let clearance = Label::parse(&p.clearance).unwrap_or(Label::Normal);
    let actor = Actor {
        person_id,
        unit_id: p.unit_id,
        roles: roles.clone(),
        clearance,
        subtree: tree.subtree(p.unit_id),
        led_units: tree.led_by(person_id),
    };
    Caller {
        person_id: Some(person_id),
        name: p.username,
        display_name: p.display_name,
        unit_id: p.unit_id,
        roles,
        actor,
        source_ip: source_ip.to_owned(),
        request_id: request_id.to_owned(),
    }
}

/// Load the caller for a username (tests, CLI).
pub async fn load_caller_by_username(app: &crate::App, username: &str) -> AppResult<Caller> {
    let mut c = app.store.read().await?;
    let p = taizhang_store::people::find_by_username(&mut c, username)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("用户 {username}")))?;
    caller_of(app, &mut c, p, "local", "").await
}
