//! The browser harness: the real server on a random local port (SQLite, demo data, a fixed clock),
//! Debian chromium driven through a chromedriver this test spawns and kills, screenshots into
//! the artifacts folder, downloads into a folder of their own, and the browser console read after
//! every page.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use taizhang_app::{App, AppSettings, FixedClock};
use taizhang_store::Store;
use taizhang_testkit::TestDb;
use taizhang_web::{AppState, ServerInfo};

pub const DEMO_PASSWORD: &str = "Demo#Pass2026x";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser is there; if not, fail under CI or `TAIZHANG_REQUIRE_BROWSER=1`, else
/// return the reason to skip.
pub fn browser_missing() -> Option<String> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return None;
    }
    let why = format!(
        "{} not installed (apt-get install -y chromium chromium-driver fonts-noto-cjk)",
        missing.join(" and ")
    );
    let required = std::env::var_os("CI").is_some()
        || std::env::var("TAIZHANG_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    assert!(!required, "browser required but {why}");
    Some(why)
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver's legacy log endpoint: the browser console since the last call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

pub struct Run {
    pub app: App,
    /// The server's clock (fixed; a second factor needs it).
    pub clock: Arc<FixedClock>,
    pub base: String,
    pub c: Client,
    pub shots: PathBuf,
    /// Where the browser saves downloads.
    pub files: PathBuf,
    _db: TestDb,
    _driver: Killed,
    _profile: PathBuf,
}

impl Run {
    pub async fn start() -> Run {
        let db = TestDb::sqlite();
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::at_date(jiff::civil::date(2026, 3, 16)));
        let app = App::new(store, clock.clone(), AppSettings::for_tests());
        taizhang_app::demo::load(&app, DEMO_PASSWORD).await.unwrap();
        let system = taizhang_app::Caller::system("e2e");
        taizhang_app::ledger::daily::run_daily_check(&app, &system, jiff::civil::date(2026, 3, 16))
            .await
            .unwrap();
        // Plain cookie names: this server speaks http on 127.0.0.1, where a `Secure`
        // `__Host-` cookie is not something every Chromium build keeps; production keeps them.
        let info = ServerInfo {
            version: "e2e",
            backend: "sqlite",
            sqlite_path: None,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
        };
        let router = taizhang_web::router(AppState::new(app.clone(), info).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let svc = router.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, svc).await;
        });
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let driver = Killed(driver);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(format!("tz-e2e-{}-{port}", std::process::id()));
        let files = profile.with_extension("files");
        std::fs::create_dir_all(&files).unwrap();
        let caps = json!({
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=zh-CN", "--window-size=1366,900",
                format!("--user-data-dir={}", profile.display()),
            ], "prefs": {
                "download.default_directory": files.display().to_string(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
            }},
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap();
        let shots = std::env::var_os("TAIZHANG_ARTIFACTS").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-artifacts"),
            PathBuf::from,
        );
        std::fs::create_dir_all(&shots).unwrap();
        Run {
            app,
            clock,
            base: format!("http://{addr}"),
            c,
            shots,
            files,
            _db: db,
            _driver: driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.no_console_errors(path).await;
    }

    /// Fail on any console error (CSP violations, script errors, failed loads) since the last look.
    pub async fn no_console_errors(&self, at: &str) {
        self.console_errors_except(at, None).await;
    }

    async fn console_errors_except(&self, at: &str, allowed: Option<&str>) {
        let logs = self.c.issue_cmd(BrowserLog).await.unwrap();
        let errors: Vec<String> = logs
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].to_string())
            .filter(|m| allowed.is_none_or(|a| !m.contains(a)))
            .collect();
        assert!(errors.is_empty(), "console errors at {at}: {errors:#?}");
    }

    pub async fn shot(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        self.c
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn click(&self, css: &str) {
        self.c
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Click something that loads a new page, and wait until the new page is there.
    pub async fn click_nav(&self, css: &str) {
        self.click_nav_allowing(css, None).await;
    }

    /// [`Self::click_nav`] where one console message is expected (a refused form answers 422,
    /// which Chromium logs as a failed load) and every other one still fails.
    pub async fn click_nav_allowing(&self, css: &str, allowed: Option<&str>) {
        self.c
            .execute("document.documentElement.dataset.old = '1';", vec![])
            .await
            .unwrap();
        self.click(css).await;
        for _ in 0..200 {
            let v = self
                .c
                .execute(
                    "return document.readyState === 'complete' && !document.documentElement.dataset.old;",
                    vec![],
                )
                .await
                .unwrap_or(Value::Bool(false));
            if v == Value::Bool(true) {
                self.console_errors_except(css, allowed).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("clicking {css} loaded no new page");
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.c.wait().for_element(Locator::Css(css)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    /// Set a field by script (date inputs take typed keys in the browser's locale order).
    pub async fn set(&self, css: &str, value: &str) {
        self.c
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![json!(css), json!(value)],
            )
            .await
            .unwrap();
    }

    pub async fn count(&self, css: &str) -> usize {
        self.c.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// A fresh session: the login form sent with `user`'s demo password.
    pub async fn submit_login(&self, user: &str) {
        self.c.delete_all_cookies().await.unwrap();
        self.goto("/login").await;
        self.fill("#username", user).await;
        self.fill("#password", DEMO_PASSWORD).await;
        self.click_nav("form button[type=submit]").await;
    }

    pub async fn login(&self, user: &str) {
        self.submit_login(user).await;
        let at = self.c.current_url().await.unwrap();
        assert_eq!(at.path(), "/desk", "{user} did not reach the desk");
    }

    /// Submit the current page's step form and come back to the matter page.
    pub async fn submit_step(&self, matter: i64) {
        self.click_nav("#act-submit").await;
        let at = self.c.current_url().await.unwrap();
        if at.path() != format!("/matters/{matter}") {
            let body = self.c.source().await.unwrap_or_default();
            panic!("step was not accepted: {body}");
        }
    }

    /// Whether the page fits the window width (no sideways scrolling).
    pub async fn fits_width(&self) -> bool {
        let v = self
            .c
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
                vec![],
            )
            .await
            .unwrap();
        v == Value::Bool(true)
    }
}
