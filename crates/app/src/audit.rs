//! Appending to the tamper-evident audit trail, inside the caller's transaction, and verifying it.

use taizhang_domain::audit_chain::{self, AuditRecord, AuditResult};
use taizhang_store::Conn;
use taizhang_store::audit::{self as store_audit, AuditRow};

use crate::{App, AppError, AppResult, Caller};

/// What happened, to what. The who/where/when come from the [`Caller`] and the clock.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    pub result: AuditResult,
    /// A short description of the change (before/after), digested into the record.
    pub detail: String,
}

impl<'a> Event<'a> {
    pub fn ok(
        action: &'a str,
        object_type: &'a str,
        object_id: impl ToString,
        detail: impl Into<String>,
    ) -> Self {
        Event {
            action,
            object_type,
            object_id: object_id.to_string(),
            result: AuditResult::Ok,
            detail: detail.into(),
        }
    }

    pub fn denied(
        action: &'a str,
        object_type: &'a str,
        object_id: impl ToString,
        detail: impl Into<String>,
    ) -> Self {
        Event {
            action,
            object_type,
            object_id: object_id.to_string(),
            result: AuditResult::Denied,
            detail: detail.into(),
        }
    }
}

/// Append one record in the same transaction as the change it describes: neither can exist
/// without the other. Returns the sequence number.
pub async fn append(app: &App, c: &mut Conn, who: &Caller, ev: Event<'_>) -> AppResult<i64> {
    let (seq, prev_hex) = store_audit::reserve_next(c).await?;
    let prev = decode_mac(&prev_hex)
        .ok_or_else(|| AppError::Internal("audit head MAC is malformed".into()))?;
    let rec = AuditRecord {
        seq,
        at_ms: app.clock.now_ms(),
        actor_id: who.person_id,
        actor_name: who.name.clone(),
        role: who.role_codes(),
        source_ip: who.source_ip.clone(),
        action: ev.action.to_owned(),
        object_type: ev.object_type.to_owned(),
        object_id: ev.object_id,
        result: ev.result,
        request_id: who.request_id.clone(),
        detail_digest: audit_chain::detail_digest(&ev.detail),
        detail: ev.detail,
    };
    let mac = audit_chain::chain_mac(&app.settings.audit_key, &prev, &rec);
    store_audit::insert(c, &to_row(&rec, &mac)).await?;
    Ok(seq)
}

/// Record a refused or failed attempt in its own transaction (the attempt itself changed nothing).
pub async fn record_alone(app: &App, who: &Caller, ev: Event<'_>) -> AppResult<()> {
    let mut c = app.store.begin().await?;
    append(app, &mut c, who, ev).await?;
    c.commit().await?;
    Ok(())
}

pub fn to_row(rec: &AuditRecord, mac: &[u8; 32]) -> AuditRow {
    AuditRow {
        seq: rec.seq,
        at_ms: rec.at_ms,
        actor_id: rec.actor_id,
        actor_name: rec.actor_name.clone(),
        role: rec.role.clone(),
        source_ip: rec.source_ip.clone(),
        action: rec.action.clone(),
        object_type: rec.object_type.clone(),
        object_id: rec.object_id.clone(),
        result: rec.result.code().to_owned(),
        request_id: rec.request_id.clone(),
        detail: rec.detail.clone(),
        detail_digest: rec.detail_digest.clone(),
        mac: hex::encode(mac),
    }
}

/// A stored row back into the domain record and its stored MAC (`None` when malformed, which
/// the verifier reports as a break at that row).
pub fn from_row(row: &AuditRow) -> (AuditRecord, [u8; 32]) {
    let rec = AuditRecord {
        seq: row.seq,
        at_ms: row.at_ms,
        actor_id: row.actor_id,
        actor_name: row.actor_name.clone(),
        role: row.role.clone(),
        source_ip: row.source_ip.clone(),
        action: row.action.clone(),
        object_type: row.object_type.clone(),
        object_id: row.object_id.clone(),
        // An unknown result code cannot be a genuine row; mapping it to Error makes the MAC fail.
        result: AuditResult::parse(&row.result).unwrap_or(AuditResult::Error),
        request_id: row.request_id.clone(),
        detail_digest: row.detail_digest.clone(),
        detail: row.detail.clone(),
    };
    let mac = decode_mac(&row.mac).unwrap_or([0xff; 32]);
    (rec, mac)
}

pub fn decode_mac(hex_mac: &str) -> Option<[u8; 32]> {
    let v = hex::decode(hex_mac).ok()?;
    v.try_into().ok()
}
