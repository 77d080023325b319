//! 每日汇总 — many notifications for one person become one message.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::message::{EventKind, Notification, one_line};

/// Items listed in full; the rest are counted.
const MAX_LISTED: usize = 50;

/// Groups `(recipient, notification)` pairs by recipient, keeping arrival order within a group.
pub fn group_for_digest<K: Ord>(
    items: impl IntoIterator<Item = (K, Notification)>,
) -> BTreeMap<K, Vec<Notification>> {
    let mut groups: BTreeMap<K, Vec<Notification>> = BTreeMap::new();
    for (recipient, n) in items {
        groups.entry(recipient).or_default().push(n);
    }
    groups
}

/// One person's digest for `date`: `None` when there is nothing, the notification itself when there
/// is exactly one, otherwise a [`EventKind::Digest`] listing them by event kind. `link` is where the
/// inbox lives.
pub fn build_digest(
    date: Date,
    items: &[Notification],
    link: Option<&str>,
) -> Option<Notification> {
    match items {
        [] => return None,
        [only] => return Some(only.clone()),
        _ => {}
    }
    let mut body = String::new();
    let mut listed = 0;
    for kind in EventKind::ALL {
        let of_kind: Vec<&Notification> = items.iter().filter(|n| n.event == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        body.push_str(&format!("【{}】{} 条\n", kind.label(), of_kind.len()));
        for n in of_kind {
            if listed == MAX_LISTED {
                break;
            }
            listed += 1;
            match &n.matter_number {
                Some(number) => body.push_str(&format!("· {number} {}\n", one_line(&n.title))),
                None => body.push_str(&format!("· {}\n", one_line(&n.title))),
            }
        }
    }
    if items.len() > listed {
        body.push_str(&format!(
            "……另有 {} 条，请到台账查看。\n",
            items.len() - listed
        ));
    }
    Some(Notification {
        event: EventKind::Digest,
        title: format!(
            "{}年{}月{}日 待办汇总（共 {} 条）",
            date.year(),
            date.month(),
            date.day(),
            items.len()
        ),
        body,
        link: link.map(str::to_owned),
        matter_number: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(event: EventKind, title: &str, number: Option<&str>) -> Notification {
        Notification {
            event,
            title: title.into(),
            body: String::new(),
            link: None,
            matter_number: number.map(str::to_owned),
        }
    }

    #[test]
    fn many_notifications_for_one_person_become_one_digest_grouped_by_kind() {
        let items = vec![
            ("张三", n(EventKind::DueSoon, "整改报告", Some("DB-1"))),
            ("李四", n(EventKind::Assigned, "调研", None)),
            ("张三", n(EventKind::Assigned, "专项检查", None)),
            ("张三", n(EventKind::DueSoon, "年度总结", Some("DB-2"))),
        ];
        let groups = group_for_digest(items);
        assert_eq!(groups.len(), 2);
        let date = jiff::civil::date(2026, 3, 2);
        let digest = build_digest(date, &groups["张三"], Some("https://tz/inbox")).unwrap();
        assert_eq!(digest.event, EventKind::Digest);
        assert_eq!(digest.title, "2026年3月2日 待办汇总（共 3 条）");
        assert_eq!(
            digest.body,
            "【交办】1 条\n· 专项检查\n【即将到期】2 条\n· DB-1 整改报告\n· DB-2 年度总结\n"
        );
        let single = build_digest(date, &groups["李四"], None).unwrap();
        assert_eq!(single.event, EventKind::Assigned);
        assert!(build_digest(date, &[], None).is_none());
    }

    #[test]
    fn a_long_digest_lists_fifty_and_counts_the_rest() {
        let items: Vec<_> = (0..60)
            .map(|i| n(EventKind::DueSoon, &format!("事项{i}"), None))
            .collect();
        let digest = build_digest(jiff::civil::date(2026, 3, 2), &items, None).unwrap();
        assert_eq!(digest.body.matches("· ").count(), 50);
        assert!(digest.body.ends_with("……另有 10 条，请到台账查看。\n"));
    }
}
