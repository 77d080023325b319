//! Names as written in a ledger → ids: units against the unit tree (live units only; a retired
//! unit is named as such), leaders against the people (部领导 first, then everyone). Near misses
//! come back as suggestions for the row refusal.

use std::collections::BTreeSet;

use taizhang_domain::policy::Role;
use taizhang_office::{NameMatch, match_name, normalize_name};
use taizhang_store::{Conn, org, people};

use crate::AppResult;

/// Units and people loaded once per import.
pub(crate) struct Directory {
    /// Live units: `(id, name)` and `(id, short name)` when it differs.
    units: Vec<(i64, String)>,
    /// Retired units by normalized name.
    retired: Vec<(String, String)>,
    /// People holding 部领导 (dept_leader).
    leaders: Vec<(i64, String)>,
    /// Everybody not disabled.
    people: Vec<(i64, String)>,
    unit_names: std::collections::HashMap<i64, String>,
    person_names: std::collections::HashMap<i64, String>,
    /// The same candidates by normalized name, built once: a row's exact match is one hash
    /// lookup instead of normalizing every unit and person again (10,000 rows against 5,000
    /// units and 20,000 people spent 16 s there).
    unit_index: Index,
    leader_index: Index,
    people_index: Index,
}

/// Candidates `(id, name as stored)` by normalized name.
#[derive(Default)]
struct Index(std::collections::HashMap<String, Vec<(i64, String)>>);

impl Index {
    fn of(candidates: &[(i64, String)]) -> Index {
        let mut map: std::collections::HashMap<String, Vec<(i64, String)>> = Default::default();
        for (id, n) in candidates {
            map.entry(normalize_name(n))
                .or_default()
                .push((*id, n.clone()));
        }
        Index(map)
    }
}

impl Directory {
    pub async fn load(c: &mut Conn) -> AppResult<Directory> {
        let mut d = Directory {
            units: Vec::new(),
            retired: Vec::new(),
            leaders: Vec::new(),
            people: Vec::new(),
            unit_names: Default::default(),
            person_names: Default::default(),
            unit_index: Index::default(),
            leader_index: Index::default(),
            people_index: Index::default(),
        };
        for u in org::list_units(c).await? {
            d.unit_names.insert(u.id, u.name.clone());
            if u.retired_at.is_some() {
                d.retired.push((normalize_name(&u.name), u.name.clone()));
                d.retired.push((normalize_name(&u.short_name), u.name));
                continue;
            }
            if !u.short_name.is_empty() && u.short_name != u.name {
                d.units.push((u.id, u.short_name));
            }
            d.units.push((u.id, u.name));
        }
        let leader_ids: BTreeSet<i64> = people::all_roles(c)
            .await?
            .into_iter()
            .filter(|(_, r)| r == Role::DeptLeader.code())
            .map(|(id, _)| id)
            .collect();
        for p in people::list_people(c).await? {
            d.person_names.insert(p.id, p.display_name.clone());
            if p.disabled {
                continue;
            }
            if leader_ids.contains(&p.id) {
                d.leaders.push((p.id, p.display_name.clone()));
            }
            d.people.push((p.id, p.display_name));
        }
        d.unit_index = Index::of(&d.units);
        d.leader_index = Index::of(&d.leaders);
        d.people_index = Index::of(&d.people);
        Ok(d)
    }

    pub fn unit_name(&self, id: i64) -> &str {
        self.unit_names.get(&id).map_or("", String::as_str)
    }

    pub fn person_name(&self, id: i64) -> &str {
        self.person_names.get(&id).map_or("", String::as_str)
    }

    /// A unit by name; `Err` is the Chinese reason (retired, unknown, near misses).
    pub fn unit(&self, what: &str, name: &str) -> Result<i64, String> {
        let wanted = normalize_name(name);
        match resolve(&wanted, &self.unit_index, &self.units) {
            Resolved::One(id) => Ok(id),
            Resolved::Many(names) => Err(format!(
                "{what}「{name}」对应多个单位（{}），请写全称",
                names.join("、")
            )),
            Resolved::Near(names) => Err(format!(
                "未找到{what}「{name}」，是否为：{}？",
                names.join("、")
            )),
            Resolved::Nothing => match self.retired.iter().find(|(n, _)| *n == wanted) {
                Some((_, full)) => Err(format!("{what}「{full}」已撤销，不能承办事项")),
                None => Err(format!("未找到{what}「{name}」，请先在单位管理中建立")),
            },
        }
    }

    /// A leader by name: among 部领导 first, then among everybody.
    pub fn leader(&self, name: &str) -> Result<i64, String> {
        let wanted = normalize_name(name);
        let first = resolve(&wanted, &self.leader_index, &self.leaders);
        let r = match first {
            Resolved::One(_) | Resolved::Many(_) => first,
            _ => resolve(&wanted, &self.people_index, &self.people),
        };
        match r {
            Resolved::One(id) => Ok(id),
            Resolved::Many(names) => Err(format!(
                "牵头领导「{name}」有重名（{}人），请在系统中区分后再导入",
                names.len()
            )),
            Resolved::Near(names) => Err(format!(
                "未找到牵头领导「{name}」，是否为：{}？",
                names.join("、")
            )),
            Resolved::Nothing => Err(format!("未找到牵头领导「{name}」")),
        }
    }
}

enum Resolved {
    One(i64),
    Many(Vec<String>),
    Near(Vec<String>),
    Nothing,
}

/// Exact (one id, possibly under two spellings) or suggestions, deduplicated by id.
fn resolve(wanted: &str, index: &Index, candidates: &[(i64, String)]) -> Resolved {
    if wanted.is_empty() {
        return Resolved::Nothing;
    }
    let mut exact: Vec<(i64, &str)> = index
        .0
        .get(wanted)
        .map(|v| v.iter().map(|(id, n)| (*id, n.as_str())).collect())
        .unwrap_or_default();
    exact.sort_unstable();
    exact.dedup_by_key(|(id, _)| *id);
    match exact.as_slice() {
        [(id, _)] => return Resolved::One(*id),
        [] => {}
        many => return Resolved::Many(many.iter().map(|(_, n)| (*n).to_owned()).collect()),
    }
    match match_name(wanted, candidates) {
        NameMatch::Exact(id) => Resolved::One(id),
        NameMatch::Suggestions(list) => {
            let mut seen = BTreeSet::new();
            let names: Vec<String> = list
                .into_iter()
                .filter(|(id, _, _)| seen.insert(*id))
                .map(|(_, n, _)| n)
                .take(3)
                .collect();
            Resolved::Near(names)
        }
        NameMatch::None => Resolved::Nothing,
    }
}
