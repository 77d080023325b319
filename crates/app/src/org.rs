//! Organization and accounts: the first administrator, creating people, granting roles
//! (三权分立 enforced here), and the unit tree used for data scopes.

use std::collections::{BTreeMap, BTreeSet};

use taizhang_domain::policy::{self, Role};
use taizhang_domain::username::Username;
use taizhang_store::Conn;
use taizhang_store::org::{self, NewUnit, Unit};
use taizhang_store::people::{self, NewPerson};

use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller, passwords};

/// Name of the unit the first administrator belongs to on an empty database.
pub const BOOTSTRAP_UNIT: &str = "本单位";

/// On an empty database, create `admin` (系统管理员) with a one-time random password that must be
/// changed at first login. Returns the password, to be printed once; `None` if people exist.
pub async fn bootstrap_admin(app: &App) -> AppResult<Option<String>> {
    let mut c = app.store.begin().await?;
    if people::count_people(&mut c).await? > 0 {
        return Ok(None);
    }
    let now = app.clock.now_ms();
    let units = org::list_units(&mut c).await?;
    let unit_id = match units.first() {
        Some(u) => u.id,
        None => {
            org::insert_unit(
                &mut c,
                &NewUnit {
                    parent_id: None,
                    name: BOOTSTRAP_UNIT,
                    short_name: BOOTSTRAP_UNIT,
                    kind: "department",
                    sort_order: 0,
                },
                now,
            )
            .await?
        }
    };
    let password = passwords::random_password();
    let hash = hash_blocking(password.clone()).await?;
    let id = people::insert_person(
        &mut c,
        &NewPerson {
            username: "admin",
            display_name: "系统管理员",
            unit_id,
            position: "系统管理员",
            email: "",
            clearance: "normal",
            password_hash: Some(&hash),
            must_change_password: true,
        },
        now,
    )
    .await?;
    people::grant_role(&mut c, id, Role::SysAdmin.code(), None, now).await?;
    let who = Caller::system("bootstrap");
    audit::append(
        app,
        &mut c,
        &who,
        Event::ok(
            "person.bootstrap_admin",
            "person",
            id,
            "username=admin role=sys_admin",
        ),
    )
    .await?;
    c.commit().await?;
    Ok(Some(password))
}

/// Hash on a blocking thread: Argon2 takes tens of milliseconds on purpose.
pub async fn hash_blocking(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || passwords::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(format!("hashing task failed: {e}")))?
}

/// Input for creating an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub position: String,
    pub roles: Vec<Role>,
    pub clearance: String,
    /// `None`: a random one-time password is generated and returned.
    pub password: Option<String>,
    pub must_change_password: bool,
}

/// Create a person with roles, in one audited transaction. Returns (id, the password set).
pub async fn create_account(app: &App, who: &Caller, a: NewAccount) -> AppResult<(i64, String)> {
    who.require(policy::Action::ManagePeople, None)?;
    let username = Username::parse(&a.username)
        .map_err(|e| AppError::invalid("username", "username", e.to_string()))?;
    policy::check_role_combination(&a.roles)
        .map_err(|e| AppError::invalid("roles", "role_combination", e.to_string()))?;
    let display = a.display_name.trim();
    if display.is_empty() || display.chars().count() > 50 {
        return Err(AppError::invalid(
            "display_name",
            "display_name",
            "姓名须为 1–50 个字符",
        ));
    }
    if policy::Label::parse(&a.clearance).is_none() {
        return Err(AppError::invalid(
            "clearance",
            "clearance",
            "密级须为 normal / sensitive / core",
        ));
    }
    let password = a
        .password
        .clone()
        .unwrap_or_else(passwords::random_password);
    if a.password.is_some() {
        crate::identity::check_password_policy(app, &password, username.as_str())?;
    }
    let hash = hash_blocking(password.clone()).await?;
    let mut c = app.store.begin().await?;
    let unit = org::find_unit(&mut c, a.unit_id).await?;
    match unit {
        Some(u) if u.retired_at.is_none() => {}
        Some(_) => return Err(AppError::invalid("unit_id", "unit_retired", "该单位已撤销")),
        None => return Err(AppError::invalid("unit_id", "unit_unknown", "单位不存在")),
    }
    let now = app.clock.now_ms();
    let id = people::insert_person(
        &mut c,
        &NewPerson {
            username: username.as_str(),
            display_name: display,
            unit_id: a.unit_id,
            position: a.position.trim(),
            email: "",
            clearance: &a.clearance,
            password_hash: Some(&hash),
            must_change_password: a.must_change_password,
        },
        now,
    )
    .await
    .map_err(|e| match e {
        taizhang_store::StoreError::Conflict(_) => {
            AppError::invalid("username", "username_taken", "用户名已存在")
        }
        other => other.into(),
    })?;
    for r in &a.roles {
        people::grant_role(&mut c, id, r.code(), who.person_id, now).await?;
    }
    let roles: Vec<&str> = a.roles.iter().map(|r| r.code()).collect();
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "person.create",
            "person",
            id,
            format!("username={} roles={}", username.as_str(), roles.join(",")),
        ),
    )
    .await?;
    c.commit().await?;
    Ok((id, password))
}

/// The unit tree in memory, for data scopes: children lists and subtree expansion.
#[derive(Debug, Clone, Default)]
pub struct UnitTree {
    pub units: BTreeMap<i64, Unit>,
    children: BTreeMap<i64, Vec<i64>>,
}

impl UnitTree {
    pub async fn load(c: &mut Conn) -> AppResult<UnitTree> {
        Ok(UnitTree::from_units(org::list_units(c).await?))
    }

    pub fn from_units(list: Vec<Unit>) -> UnitTree {
        let mut children: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for u in &list {
            if let Some(p) = u.parent_id {
                children.entry(p).or_default().push(u.id);
            }
        }
        UnitTree {
            units: list.into_iter().map(|u| (u.id, u)).collect(),
            children,
        }
    }

    /// The unit and everything below it.
    pub fn subtree(&self, root: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(u) = stack.pop() {
            if out.insert(u)
                && let Some(ch) = self.children.get(&u)
            {
                stack.extend(ch.iter().copied());
            }
        }
        out
    }

    pub fn children_of(&self, id: i64) -> &[i64] {
        self.children.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn name(&self, id: i64) -> &str {
        self.units.get(&id).map(|u| u.name.as_str()).unwrap_or("")
    }

    /// Units whose 分管领导 is this person, with their subtrees.
    pub fn led_by(&self, person_id: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        for u in self.units.values() {
            if u.leader_id == Some(person_id) {
                out.extend(self.subtree(u.id));
            }
        }
        out
    }

    /// Roots (units without a parent), in display order.
    pub fn roots(&self) -> Vec<i64> {
        self.units
            .values()
            .filter(|u| u.parent_id.is_none())
            .map(|u| u.id)
            .collect()
    }
}

/// A person with roles, for the administration pages.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PersonRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub position: String,
    pub clearance: String,
    pub roles: Vec<String>,
    pub role_labels: Vec<&'static str>,
    pub disabled: bool,
    pub locked: bool,
    pub has_totp: bool,
}

/// Everyone, for 系统管理员 (people) and 安全管理员 (grants).
pub async fn list_people(app: &App, who: &Caller) -> AppResult<Vec<PersonRow>> {
    if who.require(policy::Action::ManagePeople, None).is_err() {
        who.require(policy::Action::ManageGrants, None)?;
    }
    let mut c = app.store.read().await?;
    let tree = UnitTree::load(&mut c).await?;
    let roles = people::all_roles(&mut c).await?;
    let now = app.clock.now_ms();
    let list = people::list_people(&mut c).await?;
    Ok(list
        .into_iter()
        .map(|p| {
            let mine: Vec<String> = roles
                .iter()
                .filter(|(id, _)| *id == p.id)
                .map(|(_, r)| r.clone())
                .collect();
            PersonRow {
                id: p.id,
                unit_name: tree.name(p.unit_id).to_owned(),
                username: p.username,
                display_name: p.display_name,
                unit_id: p.unit_id,
                position: p.position,
                clearance: p.clearance,
                role_labels: mine
                    .iter()
                    .filter_map(|r| Role::parse(r))
                    .map(Role::label_zh)
                    .collect(),
                roles: mine,
                disabled: p.disabled,
                locked: p.locked_until.is_some_and(|t| t > now),
                has_totp: p.totp_secret.is_some(),
            }
        })
        .collect())
}

/// Replace a person's roles (安全管理员). 三权分立 is enforced; the person's sessions end so the
/// new rights apply at once.
pub async fn set_roles(app: &App, who: &Caller, person_id: i64, roles: &[Role]) -> AppResult<()> {
    who.require(policy::Action::ManageGrants, None)?;
    policy::check_role_combination(roles)
        .map_err(|e| AppError::invalid("roles", "role_combination", e.to_string()))?;
    if who.person_id == Some(person_id) {
        return Err(AppError::rule("grant_self", "不能修改自己的角色"));
    }
    let mut c = app.store.begin().await?;
    let before = people::roles_of(&mut c, person_id).await?;
    let _ = people::get_person(&mut c, person_id).await?;
    for r in &before {
        people::revoke_role(&mut c, person_id, r).await?;
    }
    let now = app.clock.now_ms();
    for r in roles {
        people::grant_role(&mut c, person_id, r.code(), who.person_id, now).await?;
    }
    people::delete_sessions_of(&mut c, person_id).await?;
    let after: Vec<&str> = roles.iter().map(|r| r.code()).collect();
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "grant.set_roles",
            "person",
            person_id,
            format!("before={} after={}", before.join(","), after.join(",")),
        ),
    )
    .await?;
    c.commit().await?;
    // The caller cache holds roles, clearance, disabled flags and unit scopes.
    app.caches.callers.forget_all();
    Ok(())
}

/// Enable or disable an account (系统管理员); disabling ends its sessions.
pub async fn set_disabled(
    app: &App,
    who: &Caller,
    person_id: i64,
    disabled: bool,
) -> AppResult<()> {
    who.require(policy::Action::ManagePeople, None)?;
    if who.person_id == Some(person_id) {
        return Err(AppError::rule("disable_self", "不能停用自己的账号"));
    }
    let mut c = app.store.begin().await?;
    let _ = people::get_person(&mut c, person_id).await?;
    people::set_disabled(&mut c, person_id, disabled, app.clock.now_ms()).await?;
    if disabled {
        people::delete_sessions_of(&mut c, person_id).await?;
        people::unlock(&mut c, person_id).await?;
    }
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "person.set_disabled",
            "person",
            person_id,
            format!("disabled={disabled}"),
        ),
    )
    .await?;
    c.commit().await?;
    // The caller cache holds roles, clearance, disabled flags and unit scopes.
    app.caches.callers.forget_all();
    Ok(())
}

/// Unlock an account locked by failed logins (系统管理员).
pub async fn unlock(app: &App, who: &Caller, person_id: i64) -> AppResult<()> {
    who.require(policy::Action::ManagePeople, None)?;
    let mut c = app.store.begin().await?;
    people::unlock(&mut c, person_id).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("person.unlock", "person", person_id, ""),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// A change to the unit tree (系统管理员). History is kept in `unit_events` and the audit trail.
#[derive(Debug, Clone)]
pub enum UnitEdit {
    Create {
        parent_id: Option<i64>,
        name: String,
        kind: String,
    },
    Rename {
        id: i64,
        name: String,
    },
    Move {
        id: i64,
        parent_id: i64,
    },
    Retire {
        id: i64,
    },
    SetLeader {
        id: i64,
        leader_id: Option<i64>,
    },
}

fn check_unit_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 60 || n.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "unit_name",
            "单位名称须为 1–60 个字符",
        ));
    }
    Ok(n.to_owned())
}

pub async fn edit_unit(app: &App, who: &Caller, edit: UnitEdit) -> AppResult<i64> {
    who.require(policy::Action::ManageUnits, None)?;
    let now = app.clock.now_ms();
    let mut c = app.store.begin().await?;
    let tree = UnitTree::load(&mut c).await?;
    let active = |id: i64| tree.units.get(&id).is_some_and(|u| u.retired_at.is_none());
    let (id, detail) = match edit {
        UnitEdit::Create {
            parent_id,
            name,
            kind,
        } => {
            let name = check_unit_name(&name)?;
            if !org::UNIT_KINDS.contains(&kind.as_str()) {
                return Err(AppError::invalid("kind", "unit_kind", "单位类型无效"));
            }
            if let Some(p) = parent_id
                && !active(p)
            {
                return Err(AppError::invalid(
                    "parent_id",
                    "unit_unknown",
                    "上级单位不存在或已撤销",
                ));
            }
            let id = org::insert_unit(
                &mut c,
                &NewUnit {
                    parent_id,
                    name: &name,
                    short_name: &name,
                    kind: &kind,
                    sort_order: 500,
                },
                now,
            )
            .await
            .map_err(|e| match e {
                taizhang_store::StoreError::Conflict(_) => {
                    AppError::invalid("name", "unit_name_taken", "已有同名单位")
                }
                other => other.into(),
            })?;
            (id, format!("create name={name} parent={parent_id:?}"))
        }
        UnitEdit::Rename { id, name } => {
            let name = check_unit_name(&name)?;
            if !active(id) {
                return Err(AppError::invalid(
                    "id",
                    "unit_unknown",
                    "单位不存在或已撤销",
                ));
            }
            org::update_unit(
                &mut c,
                id,
                org::UnitChange::Rename(&name),
                who.person_id,
                now,
            )
            .await
            .map_err(|e| match e {
                taizhang_store::StoreError::Conflict(_) => {
                    AppError::invalid("name", "unit_name_taken", "已有同名单位")
                }
                other => other.into(),
            })?;
            (id, format!("rename to {name}"))
        }
        UnitEdit::Move { id, parent_id } => {
            if !active(id) || !active(parent_id) {
                return Err(AppError::invalid(
                    "parent_id",
                    "unit_unknown",
                    "单位不存在或已撤销",
                ));
            }
            if tree.subtree(id).contains(&parent_id) {
                return Err(AppError::invalid(
                    "parent_id",
                    "unit_cycle",
                    "不能把单位移到它自己的下级单位之下",
                ));
            }
            org::update_unit(
                &mut c,
                id,
                org::UnitChange::Move(parent_id),
                who.person_id,
                now,
            )
            .await?;
            (id, format!("move under {parent_id}"))
        }
        UnitEdit::Retire { id } => {
            if !active(id) {
                return Err(AppError::invalid(
                    "id",
                    "unit_unknown",
                    "单位不存在或已撤销",
                ));
            }
            if tree.children_of(id).iter().any(|ch| active(*ch)) {
                return Err(AppError::invalid(
                    "id",
                    "unit_has_children",
                    "请先撤销或移走其下级单位",
                ));
            }
            org::update_unit(&mut c, id, org::UnitChange::Retire, who.person_id, now).await?;
            (id, "retire".to_owned())
        }
        UnitEdit::SetLeader { id, leader_id } => {
            if !active(id) {
                return Err(AppError::invalid(
                    "id",
                    "unit_unknown",
                    "单位不存在或已撤销",
                ));
            }
            if let Some(l) = leader_id {
                let roles = people::roles_of(&mut c, l).await?;
                if !roles.iter().any(|r| r == Role::DeptLeader.code()) {
                    return Err(AppError::invalid(
                        "leader_id",
                        "leader_not_leader",
                        "分管领导须为部领导",
                    ));
                }
            }
            org::set_leader(&mut c, id, leader_id, now).await?;
            (id, format!("leader={leader_id:?}"))
        }
    };
    audit::append(app, &mut c, who, Event::ok("unit.edit", "unit", id, detail)).await?;
    c.commit().await?;
    // The caller cache holds roles, clearance, disabled flags and unit scopes.
    app.caches.callers.forget_all();
    Ok(id)
}

/// Set a person's clearance (安全管理员): the highest sensitivity label they may see.
pub async fn set_clearance(
    app: &App,
    who: &Caller,
    person_id: i64,
    clearance: &str,
) -> AppResult<()> {
    who.require(policy::Action::ManageGrants, None)?;
    let label = policy::Label::parse(clearance)
        .ok_or_else(|| AppError::invalid("clearance", "clearance", "密级须为 普通/敏感/核心"))?;
    let mut c = app.store.begin().await?;
    let before = people::get_person(&mut c, person_id).await?.clearance;
    people::set_clearance(&mut c, person_id, label.code(), app.clock.now_ms()).await?;
    people::delete_sessions_of(&mut c, person_id).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "grant.set_clearance",
            "person",
            person_id,
            format!("{before} -> {}", label.code()),
        ),
    )
    .await?;
    c.commit().await?;
    // The caller cache holds roles, clearance, disabled flags and unit scopes.
    app.caches.callers.forget_all();
    Ok(())
}

/// Set the sensitivity label (密级标签) of a matter, named by its 编号 (安全管理员 only). Access is then
/// decided by label against each person's clearance on every path. Audited with before and after.
pub async fn set_matter_label(
    app: &App,
    who: &Caller,
    number: &str,
    label: &str,
) -> AppResult<i64> {
    who.require(policy::Action::ManageGrants, None)?;
    let label = policy::Label::parse(label)
        .ok_or_else(|| AppError::invalid("label", "label", "密级须为 普通/敏感/核心"))?;
    let mut c = app.store.begin().await?;
    let id = taizhang_store::matters::find_id_by_number(&mut c, number.trim())
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "number",
                "matter_unknown",
                format!("没有编号为「{}」的事项", number.trim()),
            )
        })?;
    let before = taizhang_store::matters::get(&mut c, id).await?.label;
    taizhang_store::matters::set_label(&mut c, id, label.code(), app.clock.now_ms()).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "matter.set_label",
            "matter",
            id,
            format!("{before} -> {}", label.code()),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(id)
}
