//! The daily anchor: once a day, at a time the center sets, the head of the
//! audit chain is pushed to the supervisory department's recipients, so a
//! copy of every day's head sits outside the center's machine. Here: the
//! recipients as an admin writes them, the schedule, and the event that
//! carries the head through the normal intake and dispatch.

use crate::audit::Head;
use crate::event::{valid_email, valid_phone, Party, ANCHORED};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde_json::json;

/// When the anchor goes out unless the center sets another time (Beijing time).
pub const DEFAULT_TIME: &str = "17:30";

/// The most recipients a center may name.
pub const MAX_RECIPIENTS: usize = 20;

/// Beijing time, in which the center's day and its anchor time are counted.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The anchor time as written in settings (`HH:MM`).
pub fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("存证时间 `{s}` 无效：须为“时:分”，如 {DEFAULT_TIME}"))
}

/// The recipients as an admin writes them: one per line, a name and then a
/// mobile number, an email address, or both, separated by spaces.
pub fn parse_recipients(text: &str) -> Result<Vec<Party>, String> {
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or_default().to_owned();
        let mut party = Party {
            // Never a username (letters, digits, `_.-`): no staff inbox holds it.
            id: format!("anchor:{}", out.len() + 1),
            name,
            phone: None,
            email: None,
            username: None,
            prefer: None,
        };
        for word in words {
            if word.contains('@') && valid_email(word) && party.email.is_none() {
                party.email = Some(word.to_owned());
            } else if valid_phone(word) && party.phone.is_none() {
                party.phone = Some(word.to_owned());
            } else {
                return Err(format!(
                    "存证接收人第 {no} 行的 `{word}` 不是手机号或邮箱（每人一行：姓名 手机号 邮箱，至少一种联系方式）"
                ));
            }
        }
        if party.phone.is_none() && party.email.is_none() {
            return Err(format!(
                "存证接收人第 {no} 行（{}）没有手机号或邮箱：每人一行，姓名后写手机号、邮箱或两者",
                party.name
            ));
        }
        out.push(party);
    }
    if out.len() > MAX_RECIPIENTS {
        return Err(format!(
            "存证接收人最多 {MAX_RECIPIENTS} 位，现有 {} 位",
            out.len()
        ));
    }
    Ok(out)
}

/// The day whose anchor is due at `now`, if the anchor time has come (in
/// Beijing time); the event of that day's anchor says whether it was sent.
pub fn due(now: DateTime<Utc>, time: NaiveTime) -> Option<NaiveDate> {
    let local = now.with_timezone(&beijing());
    (local.time() >= time).then(|| local.date_naive())
}

/// The id of the anchor event sent at `now`: `anchor-` and the Beijing
/// time to the second, so the ids of a day sort by time.
pub fn event_id(now: DateTime<Utc>) -> String {
    format!(
        "anchor-{}",
        now.with_timezone(&beijing()).format("%Y-%m-%dT%H:%M:%S")
    )
}

/// The ids an anchor sent on `day` from `time` on falls between (the first
/// included, the second not).
pub fn ids_between(day: NaiveDate, time: NaiveTime) -> (String, String) {
    (
        format!("anchor-{day}T{}", time.format("%H:%M:%S")),
        format!("anchor-{day}U"),
    )
}

/// The anchor event sent at `now`, as an intake line only the product records.
pub fn line(head: Head, now: DateTime<Utc>, recipients: &[Party]) -> String {
    json!({
        "id": event_id(now),
        "type": ANCHORED,
        "at": now.with_timezone(&beijing()).to_rfc3339(),
        "head": head.to_string(),
        "recipients": recipients,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn recipients_are_named_with_their_contacts() {
        let got = parse_recipients("王科长 13800000001 wang@jd.gov.cn\n\n  李主任 li@jd.gov.cn ")
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "王科长");
        assert_eq!(got[0].phone.as_deref(), Some("13800000001"));
        assert_eq!(got[0].email.as_deref(), Some("wang@jd.gov.cn"));
        assert_eq!(got[1].phone, None);
        assert!(parse_recipients("王科长").unwrap_err().contains("第 1 行"));
        assert!(parse_recipients("a 1380\nb x@y")
            .unwrap_err()
            .contains("`1380`"));
        assert!(parse_recipients("").unwrap().is_empty());
    }

    #[test]
    fn the_anchor_is_due_from_its_time_on_the_beijing_day() {
        let at = parse_time("17:30").unwrap();
        // 09:29 UTC is 17:29 in Beijing: not yet.
        let before = Utc.with_ymd_and_hms(2026, 12, 6, 9, 29, 0).unwrap();
        assert_eq!(due(before, at), None);
        let after = Utc.with_ymd_and_hms(2026, 12, 6, 9, 30, 0).unwrap();
        assert_eq!(due(after, at), NaiveDate::from_ymd_opt(2026, 12, 6));
        // 23:00 UTC is 07:00 of the next day in Beijing.
        let late = Utc.with_ymd_and_hms(2026, 12, 6, 23, 0, 0).unwrap();
        let early = parse_time("06:00").unwrap();
        assert_eq!(due(late, early), NaiveDate::from_ymd_opt(2026, 12, 7));
        assert!(parse_time("25:00").is_err());
    }

    #[test]
    fn the_ids_of_a_day_from_the_anchor_time_on_are_one_range() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let (from, to) = ids_between(day, parse_time("17:30").unwrap());
        let id = |h, m| event_id(Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap());
        assert_eq!(id(9, 30), "anchor-2026-12-06T17:30:00");
        assert!(id(9, 30) >= from && id(9, 30) < to);
        assert!(id(15, 59) < to, "23:59 the same day");
        assert!(id(9, 29) < from, "before the time");
        assert!(id(16, 0) >= to, "the next day in Beijing");
    }
}
