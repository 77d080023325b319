//! Tests for the audit chain: known cases and 1000 random single tamperings.

use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;
use crate::crypto::Sm2KeyPair;

const KEY: &[u8] = b"audit-chain-test-key-held-outside-the-db";
const LEN: usize = 200;

type Row = (AuditRecord, [u8; 32]);

/// A tiny deterministic generator so the base chain is random-looking but fixed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn text(&mut self) -> String {
        const PIECES: [&str; 8] = ["", "a", "督办", "matter", "|", "\u{0}", "1.2.3.4", "张三"];
        (0..self.next() % 4)
            .map(|_| PIECES[(self.next() % 8) as usize])
            .collect()
    }
}

fn record(rng: &mut Lcg, seq: i64) -> AuditRecord {
    let detail = rng.text();
    AuditRecord {
        seq,
        at_ms: 1_700_000_000_000 + seq * 1000 + (rng.next() % 1000) as i64,
        actor_id: (!rng.next().is_multiple_of(3)).then(|| (rng.next() % 50) as i64),
        actor_name: rng.text(),
        role: rng.text(),
        source_ip: rng.text(),
        action: rng.text(),
        object_type: rng.text(),
        object_id: rng.text(),
        result: [AuditResult::Ok, AuditResult::Denied, AuditResult::Error]
            [(rng.next() % 3) as usize],
        request_id: rng.text(),
        detail_digest: detail_digest(&detail),
        detail,
    }
}

fn build(len: usize, seed: u64) -> Vec<Row> {
    let mut rng = Lcg(seed);
    let mut prev = GENESIS_MAC;
    (1..=len as i64)
        .map(|seq| {
            let rec = record(&mut rng, seq);
            prev = chain_mac(KEY, &prev, &rec);
            (rec, prev)
        })
        .collect()
}

fn base_chain() -> &'static Vec<Row> {
    static CHAIN: OnceLock<Vec<Row>> = OnceLock::new();
    CHAIN.get_or_init(|| build(LEN, 42))
}

fn head(chain: &[Row]) -> Option<(i64, [u8; 32])> {
    chain.last().map(|(r, m)| (r.seq, *m))
}

#[test]
fn an_untouched_chain_verifies() {
    let chain = base_chain();
    let report = verify_chain(KEY, chain.clone(), head(chain)).unwrap();
    assert_eq!(report.rows, LEN as u64);
    assert_eq!(report.head, head(chain));
}

#[test]
fn an_empty_chain_verifies_without_a_checkpoint_and_is_truncated_with_one() {
    assert_eq!(verify_chain(KEY, Vec::<Row>::new(), None).unwrap().rows, 0);
    assert_eq!(
        verify_chain(KEY, Vec::<Row>::new(), Some((3, [1; 32]))),
        Err(ChainBreak::Truncated {
            checkpoint_seq: 3,
            last_seq: 0
        })
    );
}

#[test]
fn the_wrong_key_fails_at_the_first_row() {
    assert_eq!(
        verify_chain(b"other key", base_chain().clone(), None),
        Err(ChainBreak::MacMismatch { seq: 1 })
    );
}

#[test]
fn rows_added_after_the_checkpoint_still_verify() {
    let chain = base_chain();
    let checkpoint = chain[99].clone();
    assert!(verify_chain(KEY, chain.clone(), Some((checkpoint.0.seq, checkpoint.1))).is_ok());
}

#[test]
fn a_chain_rewritten_with_the_key_is_caught_by_the_checkpoint() {
    let chain = base_chain();
    let mut rewritten = chain.clone();
    rewritten[149].0.detail.push('x');
    let mut prev = rewritten[148].1;
    for row in &mut rewritten[149..] {
        row.1 = chain_mac(KEY, &prev, &row.0);
        prev = row.1;
    }
    assert_eq!(
        verify_chain(KEY, rewritten, head(chain)),
        Err(ChainBreak::CheckpointMismatch { seq: LEN as i64 })
    );
}

#[test]
fn a_purged_chain_verifies_from_its_anchor() {
    let chain = base_chain();
    let start = ChainStart {
        seq: chain[49].0.seq,
        mac: chain[49].1,
    };
    let report = verify_chain_from(KEY, start, chain[50..].to_vec(), head(chain)).unwrap();
    assert_eq!(report.rows, 150);
    assert_eq!(
        verify_chain(KEY, chain[50..].to_vec(), None)
            .unwrap_err()
            .seq(),
        1
    );
}

#[test]
fn canonical_bytes_distinguish_field_boundaries() {
    let rec = base_chain()[0].0.clone();
    let mut a = rec.clone();
    a.actor_name = "ab".into();
    a.role = "c".into();
    let mut b = rec.clone();
    b.actor_name = "a".into();
    b.role = "bc".into();
    assert_ne!(canonical_bytes(&a), canonical_bytes(&b));
    let mut none = rec.clone();
    none.actor_id = None;
    let mut zero = rec;
    zero.actor_id = Some(0);
    assert_ne!(canonical_bytes(&none), canonical_bytes(&zero));
}

#[test]
fn checkpoints_verify_and_tampered_checkpoints_do_not() {
    let kp = Sm2KeyPair::from_seed(&[3u8; 32]).unwrap();
    let pk = crate::crypto::Sm2Signer::public_key(&kp);
    let (rec, mac) = base_chain()[LEN - 1].clone();
    let cp = sign_checkpoint(&kp, rec.seq, mac, 1_700_000_999_000).unwrap();
    assert!(verify_checkpoint(&pk, &cp));
    assert_eq!(cp.head(), (rec.seq, mac));

    let json = serde_json::to_string(&cp).unwrap();
    assert!(verify_checkpoint(
        &pk,
        &serde_json::from_str(&json).unwrap()
    ));

    for tampered in [
        Checkpoint {
            seq: cp.seq - 1,
            ..cp.clone()
        },
        Checkpoint {
            at_ms: cp.at_ms + 1,
            ..cp.clone()
        },
        Checkpoint {
            mac: [0; 32],
            ..cp.clone()
        },
        Checkpoint {
            signature: vec![1; 64],
            ..cp.clone()
        },
    ] {
        assert!(!verify_checkpoint(&pk, &tampered));
    }
    let other = Sm2KeyPair::from_seed(&[4u8; 32]).unwrap();
    assert!(!verify_checkpoint(
        &crate::crypto::Sm2Signer::public_key(&other),
        &cp
    ));
}

#[test]
fn break_messages_are_in_chinese() {
    assert_eq!(
        ChainBreak::Gap {
            expected: 5,
            found: 6
        }
        .to_string(),
        "审计记录缺失：应为 5，实为 6"
    );
}

/// One single tampering of the stored chain.
#[derive(Debug, Clone)]
enum Tamper {
    EditField {
        row: usize,
        field: u8,
    },
    Delete {
        row: usize,
    },
    SwapRows {
        a: usize,
        b: usize,
    },
    SwapContents {
        a: usize,
        b: usize,
    },
    Truncate {
        from: usize,
    },
    Forge {
        at: usize,
        renumber: bool,
        keyed_with_wrong_key: bool,
    },
}

fn tamper_strategy() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (0..LEN, 0u8..14).prop_map(|(row, field)| Tamper::EditField { row, field }),
        (0..LEN).prop_map(|row| Tamper::Delete { row }),
        (0..LEN, 0..LEN)
            .prop_filter("distinct rows", |(a, b)| a != b)
            .prop_map(|(a, b)| Tamper::SwapRows {
                a: a.min(b),
                b: a.max(b)
            }),
        (0..LEN, 0..LEN)
            .prop_filter("distinct rows", |(a, b)| a != b)
            .prop_map(|(a, b)| Tamper::SwapContents {
                a: a.min(b),
                b: a.max(b)
            }),
        (0..LEN).prop_map(|from| Tamper::Truncate { from }),
        (0..=LEN, any::<bool>(), any::<bool>()).prop_map(|(at, renumber, keyed_with_wrong_key)| {
            Tamper::Forge {
                at,
                renumber,
                keyed_with_wrong_key,
            }
        }),
    ]
}

fn edit_field(rec: &mut AuditRecord, mac: &mut [u8; 32], field: u8) {
    match field {
        0 => rec.seq += 7,
        1 => rec.seq -= 1,
        2 => rec.at_ms += 1,
        3 => {
            rec.actor_id = if rec.actor_id.is_some() {
                None
            } else {
                Some(1)
            }
        }
        4 => rec.actor_name.push('x'),
        5 => rec.role.push('x'),
        6 => rec.source_ip.push('x'),
        7 => rec.action.push('x'),
        8 => rec.object_type.push('x'),
        9 => rec.object_id.push('x'),
        10 => {
            rec.result = match rec.result {
                AuditResult::Ok => AuditResult::Denied,
                _ => AuditResult::Ok,
            }
        }
        11 => rec.request_id.push('x'),
        12 => rec.detail.push('x'),
        _ => mac[0] ^= 0x80,
    }
}

/// Applies the tampering; returns the first affected seq.
fn apply(chain: &mut Vec<Row>, tamper: &Tamper) -> i64 {
    let seq_of = |i: usize| i as i64 + 1;
    match *tamper {
        Tamper::EditField { row, field } => {
            let (rec, mac) = &mut chain[row];
            edit_field(rec, mac, field);
            seq_of(row)
        }
        Tamper::Delete { row } => {
            chain.remove(row);
            seq_of(row)
        }
        Tamper::SwapRows { a, b } => {
            chain.swap(a, b);
            seq_of(a)
        }
        Tamper::SwapContents { a, b } => {
            let (sa, sb) = (chain[a].0.seq, chain[b].0.seq);
            chain.swap(a, b);
            chain[a].0.seq = sa;
            chain[b].0.seq = sb;
            seq_of(a)
        }
        Tamper::Truncate { from } => {
            chain.truncate(from);
            seq_of(from)
        }
        Tamper::Forge {
            at,
            renumber,
            keyed_with_wrong_key,
        } => {
            let mut forged = chain[at.min(LEN - 1)].0.clone();
            forged.seq = seq_of(at);
            forged.detail = "伪造".into();
            forged.detail_digest = detail_digest(&forged.detail);
            let prev = if at == 0 {
                GENESIS_MAC
            } else {
                chain[at - 1].1
            };
            let mac = if keyed_with_wrong_key {
                chain_mac(b"stolen-but-wrong-key", &prev, &forged)
            } else {
                sha256(&[prev.as_slice(), &canonical_bytes(&forged)].concat())
            };
            if renumber {
                for row in &mut chain[at..] {
                    row.0.seq += 1;
                }
            }
            chain.insert(at, (forged, mac));
            seq_of(at)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_single_tampering_is_detected_at_the_first_affected_row(tamper in tamper_strategy()) {
        let original = base_chain();
        let mut chain = original.clone();
        let expected_seq = apply(&mut chain, &tamper);
        let outcome = verify_chain(KEY, chain, head(original));
        let err = outcome.expect_err("tampering went undetected");
        prop_assert_eq!(err.seq(), expected_seq, "{:?} reported as {:?}", tamper, err);
    }
}
