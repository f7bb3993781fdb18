//! When a rate or usage limit resets, read from the ways agents say it:
//! an epoch (`resetsAt`, `usage limit reached|1767225600`), a clock time
//! (`resets 3pm (Europe/Lisbon)`, `try again at 3:15 PM.`), a date
//! (`resets Mar 5, 3:30pm`, `try again at Mar 5th, 2026 3:15 PM.`), or a
//! wait (`Please retry in 36.2s`, `Suggested retry after 60s.`,
//! `try again in 3 days 6 hours 57 minutes`).
//!
//! Pure: the current time and the local time zone are arguments.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan, ZonedDateTime};

/// The reset time `text` gives, if any, as seen at `now` in `tz`.
pub fn find(text: &str, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
    let lower = text.to_ascii_lowercase();
    if let Some(at) = after_marker(&lower, "limit reached|").and_then(epoch_prefix) {
        return Some(at);
    }
    for marker in ["resets at ", "resets ", "try again at ", "reset at "] {
        if let Some(at) = after_marker(text, marker).and_then(|r| clock_or_date(r, now, tz)) {
            return Some(at);
        }
    }
    for marker in [
        "retry in ",
        "retry after ",
        "try again in ",
        "retrydelay\":\"",
    ] {
        if let Some(wait) = after_marker(&lower, marker).and_then(wait) {
            return now.checked_add(wait).ok();
        }
    }
    None
}

/// A reset given as seconds since the epoch.
pub fn from_epoch(secs: i64) -> Option<Timestamp> {
    Timestamp::from_second(secs).ok()
}

/// A reset time for messages: local time, with the zone's abbreviation.
pub fn show(at: Timestamp) -> String {
    at.to_zoned_datetime(TimeZone::system())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn after_marker<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&marker.to_ascii_lowercase())?;
    Some(&text[at + marker.len()..])
}

fn epoch_prefix(text: &str) -> Option<Timestamp> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    from_epoch(digits.parse().ok()?)
}

/// `36.2s`, `60s`, `5 minutes`, `3 days 6 hours 57 minutes`, `1h30m`.
fn wait(text: &str) -> Option<Span> {
    let mut secs = 0.0_f64;
    let mut found = false;
    let mut rest = text.trim_start();
    loop {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let Ok(n) = rest[..num_len].parse::<f64>() else {
            break;
        };
        let after = rest[num_len..].trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let factor = match &after[..unit_len] {
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86400.0,
            _ => break,
        };
        secs += n * factor;
        found = true;
        rest = after[unit_len..].trim_start_matches([' ', ',']);
        rest = rest.strip_prefix("and ").unwrap_or(rest);
    }
    let whole = secs.ceil();
    (found && whole.is_finite() && whole < 1e9).then(|| (whole as i64).seconds())
}

/// The pieces of `3pm`, `3:15 PM`, `Mar 5, 3:30pm`, `Mar 5th, 2026 3:15 PM`.
#[derive(Debug, Default)]
struct When {
    month: Option<i8>,
    day: Option<i8>,
    year: Option<i16>,
    hour: Option<i8>,
    minute: i8,
    pm: Option<bool>,
}

fn clock_or_date(text: &str, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
    // The phrase ends at a full stop, a bracket or a bar (`· resets`).
    let end = text.find(['(', '.', '|', '\n']).unwrap_or(text.len());
    let when = read_when(&text[..end])?;
    let zone = zone_in_brackets(&text[end..])
        .and_then(|name| TimeZone::get(name).ok())
        .unwrap_or_else(|| tz.clone());
    resolve(&when, now.to_zoned_datetime(zone))
}

fn zone_in_brackets(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('(')?;
    Some(inner[..inner.find(')')?].trim())
}

fn read_when(text: &str) -> Option<When> {
    let mut when = When::default();
    let cleaned = text.replace(',', " ");
    for word in cleaned.split_whitespace() {
        let w = word.to_ascii_lowercase();
        if let Some(m) = month(&w) {
            when.month = Some(m);
        } else if w == "am" || w == "pm" {
            when.pm = Some(w == "pm");
        } else if w.contains(':') || w.ends_with("am") || w.ends_with("pm") {
            read_clock(&w, &mut when)?;
        } else if !read_number(&w, &mut when) {
            // The phrase is over (`resets 3pm · upgrade ...`).
            break;
        }
    }
    when.hour.is_some().then_some(when)
}

/// A day (`5th` after a month), a year, or a bare hour.
fn read_number(word: &str, when: &mut When) -> bool {
    let digits = word.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
    let Ok(n) = digits.parse::<i16>() else {
        return false;
    };
    match (when.month, when.day) {
        (Some(_), None) if (1..=31).contains(&n) => when.day = Some(n as i8),
        _ if n >= 1970 => when.year = Some(n),
        _ if (0..=23).contains(&n) && when.hour.is_none() => when.hour = Some(n as i8),
        _ => return false,
    }
    true
}

fn read_clock(word: &str, when: &mut When) -> Option<()> {
    let (digits, pm) = match word.strip_suffix("pm") {
        Some(d) => (d, Some(true)),
        None => match word.strip_suffix("am") {
            Some(d) => (d, Some(false)),
            None => (word, None),
        },
    };
    let (h, m) = digits.split_once(':').unwrap_or((digits, "0"));
    when.hour = Some(h.parse().ok().filter(|h| (0..=23).contains(h))?);
    when.minute = m.parse().ok().filter(|m| (0..=59).contains(m))?;
    if pm.is_some() {
        when.pm = pm;
    }
    Some(())
}

fn month(word: &str) -> Option<i8> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let w = word.get(..3)?;
    NAMES
        .iter()
        .position(|m| *m == w)
        .map(|i| i as i8 + 1)
        .filter(|_| word.chars().all(|c| c.is_ascii_alphabetic()))
}

/// The next moment at or after `now` that `when` names.
fn resolve(when: &When, now: ZonedDateTime) -> Option<Timestamp> {
    let mut hour = when.hour?;
    match when.pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let time = Time::new(hour, when.minute, 0, 0).ok()?;
    let today = now.date();
    let date = match (when.month, when.day) {
        (Some(m), Some(d)) => Date::new(when.year.unwrap_or(today.year()), m, d).ok()?,
        _ => today,
    };
    let mut at = date
        .to_datetime(time)
        .to_zoned_datetime(now.time_zone().clone())
        .ok()?;
    if at.timestamp() < now.timestamp() && when.year.is_none() {
        // "3pm" said at 4pm means tomorrow; "Jan 2" said in December, next year.
        let step = if when.month.is_some() {
            1.year()
        } else {
            1.day()
        };
        at = at.checked_add(step).ok()?;
    }
    Some(at.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-03 10:00 UTC, a Thursday.
    fn now() -> Timestamp {
        "2026-12-03T10:00:00Z".parse().unwrap()
    }

    fn at(text: &str) -> Option<String> {
        find(text, now(), &TimeZone::UTC).map(|t| t.to_string())
    }

    #[test]
    fn epochs() {
        assert_eq!(
            at("Claude AI usage limit reached|1764770400"),
            Some("2025-12-03T14:00:00Z".into())
        );
    }

    #[test]
    fn clock_times_are_the_next_such_moment() {
        assert_eq!(
            at("You've hit your session limit · resets 3pm"),
            Some("2026-12-03T15:00:00Z".into())
        );
        assert_eq!(
            at("resets 9:30am (UTC)"),
            Some("2026-12-04T09:30:00Z".into())
        );
        assert_eq!(
            at("You've hit your usage limit. Upgrade to Pro, or try again at 3:15 PM."),
            Some("2026-12-03T15:15:00Z".into())
        );
        assert_eq!(
            at("limit · resets 3pm (Europe/Lisbon)"),
            Some("2026-12-03T15:00:00Z".into())
        );
        assert_eq!(
            at("resets 3pm (America/New_York)"),
            Some("2026-12-03T20:00:00Z".into())
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            at("You've hit your weekly limit · resets Dec 8, 4am (UTC)"),
            Some("2026-12-08T04:00:00Z".into())
        );
        assert_eq!(
            at("or try again at Jan 2nd, 2027 3:15 PM."),
            Some("2027-01-02T15:15:00Z".into())
        );
        assert_eq!(at("resets Jan 2, 1am"), Some("2027-01-02T01:00:00Z".into()));
    }

    #[test]
    fn waits() {
        assert_eq!(
            at("RESOURCE_EXHAUSTED. Please retry in 36.2s."),
            Some("2026-12-03T10:00:37Z".into())
        );
        assert_eq!(
            at("Suggested retry after 60s."),
            Some("2026-12-03T10:01:00Z".into())
        );
        assert_eq!(
            at("try again in 3 days 6 hours 57 minutes"),
            Some("2026-12-06T16:57:00Z".into())
        );
    }

    #[test]
    fn nothing_to_find() {
        for text in [
            "Try again later.",
            "API Error: Rate limit reached",
            "resets soon",
            "retry in a moment",
            "resets 99pm",
        ] {
            assert_eq!(at(text), None, "{text}");
        }
    }
}
