//! 通知偏好 — which channels each event kind goes to, per person and per unit, on top of the
//! system defaults; plus quiet hours and the daily digest switch.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::QuietHours;
use crate::message::{Channel, EventKind};

/// Effective preferences for one recipient. The in-app inbox (站内信) is always on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Channels per event kind; a kind missing from the map gets the inbox only.
    pub channels: BTreeMap<EventKind, BTreeSet<Channel>>,
    pub quiet_hours: Option<QuietHours>,
    /// 每日汇总 — fold non-urgent notifications into one message a day.
    pub daily_digest: bool,
}

impl Default for Preferences {
    /// Inbox and email for every event; the unit's group robots for the events a group acts on;
    /// quiet hours 22:00–07:30 with urgent bypass; no digest.
    fn default() -> Preferences {
        let mut channels = BTreeMap::new();
        for kind in EventKind::ALL {
            let mut set = BTreeSet::from([Channel::Inbox, Channel::Email]);
            if matches!(
                kind,
                EventKind::Assigned
                    | EventKind::Overdue
                    | EventKind::NoticeIssued
                    | EventKind::DailyCheckReady
                    | EventKind::WeeklyReady
                    | EventKind::MonthlyReady
            ) {
                set.extend([
                    Channel::WeCom,
                    Channel::DingTalk,
                    Channel::Feishu,
                    Channel::Generic,
                ]);
            }
            channels.insert(kind, set);
        }
        Preferences {
            channels,
            quiet_hours: Some(QuietHours::default()),
            daily_digest: false,
        }
    }
}

/// What a unit (单位) or a person changed; `None` keeps the level below.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceOverrides {
    #[serde(default)]
    pub channels: BTreeMap<EventKind, BTreeSet<Channel>>,
    /// `Some(None)` switches quiet hours off (stored as `null`; an absent field inherits).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub quiet_hours: Option<Option<QuietHours>>,
    #[serde(default)]
    pub daily_digest: Option<bool>,
}

/// A field that is present — even as `null` — is `Some`: `null` means "off", not "inherit".
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl Preferences {
    /// System defaults, then the unit's overrides, then the person's (the person wins).
    pub fn resolve(
        system: &Preferences,
        unit: Option<&PreferenceOverrides>,
        person: Option<&PreferenceOverrides>,
    ) -> Preferences {
        let mut out = system.clone();
        for layer in [unit, person].into_iter().flatten() {
            for (kind, set) in &layer.channels {
                out.channels.insert(*kind, set.clone());
            }
            if let Some(q) = layer.quiet_hours {
                out.quiet_hours = q;
            }
            if let Some(d) = layer.daily_digest {
                out.daily_digest = d;
            }
        }
        out
    }

    /// The channels `event` goes to; always includes the inbox.
    pub fn channels_for(&self, event: EventKind) -> BTreeSet<Channel> {
        let mut set = self.channels.get(&event).cloned().unwrap_or_default();
        set.insert(Channel::Inbox);
        set
    }

    pub fn wants(&self, event: EventKind, channel: Channel) -> bool {
        self.channels_for(event).contains(&channel)
    }

    /// Whether a notification waits for the daily digest instead of going out now. Urgent events
    /// never wait; the in-app inbox never waits (it is shown, not sent).
    pub fn defers_to_digest(&self, event: EventKind, channel: Channel) -> bool {
        self.daily_digest
            && !event.is_urgent()
            && event != EventKind::Digest
            && channel != Channel::Inbox
    }

    /// The earliest send time for `event` at `now_ms` under these quiet hours.
    pub fn next_allowed_ms(&self, event: EventKind, now_ms: i64) -> i64 {
        self.quiet_hours
            .map_or(now_ms, |q| q.next_allowed_ms(now_ms, event.is_urgent()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_person_overrides_the_unit_which_overrides_the_system() {
        let system = Preferences::default();
        let unit = PreferenceOverrides {
            channels: BTreeMap::from([(EventKind::DueSoon, BTreeSet::from([Channel::DingTalk]))]),
            daily_digest: Some(true),
            ..PreferenceOverrides::default()
        };
        let person = PreferenceOverrides {
            channels: BTreeMap::from([(EventKind::DueSoon, BTreeSet::from([Channel::Email]))]),
            quiet_hours: Some(None),
            ..PreferenceOverrides::default()
        };
        let unit_only = Preferences::resolve(&system, Some(&unit), None);
        assert!(unit_only.wants(EventKind::DueSoon, Channel::DingTalk));
        assert!(!unit_only.wants(EventKind::DueSoon, Channel::Email));
        let both = Preferences::resolve(&system, Some(&unit), Some(&person));
        assert_eq!(
            both.channels_for(EventKind::DueSoon),
            BTreeSet::from([Channel::Inbox, Channel::Email])
        );
        assert!(both.daily_digest);
        assert_eq!(both.quiet_hours, None);
        assert_eq!(both.next_allowed_ms(EventKind::DueSoon, 5), 5);
    }

    #[test]
    fn the_inbox_is_always_on_and_urgent_events_skip_the_digest() {
        let prefs = Preferences {
            channels: BTreeMap::new(),
            quiet_hours: None,
            daily_digest: true,
        };
        assert!(prefs.wants(EventKind::WeeklyReady, Channel::Inbox));
        assert!(prefs.defers_to_digest(EventKind::DueSoon, Channel::Email));
        assert!(!prefs.defers_to_digest(EventKind::Overdue, Channel::Email));
        assert!(!prefs.defers_to_digest(EventKind::DueSoon, Channel::Inbox));
    }

    #[test]
    fn switching_quiet_hours_off_survives_a_round_trip_through_json() {
        let off = PreferenceOverrides {
            quiet_hours: Some(None),
            ..PreferenceOverrides::default()
        };
        let json = serde_json::to_string(&off).unwrap();
        assert_eq!(
            serde_json::from_str::<PreferenceOverrides>(&json).unwrap(),
            off
        );
        let inherit: PreferenceOverrides = serde_json::from_str("{}").unwrap();
        assert_eq!(inherit.quiet_hours, None);
        let json = serde_json::to_string(&inherit).unwrap();
        assert!(!json.contains("quiet_hours"), "{json}");
    }

    #[test]
    fn preferences_round_trip_through_json_with_event_codes_as_keys() {
        let prefs = Preferences::default();
        let json = serde_json::to_string(&prefs).unwrap();
        assert!(json.contains("\"due_soon\""), "{json}");
        assert_eq!(serde_json::from_str::<Preferences>(&json).unwrap(), prefs);
    }
}
