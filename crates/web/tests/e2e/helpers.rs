//! More of the browser harness: an administrator's login with its second factor, files to
//! upload and downloads to read back, a second tab, form values, and phone-width screenshots
//! that say which element is too wide.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::Locator;
use fantoccini::wd::WindowHandle;
use serde_json::{Value, json};
use taizhang_app::Clock as _;

use crate::harness::Run;

impl Run {
    /// Log in as an administrator, enrolling the second factor on the way: the secret is read
    /// off the enrolment page and the code computed at the server's clock (one enrolment per
    /// run: the same step cannot be used twice).
    pub async fn login_admin(&self, user: &str) {
        self.submit_login(user).await;
        let at = self.c.current_url().await.unwrap();
        assert_eq!(
            at.path(),
            "/account/totp",
            "{user} was not asked for a second factor"
        );
        let secret = self.text("code.secret").await;
        let secret = taizhang_domain::totp::TotpSecret::from_base32(secret.trim()).unwrap();
        let now_s = u64::try_from(self.clock.now_ms() / 1000).unwrap();
        self.fill("#code", &secret.code_at(now_s)).await;
        self.click_nav("form button[type=submit]").await;
        let at = self.c.current_url().await.unwrap();
        assert_eq!(
            at.path(),
            "/desk",
            "{user} did not get past the second factor"
        );
    }

    /// Write a file to upload (outside the downloads folder) and return its path.
    pub fn file_to_upload(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let dir = self.files.with_extension("uploads");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Choose a file in an `<input type=file>`: chromedriver takes the path as typed keys.
    pub async fn choose_file(&self, css: &str, path: &Path) {
        let input = self.c.wait().for_element(Locator::Css(css)).await.unwrap();
        input.send_keys(&path.display().to_string()).await.unwrap();
    }

    /// Wait until the downloads folder holds a finished `name`, and return its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.files.join(name);
        for _ in 0..400 {
            if let Ok(bytes) = std::fs::read(&path) {
                return bytes;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let there: Vec<_> = std::fs::read_dir(&self.files)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        panic!("no download named {name}; the folder holds {there:?}");
    }

    /// Click a link that opens a new tab and switch to that tab once it has loaded. Returns
    /// the tab it was opened from, for [`Self::back_to_tab`].
    pub async fn click_into_new_tab(&self, css: &str) -> WindowHandle {
        let home = self.c.window().await.unwrap();
        let before = self.c.windows().await.unwrap();
        self.click(css).await;
        for _ in 0..400 {
            let now = self.c.windows().await.unwrap();
            if let Some(tab) = now.into_iter().find(|h| !before.contains(h)) {
                self.c.switch_to_window(tab).await.unwrap();
                self.wait_loaded().await;
                return home;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("clicking {css} opened no new tab");
    }

    /// Open `path` in a second tab of the same session (the same person in two tabs).
    /// Returns the tab it was opened from.
    pub async fn open_in_new_tab(&self, path: &str) -> WindowHandle {
        let home = self.c.window().await.unwrap();
        let tab = self.c.new_window(true).await.unwrap();
        self.c.switch_to_window(tab.handle).await.unwrap();
        self.goto(path).await;
        home
    }

    /// Close the current tab and go back to `home`.
    pub async fn back_to_tab(&self, home: WindowHandle) {
        self.c.close_window().await.unwrap();
        self.c.switch_to_window(home).await.unwrap();
    }

    async fn wait_loaded(&self) {
        for _ in 0..400 {
            let v = self
                .c
                .execute("return document.readyState === 'complete';", vec![])
                .await
                .unwrap_or(Value::Bool(false));
            if v == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the page did not finish loading");
    }

    /// Run a script that returns a value.
    pub async fn js(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.unwrap()
    }

    /// The current value of a form field.
    pub async fn value(&self, css: &str) -> String {
        let el = self.c.wait().for_element(Locator::Css(css)).await.unwrap();
        el.prop("value").await.unwrap().unwrap_or_default()
    }

    /// Whether a checkbox is ticked.
    pub async fn checked(&self, css: &str) -> bool {
        self.c.wait().for_element(Locator::Css(css)).await.unwrap();
        let v = self
            .c
            .execute(
                "return document.querySelector(arguments[0]).checked;",
                vec![json!(css)],
            )
            .await
            .unwrap();
        v == Value::Bool(true)
    }

    /// Choose an option of a `<select>` by value.
    pub async fn select(&self, css: &str, value: &str) {
        self.c
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    /// A screenshot at phone width (390×844), scrolled to `anchor` when given, asserting
    /// nothing scrolls sideways.
    pub async fn phone_shot(&self, name: &str, anchor: Option<&str>) {
        self.c.set_window_size(390, 844).await.unwrap();
        if let Some(css) = anchor {
            self.c
                .execute(
                    "document.querySelector(arguments[0]).scrollIntoView();",
                    vec![json!(css)],
                )
                .await
                .unwrap();
        }
        let fits = self.fits_width().await;
        let wide = if fits {
            String::new()
        } else {
            self.js(WIDEST).await.to_string()
        };
        self.shot(name).await;
        self.c.set_window_size(1366, 900).await.unwrap();
        assert!(fits, "{name} scrolls sideways at 390px: {wide}");
    }
}

/// The elements wider than the window (to say what breaks a phone layout).
const WIDEST: &str = "return Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(-6).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)";
