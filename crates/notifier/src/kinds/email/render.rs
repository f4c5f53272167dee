//! Email: a subject that says what changed, a plain text body and an HTML body with the same
//! content, written with `maud`, which escapes every value it is given.

use std::fmt::Write as _;

use diff_engine::Event;
use maud::{html, Markup, DOCTYPE};

use crate::text::{
    change, dashboard_url, details, errors_heading, headline, resource_name, rfc3339, timestamp,
    truncate, ERROR_TEXT_LIMIT, TEST_NOTE,
};
use crate::words::Words;

/// An email's subject and bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    /// The subject line.
    pub subject: String,
    /// The plain text body.
    pub text: String,
    /// The HTML body, with the same content.
    pub html: String,
}

/// An email for the events of one target and poll: a subject that says what changed, a plain
/// text body and an HTML body with the same content. An event a template wrote for shows its
/// title in place of the headline and its text in place of the facts and errors.
pub fn email(events: &[Event], words: &Words) -> EmailContent {
    let title = |event: &Event| {
        words
            .title(event)
            .map_or_else(|| headline(event), str::to_owned)
    };
    let subject = match events {
        [event] => format!("[pswatch] {}", title(event)),
        [first, ..] => format!(
            "[pswatch] {}/{}: {} changes ({})",
            first.organization,
            first.database,
            events.len(),
            headline_tail(first)
        ),
        [] => "[pswatch] no changes".into(),
    };
    let mut text = String::new();
    for event in events {
        let _ = writeln!(text, "{}\n", title(event));
        if let Some(own) = words.text(event) {
            let _ = writeln!(text, "{own}");
        } else {
            for (label, value) in details(event) {
                let _ = writeln!(text, "{label}: {value}");
            }
            let _ = writeln!(text, "Severity: {}", event.severity);
            if let Some(errors) = event.kind.errors() {
                let errors = truncate(&errors, ERROR_TEXT_LIMIT * 4);
                let _ = writeln!(text, "\n{}:\n{errors}", errors_heading(event));
            }
        }
        let _ = writeln!(text, "\nOpen in PlanetScale: {}", dashboard_url(event));
        if let Some(link) = words.silence_link(event) {
            let _ = writeln!(text, "Silence its database: {link}");
        }
        let _ = writeln!(text, "Event {} observed {}\n", event.id, timestamp(event));
    }
    text.push_str("-- \nSent by pswatch\n");
    EmailContent {
        subject,
        text,
        html: html(events, words, title).into_string(),
    }
}

/// The HTML body: the same content as the text, every value escaped by `maud` (a template's
/// text included, whole).
fn html(events: &[Event], words: &Words, title: impl Fn(&Event) -> String) -> Markup {
    html! {
        (DOCTYPE)
        html {
            body style="font-family: sans-serif" {
                @for event in events {
                    h2 { (title(event)) }
                    @if let Some(own) = words.text(event) {
                        p style="white-space: pre-wrap" { (own) }
                    } @else {
                        table {
                            @for (label, value) in details(event) {
                                tr { th align="left" { (label) } td { (value) } }
                            }
                            tr { th align="left" { "Severity" } td { (event.severity) } }
                        }
                        @if let Some(errors) = event.kind.errors() {
                            p { b { (errors_heading(event)) ":" } }
                            pre { (truncate(&errors, ERROR_TEXT_LIMIT * 4)) }
                        }
                    }
                    p {
                        a href=(dashboard_url(event)) { "Open in PlanetScale" }
                        @if let Some(link) = words.silence_link(event) {
                            " · " a href=(link) { "Silence its database" }
                        }
                    }
                    p style="color: #666" { "Event " (event.id) " observed " (timestamp(event)) }
                }
            }
        }
    }
}

/// `workflow #3 move-customers: running -> cutover` of the first event, for a grouped subject.
fn headline_tail(event: &Event) -> String {
    format!("{}: {}", resource_name(event), change(event))
}

/// The email of `pswatch test-notify`.
pub fn test_email(channel: &str, now: time::OffsetDateTime) -> EmailContent {
    EmailContent {
        subject: format!("[pswatch] test message for channel {channel}"),
        text: format!(
            "{TEST_NOTE}\n\nChannel: {channel}\nSent: {}\n-- \nSent by pswatch\n",
            rfc3339(now)
        ),
        html: html! {
            (DOCTYPE)
            html {
                body style="font-family: sans-serif" {
                    h2 { "pswatch test message" }
                    p { (TEST_NOTE) }
                    p { "Channel: " (channel) br; "Sent: " (rfc3339(now)) }
                }
            }
        }
        .into_string(),
    }
}
