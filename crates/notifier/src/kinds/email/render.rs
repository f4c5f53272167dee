//! Email: a subject that says what changed, a plain text body and an HTML body with the same
//! content.

use std::fmt::Write as _;

use diff_engine::Event;

use crate::render::{
    change, dashboard_url, details, errors_heading, headline, resource_name, rfc3339, timestamp,
    truncate, ERROR_TEXT_LIMIT, TEST_NOTE,
};

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

fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// An email for the events of one target and poll: a subject that says what changed, a plain
/// text body and an HTML body with the same content.
pub fn email(events: &[Event]) -> EmailContent {
    let subject = match events {
        [event] => format!("[pswatch] {}", headline(event)),
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
    let mut html = String::from("<!DOCTYPE html><html><body style=\"font-family: sans-serif\">");
    for event in events {
        let _ = writeln!(text, "{}\n", headline(event));
        let _ = write!(html, "<h2>{}</h2><table>", html_escape(&headline(event)));
        for (label, value) in details(event) {
            let _ = writeln!(text, "{label}: {value}");
            let _ = write!(
                html,
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                html_escape(label),
                html_escape(&value)
            );
        }
        let _ = writeln!(text, "Severity: {}", event.severity);
        let _ = write!(
            html,
            "<tr><th align=\"left\">Severity</th><td>{}</td></tr></table>",
            event.severity
        );
        if let Some(errors) = event.kind.errors() {
            let errors = truncate(&errors, ERROR_TEXT_LIMIT * 4);
            let heading = errors_heading(event);
            let _ = writeln!(text, "\n{heading}:\n{errors}");
            let _ = write!(
                html,
                "<p><b>{heading}:</b></p><pre>{}</pre>",
                html_escape(&errors)
            );
        }
        let url = dashboard_url(event);
        let _ = writeln!(
            text,
            "\nOpen in PlanetScale: {url}\nEvent {} observed {}\n",
            event.id,
            timestamp(event)
        );
        let _ = write!(
            html,
            "<p><a href=\"{}\">Open in PlanetScale</a></p><p style=\"color: #666\">Event {} observed {}</p>",
            html_escape(&url),
            html_escape(&event.id),
            timestamp(event)
        );
    }
    text.push_str("-- \nSent by pswatch\n");
    html.push_str("</body></html>");
    EmailContent {
        subject,
        text,
        html,
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
        text: format!("{TEST_NOTE}\n\nChannel: {channel}\nSent: {}\n-- \nSent by pswatch\n", rfc3339(now)),
        html: format!(
            "<!DOCTYPE html><html><body style=\"font-family: sans-serif\"><h2>pswatch test message</h2><p>{}</p><p>Channel: {}<br>Sent: {}</p></body></html>",
            html_escape(TEST_NOTE),
            html_escape(channel),
            rfc3339(now)
        ),
    }
}
