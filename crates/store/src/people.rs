//! People (one person, one account), their roles, password history, sessions and API tokens.

use serde::Serialize;

use crate::{Conn, GetCol, StoreError, StoreResult};

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub position: String,
    pub email: String,
    pub clearance: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub password_changed_at: Option<i64>,
    pub must_change_password: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    #[serde(skip)]
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub disabled: bool,
    pub expires_at: Option<i64>,
    pub last_login_at: Option<i64>,
}

const COLS: &str = "id, username, display_name, unit_id, position, email, clearance, password_hash, \
    password_changed_at, must_change_password, failed_logins, locked_until, totp_secret, totp_last_step, \
    disabled, expires_at, last_login_at";

fn map(r: &(impl GetCol + ?Sized)) -> StoreResult<Person> {
    Ok(Person {
        id: r.i64("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        unit_id: r.i64("unit_id")?,
        position: r.text("position")?,
        email: r.text("email")?,
        clearance: r.text("clearance")?,
        password_hash: r.opt_text("password_hash")?,
        password_changed_at: r.opt_i64("password_changed_at")?,
        must_change_password: r.flag("must_change_password")?,
        failed_logins: r.i64("failed_logins")?,
        locked_until: r.opt_i64("locked_until")?,
        totp_secret: r.opt_text("totp_secret")?,
        totp_last_step: r.opt_i64("totp_last_step")?,
        disabled: r.flag("disabled")?,
        expires_at: r.opt_i64("expires_at")?,
        last_login_at: r.opt_i64("last_login_at")?,
    })
}

#[derive(Debug, Clone)]
pub struct NewPerson<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub unit_id: i64,
    pub position: &'a str,
    pub email: &'a str,
    pub clearance: &'a str,
    pub password_hash: Option<&'a str>,
    pub must_change_password: bool,
}

pub async fn insert_person(c: &mut Conn, p: &NewPerson<'_>, now_ms: i64) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO people (username, display_name, unit_id, position, email, clearance, password_hash,
            password_changed_at, must_change_password, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $8) RETURNING id")
        .bind(p.username).bind(p.display_name).bind(p.unit_id).bind(p.position).bind(p.email)
        .bind(p.clearance).bind(p.password_hash).bind(now_ms).bind(p.must_change_password)
        .fetch_one(&mut *c).await.map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict("people.username".into()),
            other => other,
        })?);
    if let Some(h) = p.password_hash {
        push_password_history(c, id, h, now_ms).await?;
    }
    Ok(id)
}

pub async fn find_by_username(c: &mut Conn, username: &str) -> StoreResult<Option<Person>> {
    let sql = format!("SELECT {COLS} FROM people WHERE username = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&mut *c).await? {
        Some(r) => Some(map(&r)?),
        None => None,
    });
    Ok(v)
}

pub async fn find_person(c: &mut Conn, id: i64) -> StoreResult<Option<Person>> {
    let sql = format!("SELECT {COLS} FROM people WHERE id = $1");
    let v = crate::on!(c, c => match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await? {
        Some(r) => Some(map(&r)?),
        None => None,
    });
    Ok(v)
}

pub async fn get_person(c: &mut Conn, id: i64) -> StoreResult<Person> {
    find_person(c, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("person {id}")))
}

pub async fn list_people(c: &mut Conn) -> StoreResult<Vec<Person>> {
    let sql = format!("SELECT {COLS} FROM people ORDER BY unit_id, id");
    let v = crate::on!(c, c => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
        rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// Fingerprint of the names directory: (people, latest person change, holders of `role`, sum of
/// their ids). Names are never edited in place without bumping `updated_at`, and a role swap
/// changes the id sum, so an unchanged stamp means an unchanged directory.
pub async fn names_stamp(c: &mut Conn, role: &str) -> StoreResult<[i64; 4]> {
    // Kept by a SQLite read connection until the database changes (`sync_read::ints`): the two
    // passes over `people` are 3 ms at 10^6 matters, on every page that shows names.
    crate::sync_read::ints(
        c,
        "SELECT (SELECT COUNT(*) FROM people) AS n, (SELECT COALESCE(MAX(updated_at), 0) FROM people) AS t,
                (SELECT COUNT(*) FROM person_roles WHERE role = $1) AS rn,
                (SELECT CAST(COALESCE(SUM(person_id), 0) AS BIGINT) FROM person_roles WHERE role = $1) AS rs",
        &[crate::matters::Arg::Text(role.to_owned())],
        ["n", "t", "rn", "rs"],
    )
    .await
}

/// Every person's id and display name, by id.
pub async fn all_names(c: &mut Conn) -> StoreResult<Vec<(i64, String)>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT id, display_name FROM people ORDER BY id").fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok((r.i64("id")?, r.text("display_name")?))).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

/// The ids of the holders of `role`, by id.
pub async fn holders_of(c: &mut Conn, role: &str) -> StoreResult<Vec<i64>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT person_id FROM person_roles WHERE role = $1 ORDER BY person_id").bind(role).fetch_all(&mut *c).await?;
        rows.iter().map(|r| r.i64("person_id")).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

pub async fn count_people(c: &mut Conn) -> StoreResult<i64> {
    let n: i64 = crate::on!(c, c => sqlx::query_scalar("SELECT COUNT(*) FROM people").fetch_one(&mut *c).await?);
    Ok(n)
}

// ----- roles -----

pub async fn grant_role(
    c: &mut Conn,
    person_id: i64,
    role: &str,
    by: Option<i64>,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO person_roles (person_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (person_id, role) DO NOTHING")
        .bind(person_id).bind(role).bind(by).bind(now_ms).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn revoke_role(c: &mut Conn, person_id: i64, role: &str) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query("DELETE FROM person_roles WHERE person_id = $1 AND role = $2")
        .bind(person_id).bind(role).execute(&mut *c).await?.rows_affected());
    Ok(n > 0)
}

pub async fn roles_of(c: &mut Conn, person_id: i64) -> StoreResult<Vec<String>> {
    let v: Vec<String> = crate::on!(c, c => sqlx::query_scalar(
        "SELECT role FROM person_roles WHERE person_id = $1 ORDER BY role")
        .bind(person_id).fetch_all(&mut *c).await?);
    Ok(v)
}

/// All (person_id, role) pairs.
pub async fn all_roles(c: &mut Conn) -> StoreResult<Vec<(i64, String)>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query("SELECT person_id, role FROM person_roles ORDER BY person_id, role").fetch_all(&mut *c).await?;
        rows.iter().map(|r| Ok((r.i64("person_id")?, r.text("role")?))).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

// ----- passwords and login counters -----

pub async fn push_password_history(
    c: &mut Conn,
    person_id: i64,
    hash: &str,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("INSERT INTO password_history (person_id, hash, created_at) VALUES ($1, $2, $3)")
        .bind(person_id).bind(hash).bind(now_ms).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// The last `n` password hashes of a person, newest first.
pub async fn password_history(c: &mut Conn, person_id: i64, n: i64) -> StoreResult<Vec<String>> {
    let v: Vec<String> = crate::on!(c, c => sqlx::query_scalar(
        "SELECT hash FROM password_history WHERE person_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(person_id).bind(n).fetch_all(&mut *c).await?);
    Ok(v)
}

pub async fn set_password(
    c: &mut Conn,
    person_id: i64,
    hash: &str,
    must_change: bool,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "UPDATE people SET password_hash = $1, password_changed_at = $2, must_change_password = $3,
            failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $4")
        .bind(hash).bind(now_ms).bind(must_change).bind(person_id).execute(&mut *c).await?.rows_affected());
    push_password_history(c, person_id, hash, now_ms).await
}

/// Count one failed login atomically; lock when the count reaches `max`. Returns the new count
/// and lock time. Exact under concurrency: the increment happens in the UPDATE itself.
pub async fn record_failed_login(
    c: &mut Conn,
    person_id: i64,
    max: i64,
    lock_until_ms: i64,
) -> StoreResult<(i64, Option<i64>)> {
    let v = crate::on!(c, c => {
        let r = sqlx::query(
            "UPDATE people SET failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END
             WHERE id = $3 RETURNING failed_logins, locked_until")
            .bind(max).bind(lock_until_ms).bind(person_id).fetch_one(&mut *c).await?;
        (r.i64("failed_logins")?, r.opt_i64("locked_until")?)
    });
    Ok(v)
}

pub async fn record_login(c: &mut Conn, person_id: i64, now_ms: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "UPDATE people SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2")
        .bind(now_ms).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn unlock(c: &mut Conn, person_id: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE people SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Keep a TOTP secret that is being enrolled until the first code confirms it.
pub async fn set_totp_pending(
    c: &mut Conn,
    person_id: i64,
    secret: Option<&str>,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE people SET totp_pending = $1 WHERE id = $2")
        .bind(secret).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn totp_pending(c: &mut Conn, person_id: i64) -> StoreResult<Option<String>> {
    let v: Option<Option<String>> = crate::on!(c, c => sqlx::query_scalar("SELECT totp_pending FROM people WHERE id = $1")
        .bind(person_id).fetch_optional(&mut *c).await?);
    Ok(v.flatten())
}

pub async fn set_totp(
    c: &mut Conn,
    person_id: i64,
    secret: Option<&str>,
    last_step: Option<i64>,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE people SET totp_secret = $1, totp_last_step = $2 WHERE id = $3")
        .bind(secret).bind(last_step).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Record the TOTP step just used, refusing a replay: succeeds only if the step is newer.
pub async fn use_totp_step(c: &mut Conn, person_id: i64, step: i64) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query(
        "UPDATE people SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)")
        .bind(step).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn set_disabled(
    c: &mut Conn,
    person_id: i64,
    disabled: bool,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE people SET disabled = $1, updated_at = $2 WHERE id = $3")
        .bind(disabled).bind(now_ms).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

// ----- sessions -----

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub person_id: i64,
    pub csrf_token: String,
    pub second_factor: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub async fn insert_session(c: &mut Conn, s: &Session, ip: &str) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query(
        "INSERT INTO sessions (token_hash, person_id, csrf_token, second_factor, created_at, last_seen_at, source_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&s.token_hash).bind(s.person_id).bind(&s.csrf_token).bind(s.second_factor)
        .bind(s.created_at).bind(s.last_seen_at).bind(ip).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn find_session(c: &mut Conn, token_hash: &str) -> StoreResult<Option<Session>> {
    let v = crate::on!(c, c => match sqlx::query(
        "SELECT token_hash, person_id, csrf_token, second_factor, created_at, last_seen_at FROM sessions WHERE token_hash = $1")
        .bind(token_hash).fetch_optional(&mut *c).await? {
        Some(r) => Some(Session {
            token_hash: r.text("token_hash")?,
            person_id: r.i64("person_id")?,
            csrf_token: r.text("csrf_token")?,
            second_factor: r.flag("second_factor")?,
            created_at: r.i64("created_at")?,
            last_seen_at: r.i64("last_seen_at")?,
        }),
        None => None,
    });
    Ok(v)
}

pub async fn touch_session(c: &mut Conn, token_hash: &str, now_ms: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now_ms).bind(token_hash).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn set_session_second_factor(c: &mut Conn, token_hash: &str) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE sessions SET second_factor = TRUE WHERE token_hash = $1")
        .bind(token_hash).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn delete_session(c: &mut Conn, token_hash: &str) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// End every session of a person (password change, disable, role change).
pub async fn delete_sessions_of(c: &mut Conn, person_id: i64) -> StoreResult<u64> {
    let n = crate::on!(c, c => sqlx::query("DELETE FROM sessions WHERE person_id = $1")
        .bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(n)
}

// ----- API tokens -----

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

fn map_token(r: &(impl GetCol + ?Sized)) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: r.i64("id")?,
        person_id: r.i64("person_id")?,
        name: r.text("name")?,
        created_at: r.i64("created_at")?,
        expires_at: r.opt_i64("expires_at")?,
        revoked_at: r.opt_i64("revoked_at")?,
        last_used_at: r.opt_i64("last_used_at")?,
    })
}

pub async fn insert_token(
    c: &mut Conn,
    person_id: i64,
    name: &str,
    token_hash: &str,
    expires_at: Option<i64>,
    now_ms: i64,
) -> StoreResult<i64> {
    let id: i64 = crate::on!(c, c => sqlx::query_scalar(
        "INSERT INTO api_tokens (person_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(person_id).bind(name).bind(token_hash).bind(now_ms).bind(expires_at).fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn find_token_by_hash(c: &mut Conn, token_hash: &str) -> StoreResult<Option<ApiToken>> {
    let v = crate::on!(c, c => match sqlx::query(
        "SELECT id, person_id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens WHERE token_hash = $1")
        .bind(token_hash).fetch_optional(&mut *c).await? {
        Some(r) => Some(map_token(&r)?),
        None => None,
    });
    Ok(v)
}

/// A bearer token with everything needed to authenticate it, read in one query: the token, its
/// person, the person's role codes (by code) and the unit tree's fingerprint (see
/// [`crate::org::units_stamp`]). Four queries per request before.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub token: ApiToken,
    pub person: Person,
    pub roles: Vec<String>,
    pub units_stamp: (i64, i64),
}

/// The token with digest `token_hash`, its person, roles and the unit-tree fingerprint, or `None`
/// for an unknown token. One row per role (a person without roles gives one row with no role).
pub async fn find_token_caller(c: &mut Conn, token_hash: &str) -> StoreResult<Option<TokenCaller>> {
    const SQL: &str = "SELECT t.id AS t_id, t.person_id AS t_person_id, t.name AS t_name, \
        t.created_at AS t_created_at, t.expires_at AS t_expires_at, t.revoked_at AS t_revoked_at, \
        t.last_used_at AS t_last_used_at, \
        p.id, p.username, p.display_name, p.unit_id, p.position, p.email, p.clearance, p.password_hash, \
        p.password_changed_at, p.must_change_password, p.failed_logins, p.locked_until, p.totp_secret, \
        p.totp_last_step, p.disabled, p.expires_at, p.last_login_at, r.role AS r_role, \
        (SELECT COUNT(*) FROM units) AS units_n, (SELECT COALESCE(MAX(updated_at), 0) FROM units) AS units_t \
        FROM api_tokens t JOIN people p ON p.id = t.person_id \
        LEFT JOIN person_roles r ON r.person_id = p.id \
        WHERE t.token_hash = $1 ORDER BY r.role";
    let v = crate::on!(c, c => {
        let rows = sqlx::query(SQL).bind(token_hash).fetch_all(&mut *c).await?;
        match rows.first() {
            None => None,
            Some(first) => Some(TokenCaller {
                token: ApiToken {
                    id: first.i64("t_id")?,
                    person_id: first.i64("t_person_id")?,
                    name: first.text("t_name")?,
                    created_at: first.i64("t_created_at")?,
                    expires_at: first.opt_i64("t_expires_at")?,
                    revoked_at: first.opt_i64("t_revoked_at")?,
                    last_used_at: first.opt_i64("t_last_used_at")?,
                },
                person: map(first)?,
                roles: rows
                    .iter()
                    .map(|r| r.opt_text("r_role"))
                    .filter_map(Result::transpose)
                    .collect::<StoreResult<Vec<_>>>()?,
                units_stamp: (first.i64("units_n")?, first.i64("units_t")?),
            }),
        }
    });
    Ok(v)
}

pub async fn list_tokens(c: &mut Conn, person_id: Option<i64>) -> StoreResult<Vec<ApiToken>> {
    let v = crate::on!(c, c => {
        let rows = sqlx::query(
            "SELECT id, person_id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens
             WHERE ($1 IS NULL OR person_id = $1) ORDER BY id DESC")
            .bind(person_id).fetch_all(&mut *c).await?;
        rows.iter().map(map_token).collect::<StoreResult<Vec<_>>>()?
    });
    Ok(v)
}

pub async fn revoke_token(c: &mut Conn, id: i64, now_ms: i64) -> StoreResult<bool> {
    let n = crate::on!(c, c => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn touch_token(c: &mut Conn, id: i64, now_ms: i64) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now_ms).bind(id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn set_clearance(
    c: &mut Conn,
    person_id: i64,
    clearance: &str,
    now_ms: i64,
) -> StoreResult<()> {
    crate::on!(c, c => sqlx::query("UPDATE people SET clearance = $1, updated_at = $2 WHERE id = $3")
        .bind(clearance).bind(now_ms).bind(person_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// The people with these ids (any order; missing ids are left out), in chunked `IN` lists.
pub async fn people_by_ids(c: &mut Conn, ids: &[i64]) -> StoreResult<Vec<Person>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        // Integers formatted here, never user text.
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = format!("SELECT {COLS} FROM people WHERE id IN ({})", list.join(","));
        let rows = crate::on!(c, c => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false).fetch_all(&mut *c).await?;
            rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?
        });
        out.extend(rows);
    }
    Ok(out)
}
