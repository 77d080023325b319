//! The people directory for display: every person's name and the 部领导 (department leaders),
//! kept between requests while the database's fingerprint of it is unchanged — the same
//! validate-on-use scheme as the unit tree, so several nodes on one database never show a stale
//! name. A page used to load every person row per request (20,000 rows at 10^6 matters).

use std::collections::HashMap;
use std::sync::Arc;

use taizhang_domain::policy::Role;
use taizhang_store::{Conn, people};

use crate::{App, AppResult};

/// Names by person id, and the department leaders in id order.
#[derive(Debug, Default)]
pub struct NameDirectory {
    names: HashMap<i64, String>,
    /// 部领导: (id, display name).
    pub leaders: Vec<(i64, String)>,
}

impl NameDirectory {
    /// The display name of a person, if known.
    pub fn name(&self, id: i64) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    async fn load(c: &mut Conn) -> AppResult<NameDirectory> {
        let names: HashMap<i64, String> = people::all_names(c).await?.into_iter().collect();
        let leaders = people::holders_of(c, Role::DeptLeader.code())
            .await?
            .into_iter()
            .filter_map(|id| names.get(&id).map(|n| (id, n.clone())))
            .collect();
        Ok(NameDirectory { names, leaders })
    }
}

/// The directory's fingerprint (see [`people::names_stamp`]).
pub(crate) type NamesStamp = [i64; 4];

impl App {
    /// The people directory: one fingerprint query, and a reload only when a person or a leader
    /// changed.
    pub async fn name_directory(&self, c: &mut Conn) -> AppResult<Arc<NameDirectory>> {
        let stamp = people::names_stamp(c, Role::DeptLeader.code()).await?;
        if let Ok(guard) = self.caches.names.read()
            && let Some((s, dir)) = guard.as_ref()
            && *s == stamp
        {
            return Ok(dir.clone());
        }
        let dir = Arc::new(NameDirectory::load(c).await?);
        if let Ok(mut guard) = self.caches.names.write() {
            *guard = Some((stamp, dir.clone()));
        }
        Ok(dir)
    }
}
