//! The console channel: one line an event on standard output.

use std::fmt::Write as _;

use diff_engine::Event;

use crate::text::{errors_heading, headline, printable, rfc3339, timestamp, truncate};

/// The console channel's line for one event.
pub fn console_line(event: &Event) -> String {
    let seconds =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    let mut line = format!(
        "{} {:<8} {}",
        event
            .observed_at
            .format(&seconds)
            .unwrap_or_else(|_| timestamp(event)),
        event.severity.as_str(),
        headline(event)
    );
    if let Some(errors) = event.kind.errors() {
        let first_line = errors.lines().next().unwrap_or_default();
        let _ = write!(
            line,
            " | {}: {}",
            errors_heading(event).to_lowercase(),
            truncate(first_line, 200)
        );
    }
    // Names and error texts come from the API: nothing of them may act on the terminal.
    printable(&line).into_owned()
}

/// The console line of `pswatch test-notify`.
pub fn test_console(channel: &str, now: time::OffsetDateTime) -> String {
    format!(
        "{} test     pswatch test message for channel {channel}",
        rfc3339(now)
    )
}
