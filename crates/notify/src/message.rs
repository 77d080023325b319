//! The message model: what happened ([`EventKind`]), the text people read ([`Notification`]) and the
//! channels it can travel on ([`Channel`]).

use serde::{Deserialize, Serialize};

/// What a notification is about. The stable code (`as_str`) is what the outbox and preferences store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// 交办 — a matter was assigned to a unit or person.
    Assigned,
    /// 即将到期 — a deadline is near.
    DueSoon,
    /// 已超期 — a deadline has passed.
    Overdue,
    /// 进展被退回 — a progress report was sent back.
    ReportReturned,
    /// 延期审批结果 — an extension request was decided.
    ExtensionDecided,
    /// 督办单下发 — a supervision notice (督办单) was issued.
    NoticeIssued,
    /// 今日清查 — today's daily check is ready.
    DailyCheckReady,
    /// 周小结 — the weekly summary is ready.
    WeeklyReady,
    /// 月盘点 — the monthly stock-take is ready.
    MonthlyReady,
    /// 每日汇总 — several notifications for one person folded into one message (see `digest`).
    Digest,
    /// 测试消息 — sent by an administrator to check a channel; never subject to preferences.
    Test,
}

impl EventKind {
    /// Every kind, in display order.
    pub const ALL: [EventKind; 11] = [
        EventKind::Assigned,
        EventKind::DueSoon,
        EventKind::Overdue,
        EventKind::ReportReturned,
        EventKind::ExtensionDecided,
        EventKind::NoticeIssued,
        EventKind::DailyCheckReady,
        EventKind::WeeklyReady,
        EventKind::MonthlyReady,
        EventKind::Digest,
        EventKind::Test,
    ];

    /// Stable machine code, used in payloads, headers and stored preferences.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Assigned => "assigned",
            EventKind::DueSoon => "due_soon",
            EventKind::Overdue => "overdue",
            EventKind::ReportReturned => "report_returned",
            EventKind::ExtensionDecided => "extension_decided",
            EventKind::NoticeIssued => "notice_issued",
            EventKind::DailyCheckReady => "daily_check_ready",
            EventKind::WeeklyReady => "weekly_ready",
            EventKind::MonthlyReady => "monthly_ready",
            EventKind::Digest => "digest",
            EventKind::Test => "test",
        }
    }

    /// Parses a stable code back; `None` for anything else.
    pub fn parse(code: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == code)
    }

    /// The Chinese label people see.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Assigned => "交办",
            EventKind::DueSoon => "即将到期",
            EventKind::Overdue => "已超期",
            EventKind::ReportReturned => "进展被退回",
            EventKind::ExtensionDecided => "延期审批结果",
            EventKind::NoticeIssued => "督办单下发",
            EventKind::DailyCheckReady => "今日清查",
            EventKind::WeeklyReady => "周小结",
            EventKind::MonthlyReady => "月盘点",
            EventKind::Digest => "每日汇总",
            EventKind::Test => "测试消息",
        }
    }

    /// Urgent kinds may bypass quiet hours and are never folded into a digest.
    pub fn is_urgent(self) -> bool {
        matches!(self, EventKind::Overdue | EventKind::NoticeIssued)
    }
}

/// One notification, channel-neutral. `title` and `body` are Chinese text written by the app;
/// `link` points back into Taizhang; `matter_number` is the ledger number (台账编号) when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub event: EventKind,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matter_number: Option<String>,
}

impl Notification {
    /// The one-line heading every channel shows: `【交办】标题`.
    pub fn heading(&self) -> String {
        format!("【{}】{}", self.event.label(), one_line(&self.title))
    }

    /// Body text followed by the matter number and link, as plain text.
    pub fn plain_text(&self) -> String {
        let mut out = self.body.trim_end().to_owned();
        if let Some(number) = &self.matter_number {
            out.push_str(&format!("\n台账编号：{number}"));
        }
        if let Some(link) = &self.link {
            out.push_str(&format!("\n查看详情：{link}"));
        }
        out
    }
}

/// A delivery channel, as chosen in preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 站内信 — the in-app inbox (stored by the app, not sent by this crate).
    Inbox,
    /// 邮件 — email over SMTP.
    Email,
    /// 企业微信 — WeCom group robot.
    WeCom,
    /// 钉钉 — DingTalk robot.
    DingTalk,
    /// 飞书 — Feishu bot.
    Feishu,
    /// Generic JSON webhook signed with HMAC-SHA256.
    Generic,
}

impl Channel {
    /// Stable machine code.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Inbox => "inbox",
            Channel::Email => "email",
            Channel::WeCom => "wecom",
            Channel::DingTalk => "dingtalk",
            Channel::Feishu => "feishu",
            Channel::Generic => "generic",
        }
    }
}

/// Collapses line breaks and other control characters into spaces (headings, subjects).
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Cuts `s` to at most `max` bytes on a character boundary, ending with `…` when cut.
pub(crate) fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let budget = max.saturating_sub('…'.len_utf8());
    let mut end = budget;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_round_trip_and_are_unique() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        let mut codes: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), EventKind::ALL.len());
        assert_eq!(EventKind::parse("nope"), None);
    }

    #[test]
    fn truncation_never_splits_a_chinese_character() {
        let s = "督办事项进展情况汇报";
        for max in 0..s.len() + 2 {
            let t = truncate_bytes(s, max);
            assert!(t.len() <= max.max('…'.len_utf8()), "{max}: {t}");
        }
        assert_eq!(truncate_bytes(s, 100), s);
    }

    #[test]
    fn heading_flattens_line_breaks_in_the_title() {
        let n = Notification {
            event: EventKind::Assigned,
            title: "标题\r\nBcc: x@example.com".into(),
            body: String::new(),
            link: None,
            matter_number: None,
        };
        assert_eq!(n.heading(), "【交办】标题  Bcc: x@example.com");
    }
}
