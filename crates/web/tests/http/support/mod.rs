//! TestApp: the real router in-process on a fresh database, with a fake clock and small
//! "browsers" that keep their own cookie and CSRF token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use taizhang_app::{App, AppSettings, FixedClock};
use taizhang_store::Store;
use taizhang_testkit::TestDb;
use taizhang_web::{AppState, ServerInfo};
use tower::ServiceExt;

pub const DEMO_PASSWORD: &str = "Demo#Pass2026x";

pub struct TestApp {
    pub app: App,
    pub clock: Arc<FixedClock>,
    pub router: Router,
    pub db: TestDb,
}

impl TestApp {
    pub async fn new(db: TestDb, demo: bool) -> TestApp {
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(FixedClock::at_date(jiff::civil::date(2026, 3, 16)));
        let app = App::new(store, clock.clone(), AppSettings::for_tests());
        if demo {
            taizhang_app::demo::load(&app, DEMO_PASSWORD).await.unwrap();
        }
        let router = taizhang_web::router(AppState::new(app.clone(), info(&db)).unwrap());
        TestApp {
            app,
            clock,
            router,
            db,
        }
    }

    /// The same app behind a router with other time limits.
    pub fn router_with(&self, limits: taizhang_web::HttpLimits) -> Router {
        let state = AppState::new(self.app.clone(), info(&self.db)).unwrap();
        taizhang_web::router_with(state, limits)
    }

    pub fn browser(&self) -> Browser {
        Browser {
            router: self.router.clone(),
            cookie: None,
            csrf: None,
            peer: "127.0.0.1:40000".parse().unwrap(),
        }
    }

    /// A browser already logged in as a demo user (password, no second factor).
    pub async fn login(&self, username: &str) -> Browser {
        let mut b = self.browser();
        let r = b
            .post_form(
                "/login",
                &[
                    ("username", username),
                    ("password", DEMO_PASSWORD),
                    ("next", "/desk"),
                ],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "login {username}: {}",
            r.body
        );
        b
    }
}

/// An API token of a demo user (30 days).
pub async fn token(t: &TestApp, user: &str) -> String {
    taizhang_app::identity::create_token(
        &t.app,
        &taizhang_app::Caller::system("test"),
        user,
        "test",
        Some(30),
    )
    .await
    .unwrap()
}

/// A browser logged in as a demo administrator (`admin`, 系统管理员; `anquan`, 安全管理员 …),
/// second factor enrolled through the pages on the way.
pub async fn admin_login(t: &TestApp, username: &str) -> Browser {
    let mut b = t.browser();
    b.post_form(
        "/login",
        &[
            ("username", username),
            ("password", DEMO_PASSWORD),
            ("next", "/admin"),
        ],
    )
    .await;
    let page = b.get("/account/totp").await;
    let i = page.body.find("class=\"secret\">").unwrap() + 15;
    let secret = &page.body[i..i + page.body[i..].find('<').unwrap()];
    let secret = taizhang_domain::totp::TotpSecret::from_base32(secret).unwrap();
    let now_s = (t.clock.as_ref() as &dyn taizhang_app::Clock).now_ms() as u64 / 1000;
    b.post_csrf("/account/totp", &[("code", &secret.code_at(now_s))])
        .await;
    b.get("/account/next").await;
    b
}

/// An API call with a bearer token, a JSON body when given, and extra headers.
pub async fn call(
    b: &mut Browser,
    method: axum::http::Method,
    path: &str,
    tok: &str,
    body: Option<&str>,
    extra: &[(&str, &str)],
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {tok}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let body = Body::from(body.unwrap_or("").to_owned());
    b.send(req.body(body).unwrap()).await
}

/// The body as JSON (`null` when it is not JSON).
pub fn json_of(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null)
}

/// The code of the first API error, or empty.
pub fn code_of(r: &Resp) -> String {
    json_of(r)["errors"][0]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn info(db: &TestDb) -> ServerInfo {
    ServerInfo {
        version: "test",
        backend: db.backend(),
        sqlite_path: None,
        secure_cookies: true,
        trusted_proxies: vec!["127.0.0.9".parse().unwrap()],
    }
}

pub struct Browser {
    router: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub peer: SocketAddr,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Browser {
    pub async fn send(&mut self, mut req: Request<Body>) -> Resp {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        if let Some(c) = &self.cookie {
            req.headers_mut().insert(header::COOKIE, c.parse().unwrap());
        }
        req.headers_mut()
            .insert(header::HOST, "taizhang.test".parse().unwrap());
        let resp: Response<Body> = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(sc) = headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
        {
            let pair = sc.split(';').next().unwrap_or("").to_owned();
            if pair.ends_with('=') {
                self.cookie = None
            } else {
                self.cookie = Some(pair)
            }
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(i) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[i + 19..];
            if let Some(end) = rest.find('"') {
                self.csrf = Some(rest[..end].to_owned());
            }
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// POST a form with this browser's CSRF token (fetching a page first if none is known).
    pub async fn post_csrf(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        if self.csrf.is_none() {
            self.get("/desk").await;
        }
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all).await
    }

    /// A form sent with another method (PUT, DELETE) with this browser's CSRF token if known.
    pub async fn send_form(
        &mut self,
        method: axum::http::Method,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Resp {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&all)
            .finish();
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    pub async fn post_json(&mut self, path: &str, json: &str) -> Resp {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_owned()))
            .unwrap();
        self.send(req).await
    }
}
