//! Reads and writes the JSON API needs beyond the pages (issue 7): the unit list any user may
//! read (to fill unit ids), and 立项 with an Idempotency-Key whose stored answer commits in the
//! same transaction as the matter.

use sha2::{Digest, Sha256};
use taizhang_store::org::{self, Unit};
use taizhang_store::outbox::{self as store_out, IdemRow};

use crate::ledger::matters::{CreateIn, NewMatter, create_matter_in};
use crate::{App, AppError, AppResult, Caller};

/// Every unit (names are not sensitive; the 立项 form shows them to everyone).
pub async fn list_units(app: &App, who: &Caller) -> AppResult<Vec<Unit>> {
    if who.person_id.is_none() && !who.is_system() {
        return Err(AppError::Forbidden);
    }
    let mut c = app.store.read().await?;
    Ok(org::list_units(&mut c).await?)
}

/// The stored answer to an earlier request with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub status: u16,
    pub body: String,
}

fn digest(s: &[u8]) -> String {
    hex::encode(Sha256::digest(s))
}

/// 立项 once per Idempotency-Key: the same key with the same body answers the stored response;
/// the same key with another body is refused (`idempotency_mismatch`). `render` turns the new id
/// into the (status, body) to store and return.
pub async fn create_matter_once(
    app: &App,
    who: &Caller,
    key: &str,
    raw_body: &[u8],
    input: NewMatter,
    render: impl FnOnce(i64) -> (u16, String),
) -> AppResult<Replay> {
    let person = who
        .person_id
        .ok_or_else(|| AppError::rule("person_required", "此操作须由具体人员执行"))?;
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "idempotency_key",
            "Idempotency-Key 须为 1–200 个可见字符",
        ));
    }
    let key_hash = digest(key.as_bytes());
    let request_hash = digest(raw_body);
    let mut c = app.store.begin().await?;
    if let Some(prev) = store_out::find_idempotency(&mut c, person, &key_hash).await? {
        if prev.request_hash != request_hash {
            return Err(AppError::invalid(
                "Idempotency-Key",
                "idempotency_mismatch",
                "同一 Idempotency-Key 已用于不同的请求体",
            ));
        }
        return Ok(Replay {
            status: u16::try_from(prev.status).unwrap_or(200),
            body: prev.body,
        });
    }
    let id = create_matter_in(app, &mut c, who, input, &CreateIn::default()).await?;
    let (status, body) = render(id);
    let row = IdemRow {
        request_hash,
        status: i64::from(status),
        body: body.clone(),
    };
    store_out::insert_idempotency(&mut c, person, &key_hash, &row, app.clock.now_ms()).await?;
    c.commit().await?;
    Ok(Replay { status, body })
}
