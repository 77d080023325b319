//! Identity: password policy, login with lockout, sessions with idle and absolute timeouts, TOTP
//! second factor, password change and reset, API tokens. Every outcome is audited.

use sha2::{Digest, Sha256};
use taizhang_domain::audit_chain::AuditResult;
use taizhang_domain::password::PasswordPolicy;
use taizhang_domain::policy::{Action, Role};
use taizhang_domain::totp::TotpSecret;
use taizhang_domain::username::Username;
use taizhang_store::people::{self, Person, Session};

use crate::audit::{self, Event};
use crate::caller::caller_of;
use crate::{App, AppError, AppResult, Caller, passwords};

/// The one message for every failed login: unknown user, wrong password, locked, disabled.
pub const LOGIN_FAILED: &str = "用户名或密码错误（连续失败 5 次将锁定 30 分钟）";

/// The password policy of the configured profile.
pub fn policy_of(app: &App) -> PasswordPolicy {
    if app.settings.password_profile == "dengbao" {
        PasswordPolicy::dengbao()
    } else {
        PasswordPolicy::standard()
    }
}

/// Check a new password against the configured policy (the history is checked where it is known).
pub fn check_password_policy(app: &App, password: &str, username: &str) -> AppResult<()> {
    policy_of(app)
        .check(password, username)
        .map_err(|e| AppError::invalid("password", "password_policy", e.to_string()))
}

/// Hex SHA-256 of a secret token: only the digest is stored.
pub fn token_digest(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

/// Where a new session stands after the password was right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Fully logged in.
    Done,
    /// Must enter the TOTP code.
    Totp,
    /// Must enrol a TOTP authenticator first (mandatory for the admin roles).
    EnrolTotp,
    /// Must change the (initial, reset or expired) password first.
    ChangePassword,
}

#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The raw session token for the cookie (only its digest is stored).
    pub session_token: String,
    pub csrf_token: String,
    pub person_id: i64,
    pub next: NextStep,
}

/// Log in with a username, password and optional TOTP code. Failures all look the same.
pub async fn login(
    app: &App,
    username: &str,
    password: &str,
    totp: Option<&str>,
    source_ip: &str,
    request_id: &str,
) -> AppResult<LoginOutcome> {
    let mut anon = Caller::system("anonymous");
    anon.source_ip = source_ip.to_owned();
    anon.request_id = request_id.to_owned();
    // Oversized input is refused before any hashing.
    if password.len() > 1024 || username.len() > 256 {
        anon.name = "(oversized)".into();
        audit::record_alone(
            app,
            &anon,
            Event::denied("auth.login", "person", "", "oversized input"),
        )
        .await?;
        return Err(AppError::BadCredentials);
    }
    let name = match Username::parse(username) {
        Ok(u) => u,
        Err(_) => {
            anon.name = sanitize_for_log(username);
            passwords::verify_password(password, passwords::dummy_hash());
            audit::record_alone(
                app,
                &anon,
                Event::denied("auth.login", "person", "", "malformed username"),
            )
            .await?;
            return Err(AppError::BadCredentials);
        }
    };
    anon.name = name.as_str().to_owned();
    let person = {
        let mut c = app.store.read().await?;
        people::find_by_username(&mut c, name.as_str()).await?
    };
    let now = app.clock.now_ms();
    let Some(person) = person else {
        let pw = password.to_owned();
        let _ = tokio::task::spawn_blocking(move || {
            passwords::verify_password(&pw, passwords::dummy_hash())
        })
        .await;
        audit::record_alone(
            app,
            &anon,
            Event::denied("auth.login", "person", "", "unknown user"),
        )
        .await?;
        return Err(AppError::BadCredentials);
    };
    let hash = person
        .password_hash
        .clone()
        .unwrap_or_else(|| passwords::dummy_hash().to_owned());
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || passwords::verify_password(&pw, &hash))
        .await
        .map_err(|e| AppError::Internal(format!("verify task: {e}")))?;
    anon.person_id = Some(person.id);
    if person.disabled || person.expires_at.is_some_and(|t| t <= now) {
        audit::record_alone(
            app,
            &anon,
            Event::denied(
                "auth.login",
                "person",
                person.id,
                "account disabled or expired",
            ),
        )
        .await?;
        return Err(AppError::BadCredentials);
    }
    if person.locked_until.is_some_and(|t| t > now) {
        audit::record_alone(
            app,
            &anon,
            Event::denied("auth.login", "person", person.id, "account locked"),
        )
        .await?;
        return Err(AppError::BadCredentials);
    }
    if !ok {
        return Err(fail_login(app, &anon, &person, now).await?);
    }
    // Second factor, when enrolled, is checked with the password (no half-open session then).
    let mut second_factor = false;
    let mut next = NextStep::Done;
    let roles = {
        let mut c = app.store.read().await?;
        people::roles_of(&mut c, person.id).await?
    };
    let admin = roles
        .iter()
        .filter_map(|r| Role::parse(r))
        .any(Role::is_admin_role);
    if let Some(secret) = person.totp_secret.as_deref() {
        match totp {
            Some(code) if !code.trim().is_empty() => {
                if !check_totp(app, person.id, secret, code.trim()).await? {
                    return Err(fail_login(app, &anon, &person, now).await?);
                }
                second_factor = true;
            }
            _ => next = NextStep::Totp,
        }
    } else if admin {
        next = NextStep::EnrolTotp;
    }
    let expired = policy_of(app).is_expired(person.password_changed_at.unwrap_or(0), now);
    if next == NextStep::Done && (person.must_change_password || expired) {
        next = NextStep::ChangePassword;
    }
    let session_token = random_token("");
    let csrf_token = random_token("");
    let mut c = app.store.begin().await?;
    people::insert_session(
        &mut c,
        &Session {
            token_hash: token_digest(&session_token),
            person_id: person.id,
            csrf_token: csrf_token.clone(),
            second_factor,
            created_at: now,
            last_seen_at: now,
        },
        source_ip,
    )
    .await?;
    people::record_login(&mut c, person.id, now).await?;
    audit::append(
        app,
        &mut c,
        &anon,
        Event::ok("auth.login", "person", person.id, format!("next={next:?}")),
    )
    .await?;
    c.commit().await?;
    Ok(LoginOutcome {
        session_token,
        csrf_token,
        person_id: person.id,
        next,
    })
}

async fn fail_login(app: &App, anon: &Caller, person: &Person, now: i64) -> AppResult<AppError> {
    let lock_until = now + app.settings.lockout_minutes * 60_000;
    let mut c = app.store.begin().await?;
    let (count, locked) = people::record_failed_login(
        &mut c,
        person.id,
        app.settings.lockout_threshold,
        lock_until,
    )
    .await?;
    audit::append(
        app,
        &mut c,
        anon,
        Event::denied(
            "auth.login",
            "person",
            person.id,
            format!("wrong credentials, failures={count}"),
        ),
    )
    .await?;
    if count == app.settings.lockout_threshold && locked.is_some() {
        audit::append(
            app,
            &mut c,
            anon,
            Event::denied(
                "auth.lockout",
                "person",
                person.id,
                format!("locked until {lock_until}"),
            ),
        )
        .await?;
    }
    c.commit().await?;
    Ok(AppError::BadCredentials)
}

async fn check_totp(app: &App, person_id: i64, secret_b32: &str, code: &str) -> AppResult<bool> {
    let Ok(secret) = TotpSecret::from_base32(secret_b32) else {
        return Ok(false);
    };
    let now_s = u64::try_from(app.clock.now_ms() / 1000).unwrap_or(0);
    let last = {
        let mut c = app.store.read().await?;
        people::get_person(&mut c, person_id)
            .await?
            .totp_last_step
            .and_then(|s| u64::try_from(s).ok())
    };
    let Some(step) = secret.verify(code, now_s, last) else {
        return Ok(false);
    };
    let mut c = app.store.begin().await?;
    // The conditional update refuses a replayed step even under concurrency.
    let fresh =
        people::use_totp_step(&mut c, person_id, i64::try_from(step).unwrap_or(i64::MAX)).await?;
    c.commit().await?;
    Ok(fresh)
}

/// A live session and who it belongs to.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub caller: Caller,
    pub token_hash: String,
    pub csrf_token: String,
    pub second_factor: bool,
    pub next: NextStep,
}

/// Resolve a session cookie; idle (default 30 min) and absolute (12 h) limits are enforced here,
/// on the server, and an expired session is deleted.
pub async fn authenticate_session(
    app: &App,
    raw: &str,
    source_ip: &str,
    request_id: &str,
) -> AppResult<SessionInfo> {
    let digest = token_digest(raw);
    let now = app.clock.now_ms();
    let mut c = app.store.read().await?;
    let Some(s) = people::find_session(&mut c, &digest).await? else {
        return Err(AppError::BadCredentials);
    };
    let idle = app.settings.session_idle_minutes * 60_000;
    let absolute = app.settings.session_absolute_hours * 3_600_000;
    let person = people::get_person(&mut c, s.person_id).await?;
    if now - s.last_seen_at > idle || now - s.created_at > absolute || person.disabled {
        drop(c);
        let mut w = app.store.begin().await?;
        people::delete_session(&mut w, &digest).await?;
        w.commit().await?;
        return Err(AppError::BadCredentials);
    }
    let has_totp = person.totp_secret.is_some();
    let must_change = person.must_change_password
        || policy_of(app).is_expired(person.password_changed_at.unwrap_or(0), now);
    let caller = caller_of(app, &mut c, person, source_ip, request_id).await?;
    drop(c);
    // Touch at most once a minute: fewer writes, the same idle limit to the minute.
    if now - s.last_seen_at > 60_000 {
        let mut w = app.store.begin().await?;
        people::touch_session(&mut w, &digest, now).await?;
        w.commit().await?;
    }
    let next = if has_totp && !s.second_factor {
        NextStep::Totp
    } else if !has_totp && caller.roles.iter().any(|r| r.is_admin_role()) {
        NextStep::EnrolTotp
    } else if must_change {
        NextStep::ChangePassword
    } else {
        NextStep::Done
    };
    Ok(SessionInfo {
        caller,
        token_hash: digest,
        csrf_token: s.csrf_token,
        second_factor: s.second_factor,
        next,
    })
}

/// Complete a session that waits for its TOTP code.
pub async fn verify_session_totp(app: &App, s: &SessionInfo, code: &str) -> AppResult<()> {
    let pid = s.caller.person_id.ok_or(AppError::BadCredentials)?;
    let secret = {
        let mut c = app.store.read().await?;
        people::get_person(&mut c, pid).await?.totp_secret
    };
    let Some(secret) = secret else {
        return Err(AppError::rule("totp_not_enrolled", "尚未绑定动态口令"));
    };
    if !check_totp(app, pid, &secret, code.trim()).await? {
        audit::record_alone(
            app,
            &s.caller,
            Event::denied("auth.totp", "person", pid, "wrong or replayed code"),
        )
        .await?;
        return Err(AppError::invalid(
            "totp",
            "totp_wrong",
            "动态口令错误或已使用",
        ));
    }
    let mut c = app.store.begin().await?;
    people::set_session_second_factor(&mut c, &s.token_hash).await?;
    audit::append(
        app,
        &mut c,
        &s.caller,
        Event::ok("auth.totp", "person", pid, "second factor verified"),
    )
    .await?;
    c.commit().await.map_err(AppError::from)
}

/// Start TOTP enrolment: a new secret kept as pending until a code confirms it.
pub async fn begin_totp_enrol(app: &App, who: &Caller) -> AppResult<(String, String)> {
    let pid = who.person_id.ok_or(AppError::Forbidden)?;
    let secret = TotpSecret::generate_from_bytes(rand::random());
    let b32 = secret.to_base32();
    let mut c = app.store.begin().await?;
    people::set_totp_pending(&mut c, pid, Some(&b32)).await?;
    c.commit().await?;
    Ok((
        b32.clone(),
        secret.otpauth_uri(taizhang_domain::totp::ISSUER, &who.name),
    ))
}

/// Confirm enrolment with the first code; the session then counts as second-factor verified.
pub async fn confirm_totp_enrol(app: &App, s: &SessionInfo, code: &str) -> AppResult<()> {
    let pid = s.caller.person_id.ok_or(AppError::Forbidden)?;
    let pending = {
        let mut c = app.store.read().await?;
        people::totp_pending(&mut c, pid).await?
    };
    let Some(b32) = pending else {
        return Err(AppError::rule("totp_no_pending", "请先生成动态口令密钥"));
    };
    let secret = TotpSecret::from_base32(&b32)
        .map_err(|_| AppError::Internal("pending TOTP secret malformed".into()))?;
    let now_s = u64::try_from(app.clock.now_ms() / 1000).unwrap_or(0);
    let Some(step) = secret.verify(code.trim(), now_s, None) else {
        return Err(AppError::invalid(
            "totp",
            "totp_wrong",
            "动态口令错误，请核对手机时间后重试",
        ));
    };
    let mut c = app.store.begin().await?;
    people::set_totp(
        &mut c,
        pid,
        Some(&b32),
        Some(i64::try_from(step).unwrap_or(0)),
    )
    .await?;
    people::set_totp_pending(&mut c, pid, None).await?;
    people::set_session_second_factor(&mut c, &s.token_hash).await?;
    audit::append(
        app,
        &mut c,
        &s.caller,
        Event::ok("auth.totp_enrol", "person", pid, "authenticator enrolled"),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// End a session.
pub async fn logout(app: &App, s: &SessionInfo) -> AppResult<()> {
    let mut c = app.store.begin().await?;
    people::delete_session(&mut c, &s.token_hash).await?;
    audit::append(
        app,
        &mut c,
        &s.caller,
        Event::ok("auth.logout", "person", s.caller.person_id.unwrap_or(0), ""),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// Change one's own password: the old one must be right, the new one must pass the policy and
/// differ from the last five. Every session of the person ends (log in again).
pub async fn change_password(
    app: &App,
    who: &Caller,
    old: &str,
    new: &str,
    confirm: &str,
) -> AppResult<()> {
    let pid = who.person_id.ok_or(AppError::Forbidden)?;
    if new != confirm {
        return Err(AppError::invalid(
            "confirm",
            "password_mismatch",
            "两次输入的新密码不一致",
        ));
    }
    let person = {
        let mut c = app.store.read().await?;
        people::get_person(&mut c, pid).await?
    };
    let hash = person.password_hash.clone().unwrap_or_default();
    let old_owned = old.to_owned();
    let ok = tokio::task::spawn_blocking(move || {
        old_owned.len() <= 1024 && passwords::verify_password(&old_owned, &hash)
    })
    .await
    .map_err(|e| AppError::Internal(format!("verify task: {e}")))?;
    if !ok {
        audit::record_alone(
            app,
            who,
            Event::denied(
                "auth.password_change",
                "person",
                pid,
                "wrong current password",
            ),
        )
        .await?;
        return Err(AppError::invalid("old", "password_wrong", "当前密码不正确"));
    }
    set_new_password(app, who, &person, new, false).await
}

async fn set_new_password(
    app: &App,
    who: &Caller,
    person: &Person,
    new: &str,
    must_change: bool,
) -> AppResult<()> {
    check_password_policy(app, new, &person.username)?;
    let history = {
        let mut c = app.store.read().await?;
        people::password_history(&mut c, person.id, i64::from(policy_of(app).history)).await?
    };
    let new_owned = new.to_owned();
    let reused = tokio::task::spawn_blocking(move || {
        history
            .iter()
            .any(|h| passwords::verify_password(&new_owned, h))
    })
    .await
    .map_err(|e| AppError::Internal(format!("verify task: {e}")))?;
    if reused {
        return Err(AppError::invalid(
            "password",
            "password_reused",
            "新密码不能与最近 5 次使用过的密码相同",
        ));
    }
    let hash = crate::org::hash_blocking(new.to_owned()).await?;
    let now = app.clock.now_ms();
    let mut c = app.store.begin().await?;
    people::set_password(&mut c, person.id, &hash, must_change, now).await?;
    let ended = people::delete_sessions_of(&mut c, person.id).await?;
    let action = if must_change {
        "auth.password_reset"
    } else {
        "auth.password_change"
    };
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            action,
            "person",
            person.id,
            format!("sessions_ended={ended}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// Reset someone's password to a one-time random one that must be changed at next login.
pub async fn reset_password(app: &App, who: &Caller, username: &str) -> AppResult<String> {
    who.require(Action::ManagePeople, None)?;
    let name = Username::parse(username)
        .map_err(|e| AppError::invalid("username", "username", e.to_string()))?;
    let person = {
        let mut c = app.store.read().await?;
        people::find_by_username(&mut c, name.as_str())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("用户 {username}")))?
    };
    let pw = passwords::random_password();
    let hash = crate::org::hash_blocking(pw.clone()).await?;
    let now = app.clock.now_ms();
    let mut c = app.store.begin().await?;
    people::set_password(&mut c, person.id, &hash, true, now).await?;
    let ended = people::delete_sessions_of(&mut c, person.id).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "auth.password_reset",
            "person",
            person.id,
            format!("sessions_ended={ended}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(pw)
}

/// Create an API token for a user; returns the raw token, shown once. Tokens carry the user's
/// own rights, no more.
pub async fn create_token(
    app: &App,
    who: &Caller,
    username: &str,
    name: &str,
    expires_days: Option<i64>,
) -> AppResult<String> {
    let uname = Username::parse(username)
        .map_err(|e| AppError::invalid("username", "username", e.to_string()))?;
    let mut c = app.store.begin().await?;
    let person = people::find_by_username(&mut c, uname.as_str())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("用户 {username}")))?;
    if who.person_id != Some(person.id) || who.has_role(Role::Inspector) {
        // Others' tokens need ManageTokens; 纪检监察 writes nothing, not even its own token
        // (a system administrator issues it one).
        who.require(Action::ManageTokens, None)?;
    }
    if let Some(d) = expires_days
        && !(1..=3650).contains(&d)
    {
        return Err(AppError::invalid(
            "expires_days",
            "expires_days",
            "有效期须为 1–3650 天",
        ));
    }
    let raw = random_token("tz_");
    let now = app.clock.now_ms();
    let expires = expires_days.map(|d| now + d * 86_400_000);
    let label = if name.trim().is_empty() {
        "API"
    } else {
        name.trim()
    };
    let id =
        people::insert_token(&mut c, person.id, label, &token_digest(&raw), expires, now).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok(
            "token.create",
            "api_token",
            id,
            format!("user={} expires={expires:?}", person.username),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(raw)
}

/// Resolve a bearer token to its caller; revoked, expired or disabled means refused.
///
/// A resolved token is reused for up to [`crate::caller_cache::TTL`] without reading the database
/// (see [`crate::caller_cache`]: changes made on this node apply at once; a revocation or role
/// change made on *another* node applies here within that time). A miss reads the token, person,
/// roles and unit-tree fingerprint in one query.
pub async fn authenticate_token(
    app: &App,
    raw: &str,
    source_ip: &str,
    request_id: &str,
) -> AppResult<Caller> {
    let now = app.clock.now_ms();
    let digest = token_digest(raw);
    let cache = &app.caches.callers;
    if let Some(hit) = cache.find(&digest, now) {
        if let Some(token_id) = hit.touch {
            let mut w = app.store.begin().await?;
            people::touch_token(&mut w, token_id, now).await?;
            w.commit().await?;
        }
        let mut caller = hit.caller;
        source_ip.clone_into(&mut caller.source_ip);
        request_id.clone_into(&mut caller.request_id);
        return Ok(caller);
    }
    let generation = cache.generation();
    let mut c = app.store.read().await?;
    let Some(found) = people::find_token_caller(&mut c, &digest).await? else {
        return Err(AppError::BadCredentials);
    };
    let t = found.token;
    if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
        return Err(AppError::BadCredentials);
    }
    if found.person.disabled {
        return Err(AppError::BadCredentials);
    }
    let tree = app.unit_tree_at(&mut c, found.units_stamp).await?;
    drop(c);
    let caller =
        crate::caller::build_caller(found.person, &found.roles, &tree, source_ip, request_id);
    let touch = t
        .last_used_at
        .is_none_or(|u| now - u > crate::caller_cache::TOUCH_EVERY_MS);
    if touch {
        let mut w = app.store.begin().await?;
        people::touch_token(&mut w, t.id, now).await?;
        w.commit().await?;
    }
    let last_used = if touch { Some(now) } else { t.last_used_at };
    cache.keep(digest, generation, &caller, t.id, t.expires_at, last_used);
    Ok(caller)
}

/// Revoke a token (its owner, or an administrator with ManageTokens).
pub async fn revoke_token(app: &App, who: &Caller, token_id: i64) -> AppResult<()> {
    let mut c = app.store.begin().await?;
    let tokens = people::list_tokens(&mut c, None).await?;
    let t = tokens
        .iter()
        .find(|t| t.id == token_id)
        .ok_or_else(|| AppError::NotFound("令牌".into()))?;
    if who.person_id != Some(t.person_id) || who.has_role(Role::Inspector) {
        who.require(Action::ManageTokens, None)?;
    }
    people::revoke_token(&mut c, token_id, app.clock.now_ms()).await?;
    audit::append(
        app,
        &mut c,
        who,
        Event::ok("token.revoke", "api_token", token_id, ""),
    )
    .await?;
    c.commit().await?;
    app.caches.callers.forget_all();
    Ok(())
}

/// Keep log lines safe: control characters escaped, length capped.
fn sanitize_for_log(s: &str) -> String {
    s.chars().take(64).flat_map(char::escape_default).collect()
}

/// Audit a refused access attempt (policy denial) by a known caller.
pub async fn record_denied(app: &App, who: &Caller, action: &str, object: &str) -> AppResult<()> {
    audit::record_alone(
        app,
        who,
        Event {
            action,
            object_type: "route",
            object_id: object.to_owned(),
            result: AuditResult::Denied,
            detail: String::new(),
        },
    )
    .await
}
