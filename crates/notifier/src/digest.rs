//! The built-in text of a `pswatch.digest` event: a title that counts, and per database what
//! completed, what failed (with its error) and what waits for a person, then the dead letters
//! and the period, times shown in the digest's time zone. A channel's template, when one
//! applies, is used instead.

use std::fmt::Write as _;

use diff_engine::{Digest, DigestItem, Event, EventKind};

use crate::text::{elapsed, truncate};
use crate::words::{Flavor, Wording, Words};

/// The most items of each list of one database; the list says how many more there were.
const MOST_ITEMS: usize = 15;

/// `at` in the digest's time zone, as people read it: `Mon 23 Nov 09:00`; UTC when the zone
/// is unknown.
fn local(digest: &Digest, at: time::OffsetDateTime) -> String {
    let zone = jiff::tz::TimeZone::get(&digest.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_nanosecond(at.unix_timestamp_nanos())
        .map(|stamp| {
            stamp
                .to_zoned_datetime(zone)
                .strftime("%a %d %b %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| crate::text::rfc3339(at))
}

/// The digest's title: `Digest morning: 2 completed, 1 failed, 3 waiting, 1 dead letter`.
pub(crate) fn title(digest: &Digest) -> String {
    let (completed, failed, waiting) = digest.counts();
    let mut title = format!(
        "Digest {}: {completed} completed, {failed} failed, {waiting} waiting",
        digest.name
    );
    match digest.dead_letters {
        0 => {}
        1 => title.push_str(", 1 dead letter"),
        many => {
            let _ = write!(title, ", {many} dead letters");
        }
    }
    title
}

/// The digest's text, its values escaped for Slack's mrkdwn in that flavor.
pub(crate) fn text(digest: &Digest, flavor: Flavor) -> String {
    let slack = flavor == Flavor::Slack;
    let value = |text: &str| {
        if slack {
            crate::text::slack_escape(text)
        } else {
            text.to_owned()
        }
    };
    let heading = |text: &str| {
        if slack {
            format!("*{}*", value(text))
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    if digest.databases.is_empty() {
        out.push_str("Nothing completed, failed or waits in the watched databases.\n");
    }
    for database in &digest.databases {
        let _ = writeln!(
            out,
            "{}",
            heading(&format!("{}/{}", database.organization, database.database))
        );
        let lists: [(&str, &[DigestItem]); 3] = [
            ("Completed", &database.completed),
            ("Failed", &database.failed),
            ("Waiting for a person", &database.waiting),
        ];
        for (label, items) in lists {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{label}:");
            for item in items.iter().take(MOST_ITEMS) {
                let when = match (item.since, label) {
                    (Some(since), "Waiting for a person") => format!(
                        " since {} ({})",
                        local(digest, since),
                        elapsed(digest.period_end - since)
                    ),
                    (Some(at), _) => format!(", {}", local(digest, at)),
                    (None, "Waiting for a person") => {
                        format!(" since before {}", local(digest, digest.period_start))
                    }
                    (None, _) => String::new(),
                };
                let _ = writeln!(
                    out,
                    "• {}: {}{when}",
                    value(&item.resource),
                    value(&item.state)
                );
                if let Some(errors) = &item.errors {
                    let first = errors.lines().next().unwrap_or_default();
                    let _ = writeln!(out, "    {}", value(&truncate(first, 200)));
                }
            }
            if items.len() > MOST_ITEMS {
                let _ = writeln!(out, "• …and {} more", items.len() - MOST_ITEMS);
            }
        }
        out.push('\n');
    }
    if digest.dead_letters > 0 {
        let _ = writeln!(
            out,
            "Dead letters: {} (pswatch outbox list, or the status page)",
            digest.dead_letters
        );
    }
    let _ = write!(
        out,
        "Period: {} to {} ({})",
        local(digest, digest.period_start),
        local(digest, digest.period_end),
        value(&digest.timezone)
    );
    out
}

/// The built-in wording of a digest event; `None` for any other event.
pub(crate) fn wording(event: &Event, flavor: Flavor) -> Option<Wording> {
    let EventKind::Digest { digest } = &event.kind else {
        return None;
    };
    Some(Wording {
        template: String::new(),
        title: Some(title(digest)),
        text: Some(text(digest, flavor)),
    })
}

/// Adds the built-in text of each digest among `events` that no template wrote for: a
/// digest's whole content is its text, in every kind.
pub fn with_digests(mut words: Words, events: &[Event], flavor: Flavor) -> Words {
    for event in events {
        let written = words.of(event);
        if let Some(built_in) = wording(event, flavor) {
            let wording = match written {
                // A template that sets one field leaves the other to the built-in text.
                Some(own) => Wording {
                    template: own.template.clone(),
                    title: own.title.clone().or(built_in.title),
                    text: own.text.clone().or(built_in.text),
                },
                None => built_in,
            };
            words.insert(event.id.clone(), wording);
        }
    }
    words
}
