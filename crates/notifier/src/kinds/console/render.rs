//! The console channel: one line an event on standard output.

use std::fmt::Write as _;

use diff_engine::Event;

use crate::text::{errors_heading, headline, printable, rfc3339, timestamp, truncate};
use crate::words::Words;

/// The console channel's line for one event: with a template, its title in place of the
/// headline and each line of its text below, indented.
pub fn console_line(event: &Event, words: &Words) -> String {
    let seconds =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    let mut line = format!(
        "{} {:<8} {}",
        event
            .observed_at
            .format(&seconds)
            .unwrap_or_else(|_| timestamp(event)),
        event.severity.as_str(),
        words
            .title(event)
            .map_or_else(|| headline(event), str::to_owned)
    );
    if let Some(text) = words.text(event) {
        // Each line made printable on its own: a template's text keeps its lines, and nothing
        // in it acts on the terminal.
        for text_line in text.lines() {
            let _ = write!(line, "\n    {}", printable(text_line));
        }
        return printable_first_line(&line);
    }
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

/// `line` with its first line made printable and the indented template lines after it kept.
fn printable_first_line(line: &str) -> String {
    match line.split_once('\n') {
        Some((first, rest)) => format!("{}\n{rest}", printable(first)),
        None => printable(line).into_owned(),
    }
}

/// The console line of `pswatch test-notify`.
pub fn test_console(channel: &str, now: time::OffsetDateTime) -> String {
    format!(
        "{} test     pswatch test message for channel {channel}",
        rfc3339(now)
    )
}
