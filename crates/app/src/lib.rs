//! Use cases of Taizhang: one function per command or query. Each takes an [`Actor`], asks the
//! access policy, and runs in one transaction that also appends the audit record.

pub mod audit;
pub mod bench_seed;
pub mod caller;
pub mod caller_cache;
pub mod clock;
pub mod demo;
pub mod directory;
pub mod error;
pub mod identity;
pub mod ledger;
pub mod names;
pub mod notify;
pub mod office_io;
pub mod org;
pub mod passwords;

use std::sync::Arc;

pub use caller::Caller;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{AppError, AppResult};
use taizhang_store::Store;

/// Settings the use cases need (a subset of the binary's configuration).
#[derive(Clone)]
pub struct AppSettings {
    /// Key for the audit chain MAC (HMAC-SM3); lives outside the database.
    pub audit_key: Arc<Vec<u8>>,
    /// A name for this node (cadence claims, logs).
    pub node_name: String,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
    pub password_profile: String,
    pub audit_retention_days: i64,
    pub matter_number_pattern: String,
}

impl std::fmt::Debug for AppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSettings")
            .field("audit_key", &"<redacted>")
            .field("node_name", &self.node_name)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("lockout_threshold", &self.lockout_threshold)
            .field("lockout_minutes", &self.lockout_minutes)
            .field("password_profile", &self.password_profile)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("matter_number_pattern", &self.matter_number_pattern)
            .finish()
    }
}

impl AppSettings {
    /// Settings for tests: a fixed audit key and the documented defaults.
    pub fn for_tests() -> AppSettings {
        AppSettings {
            audit_key: Arc::new(b"taizhang-test-audit-key-0123456789abcdef".to_vec()),
            node_name: "test".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 30,
            password_profile: "standard".into(),
            audit_retention_days: 365,
            matter_number_pattern: "督〔{year}〕{seq}号".into(),
        }
    }
}

/// Everything a use case needs; cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<AppSettings>,
    /// Read caches validated against the database on every use (safe with several nodes).
    pub caches: Arc<Caches>,
}

use taizhang_domain::calendar::WorkCalendar;

/// The unit tree's fingerprint: (number of units, latest change in unix ms).
pub type UnitsStamp = (i64, i64);

/// The unit tree, kept between requests while the database's fingerprint of it is unchanged.
#[derive(Default)]
pub struct Caches {
    units: std::sync::RwLock<Option<(UnitsStamp, Arc<org::UnitTree>)>>,
    calendar: std::sync::RwLock<Option<(String, Arc<WorkCalendar>)>>,
    names: std::sync::RwLock<Option<(names::NamesStamp, Arc<names::NameDirectory>)>>,
    /// Ledger rules keyed by the stored thresholds' text (`ledger::thresholds::rules_in`).
    ledger_rules: std::sync::RwLock<Option<(String, ledger::LedgerRules)>>,
    /// API bearer tokens resolved to callers, for a few seconds (see [`caller_cache`]).
    pub callers: caller_cache::CallerCache,
}

impl Caches {
    /// The cached calendar if it was loaded at this `calendar.version`.
    pub fn calendar(&self, version: &str) -> Option<Arc<WorkCalendar>> {
        let guard = self.calendar.read().ok()?;
        guard
            .as_ref()
            .filter(|(v, _)| v == version)
            .map(|(_, c)| c.clone())
    }

    pub fn keep_calendar(
        &self,
        version: String,
        cal: Arc<taizhang_domain::calendar::WorkCalendar>,
    ) {
        if let Ok(mut guard) = self.calendar.write() {
            *guard = Some((version, cal));
        }
    }
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: AppSettings) -> App {
        App {
            store,
            clock,
            settings: Arc::new(settings),
            caches: Arc::new(Caches::default()),
        }
    }

    /// The unit tree: one small fingerprint query, and a reload only when a unit changed.
    pub async fn unit_tree(&self, c: &mut taizhang_store::Conn) -> AppResult<Arc<org::UnitTree>> {
        let stamp = taizhang_store::org::units_stamp(c).await?;
        self.unit_tree_at(c, stamp).await
    }

    /// The unit tree for a fingerprint `stamp` the caller already read on `c` (see
    /// [`taizhang_store::org::units_stamp`]).
    pub async fn unit_tree_at(
        &self,
        c: &mut taizhang_store::Conn,
        stamp: UnitsStamp,
    ) -> AppResult<Arc<org::UnitTree>> {
        if let Ok(guard) = self.caches.units.read()
            && let Some((s, tree)) = guard.as_ref()
            && *s == stamp
        {
            return Ok(tree.clone());
        }
        let tree = Arc::new(org::UnitTree::load(c).await?);
        if let Ok(mut guard) = self.caches.units.write() {
            *guard = Some((stamp, tree.clone()));
        }
        Ok(tree)
    }
}

/// Read one stored setting (key/value table).
pub(crate) async fn settings_value(
    c: &mut taizhang_store::Conn,
    key: &str,
) -> AppResult<Option<String>> {
    Ok(taizhang_store::settings::find(c, key).await?)
}
