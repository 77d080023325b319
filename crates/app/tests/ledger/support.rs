//! Shared set-up: an App on a fresh database with the demo organization and a fixed clock.

use std::sync::Arc;

use jiff::civil::Date;
use taizhang_app::ledger::matters::{DeadlineInput, NewMatter};
use taizhang_app::{App, AppError, AppSettings, Caller, FixedClock};
use taizhang_store::Store;
use taizhang_testkit::TestDb;

pub struct Env {
    pub app: App,
    pub clock: Arc<FixedClock>,
    pub backend: &'static str,
}

impl Env {
    pub async fn new(db: &TestDb, day: Date, with_matters: bool) -> Env {
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::at_date(day));
        let app = App::new(store, clock.clone(), AppSettings::for_tests());
        if with_matters {
            taizhang_app::demo::load(&app, "Demo#Pass2026x")
                .await
                .unwrap();
        } else {
            taizhang_app::demo::load_org(&app, "Demo#Pass2026x")
                .await
                .unwrap();
        }
        Env {
            app,
            clock,
            backend: db.backend(),
        }
    }

    pub async fn who(&self, username: &str) -> Caller {
        taizhang_app::caller::load_caller_by_username(&self.app, username)
            .await
            .unwrap()
    }

    pub fn set_day(&self, d: Date) {
        self.clock
            .set_ms(taizhang_app::clock::start_of_day_ms(d) + 9 * 3_600_000);
    }

    pub async fn unit_of(&self, username: &str) -> i64 {
        self.who(username).await.unit_id
    }

    /// A matter of 干部一处 with a fixed deadline, created by the supervision office.
    pub async fn new_matter(&self, title: &str, deadline: &str) -> i64 {
        let ducha = self.who("ducha").await;
        let unit = self.unit_of("chuzhang1").await;
        let jingban = self.who("jingban1").await.person_id.unwrap();
        let mut m = NewMatter::basic(title, unit, DeadlineInput::Date(deadline.into()));
        m.handler_ids = vec![jingban];
        m.feedback_cycle = "weekly:5".into();
        taizhang_app::ledger::create_matter(&self.app, &ducha, m)
            .await
            .unwrap()
    }
}

/// The rule code of an [`AppError::Invalid`], or a panic naming what came instead.
pub fn code(r: Result<impl std::fmt::Debug, AppError>) -> String {
    match r {
        Err(AppError::Invalid { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}
