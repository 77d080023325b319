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

use taizhang_domain::audit_chain::{ChainBreak, ChainStart, Checkpoint};
use taizhang_domain::crypto::{Sm2KeyPair, Sm2Signer};
use taizhang_store::audit::CheckpointRow;

/// The setting that remembers where the kept chain starts after old rows were purged.
const CHAIN_START_KEY: &str = "audit.chain_start";

/// The SM2 key that signs checkpoints, derived from the audit key (which lives outside the DB).
fn checkpoint_key(app: &App) -> AppResult<Sm2KeyPair> {
    let mut seed = b"taizhang-audit-checkpoint/".to_vec();
    seed.extend_from_slice(&app.settings.audit_key);
    let digest = taizhang_domain::crypto::sha256(&seed);
    Sm2KeyPair::from_seed(&digest).map_err(|e| AppError::Internal(format!("checkpoint key: {e}")))
}

/// Sign the current head of the chain as a checkpoint (if it moved since the last one).
pub async fn checkpoint(app: &App) -> AppResult<Option<i64>> {
    // The scheduler asks every minute: look on a read connection first, and take the write
    // lock only when the head moved since the last checkpoint.
    {
        let mut r = app.store.read().await?;
        let (seq, _) = store_audit::head(&mut r).await?;
        if seq == 0 || seq <= store_audit::last_checkpoint_seq(&mut r).await? {
            return Ok(None);
        }
    }
    let key = checkpoint_key(app)?;
    let mut c = app.store.begin().await?;
    let (seq, mac_hex) = store_audit::head(&mut c).await?;
    if seq <= store_audit::last_checkpoint_seq(&mut c).await? {
        return Ok(None);
    }
    let mac = decode_mac(&mac_hex)
        .ok_or_else(|| AppError::Internal("audit head MAC is malformed".into()))?;
    let cp = audit_chain::sign_checkpoint(&key, seq, mac, app.clock.now_ms())
        .map_err(|e| AppError::Internal(format!("signing checkpoint: {e}")))?;
    store_audit::insert_checkpoint(
        &mut c,
        &CheckpointRow {
            seq,
            at_ms: cp.at_ms,
            mac: mac_hex,
            signature: hex::encode(&cp.signature),
        },
    )
    .await?;
    c.commit().await?;
    Ok(Some(seq))
}

/// What `taizhang audit verify` found.
#[derive(Debug, Clone)]
pub struct Verified {
    pub rows: u64,
    pub head_seq: i64,
    pub checkpoints: usize,
}

/// Verify the whole trail: every MAC, no gap, no reordering, every SM2-signed checkpoint valid
/// and matched by the chain, nothing truncated below the newest checkpoint or the head.
pub async fn verify(app: &App) -> AppResult<Result<Verified, ChainBreak>> {
    let key = &app.settings.audit_key;
    let mut c = app.store.read().await?;
    let start = match crate::settings_value(&mut c, CHAIN_START_KEY).await? {
        Some(v) => parse_chain_start(&v)
            .ok_or_else(|| AppError::Internal("audit.chain_start is malformed".into()))?,
        None => ChainStart::GENESIS,
    };
    let pubkey = checkpoint_key(app)?.public_key();
    let cps: Vec<CheckpointRow> = store_audit::checkpoints(&mut c).await?;
    let mut pending: Vec<(i64, [u8; 32])> = Vec::new();
    for row in &cps {
        let (Some(mac), Ok(sig)) = (decode_mac(&row.mac), hex::decode(&row.signature)) else {
            return Ok(Err(ChainBreak::CheckpointMismatch { seq: row.seq }));
        };
        let cp = Checkpoint {
            seq: row.seq,
            mac,
            at_ms: row.at_ms,
            signature: sig,
        };
        if !audit_chain::verify_checkpoint(&pubkey, &cp) {
            return Ok(Err(ChainBreak::CheckpointMismatch { seq: row.seq }));
        }
        if row.seq > start.seq {
            pending.push((row.seq, mac));
        }
    }
    let (head_seq, head_hex) = store_audit::head(&mut c).await?;
    let mut cursor = start;
    let mut rows = 0u64;
    loop {
        let page = store_audit::scan(&mut c, cursor.seq, 5000).await?;
        if page.is_empty() {
            break;
        }
        let recs: Vec<(AuditRecord, [u8; 32])> = page.iter().map(from_row).collect();
        for (rec, mac) in &recs {
            if let Some(&(_, want)) = pending.iter().find(|(s, _)| *s == rec.seq)
                && want != *mac
            {
                return Ok(Err(ChainBreak::CheckpointMismatch { seq: rec.seq }));
            }
        }
        match audit_chain::verify_chain_from(key, cursor, recs, None) {
            Ok(rep) => {
                rows += rep.rows;
                if let Some((s, m)) = rep.head {
                    cursor = ChainStart { seq: s, mac: m };
                }
            }
            Err(b) => return Ok(Err(b)),
        }
    }
    let newest_cp = pending.iter().map(|(s, _)| *s).max().unwrap_or(0);
    let floor = newest_cp.max(head_seq);
    if cursor.seq < floor {
        return Ok(Err(ChainBreak::Truncated {
            checkpoint_seq: floor,
            last_seq: cursor.seq,
        }));
    }
    if cursor.seq > start.seq && decode_mac(&head_hex) != Some(cursor.mac) && head_seq == cursor.seq
    {
        return Ok(Err(ChainBreak::CheckpointMismatch { seq: head_seq }));
    }
    Ok(Ok(Verified {
        rows,
        head_seq: cursor.seq,
        checkpoints: cps.len(),
    }))
}

fn parse_chain_start(v: &str) -> Option<ChainStart> {
    let (seq, mac) = v.split_once(':')?;
    Some(ChainStart {
        seq: seq.parse().ok()?,
        mac: decode_mac(mac)?,
    })
}

/// Search the trail (审计管理员 and 纪检监察 only). Reading the trail is itself audited.
pub async fn search(
    app: &App,
    who: &Caller,
    q: &store_audit::AuditQuery,
) -> AppResult<Vec<AuditRow>> {
    who.require(taizhang_domain::policy::Action::ViewAuditTrail, None)?;
    let rows = {
        let mut c = app.store.read().await?;
        store_audit::search(&mut c, q).await?
    };
    record_alone(
        app,
        who,
        Event::ok("audit.search", "audit_log", "", format!("{q:?}")),
    )
    .await?;
    Ok(rows)
}

/// The retention floor: the law (网络安全法) asks for at least six months; no setting goes lower.
pub const RETENTION_FLOOR_DAYS: i64 = 180;

/// The cut-off instant for a retention setting at `now_ms`: never later than 180 days ago.
pub fn retention_cutoff(now_ms: i64, configured_days: i64) -> i64 {
    now_ms - configured_days.max(RETENTION_FLOOR_DAYS) * 86_400_000
}

/// Purge records older than the retention period. The chain stays verifiable: the last purged
/// record's (seq, MAC) becomes the chain start. The purge itself is audited.
pub async fn purge_expired(app: &App) -> AppResult<u64> {
    let cutoff = retention_cutoff(app.clock.now_ms(), app.settings.audit_retention_days);
    // Asked every minute and almost always nothing to do: check on a read connection first.
    {
        let mut r = app.store.read().await?;
        if store_audit::purgeable_prefix(&mut r, cutoff)
            .await?
            .is_none()
        {
            return Ok(0);
        }
    }
    let mut c = app.store.begin().await?;
    let Some((seq, mac)) = store_audit::purgeable_prefix(&mut c, cutoff).await? else {
        return Ok(0);
    };
    // Keep the head's record even when old, so the chain always has its last link.
    let (head, _) = store_audit::head(&mut c).await?;
    let (seq, mac) = if seq < head {
        (seq, mac)
    } else {
        match store_audit::scan(&mut c, head - 2, 1).await?.first() {
            Some(r) if r.seq == head - 1 => (r.seq, r.mac.clone()),
            _ => return Ok(0),
        }
    };
    if seq <= 0 {
        return Ok(0);
    }
    taizhang_store::settings::put(
        &mut c,
        CHAIN_START_KEY,
        &format!("{seq}:{mac}"),
        app.clock.now_ms(),
    )
    .await?;
    let n = store_audit::delete_through(&mut c, seq).await?;
    append(
        app,
        &mut c,
        &Caller::system("retention"),
        Event::ok(
            "audit.purge",
            "audit_log",
            seq,
            format!("deleted={n} cutoff_ms={cutoff}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod retention_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn no_record_younger_than_180_days_is_ever_purgeable(now in 0i64..4_000_000_000_000, days in -1000i64..5000, age_days in 0i64..179) {
            let cutoff = retention_cutoff(now, days);
            let record_at = now - age_days * 86_400_000;
            prop_assert!(record_at >= cutoff);
        }
    }
}
