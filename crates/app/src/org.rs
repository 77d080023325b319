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
