//! Slack: Block Kit messages with a plain text fallback, for incoming webhooks and for the Web
//! API's threads.

use std::fmt::Write as _;

use diff_engine::{
    DeployOperation, Event, EventKind, OperationState, Severity, Workflow, WORKFLOW_PHASES,
};
use serde_json::{json, Value};

use crate::text::{
    change, dashboard_url, details, errors_heading, fit, headline, resource_name, rfc3339,
    slack_escape, timestamp, title, truncate, ERROR_TEXT_LIMIT, TEST_NOTE,
};
use crate::words::Words;

/// Slack's limit for the text of a section block.
pub const SLACK_SECTION_LIMIT: usize = 3000;
/// Slack's limit for a header block's text.
pub const SLACK_HEADER_LIMIT: usize = 150;
/// Slack's limit of blocks in one message.
pub const SLACK_MAX_BLOCKS: usize = 50;

fn severity_marker(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => ":red_circle:",
        Severity::Warning => ":warning:",
        Severity::Info => ":large_blue_circle:",
    }
}

/// A Slack incoming-webhook message (Block Kit, with a plain `text` fallback) for the events of
/// one target and poll. Long error text is cut and the message says so; past Slack's block limit
/// the message lists how many more events there were. An event a template wrote for shows its
/// title (alone, in the header) and its text in place of the facts and errors.
pub fn slack_message(events: &[Event], words: &Words) -> Value {
    let Some(first) = events.first() else {
        return json!({"text": "pswatch: no events"});
    };
    let title = match (events.len(), words.title(first)) {
        (1, Some(own)) => own.to_owned(),
        _ => title(first, events.len()),
    };
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": fit(&title, SLACK_HEADER_LIMIT), "emoji": true},
    })];
    // Each event takes a section and a context block; keep two blocks spare for the summary.
    let room = (SLACK_MAX_BLOCKS - 3) / 2;
    for event in events.iter().take(room) {
        let mut text = match words.text(event) {
            // The template's values are escaped for mrkdwn as it rendered them.
            Some(own) => format!("{} {own}", severity_marker(event.severity)),
            None => built_in_section(event),
        };
        text.push_str(&owner_line(event, words));
        let _ = write!(text, "\n<{}|Open in PlanetScale>", dashboard_url(event));
        // A message of one event (a digest) may take many sections; several events one each.
        let most = if events.len() == 1 {
            SLACK_MAX_BLOCKS - 3
        } else {
            1
        };
        for section in sections(&text, most) {
            blocks.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": section},
            }));
        }
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!(
                "{} · {} · {}",
                event.severity,
                timestamp(event),
                event.id
            )}],
        }));
    }
    if events.len() > room {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("…and {} more changes; see the PlanetScale dashboard.", events.len() - room)},
        }));
    }
    let fallback: Vec<String> = events
        .iter()
        .take(room)
        .map(|event| {
            words
                .title(event)
                .map_or_else(|| headline(event), str::to_owned)
        })
        .collect();
    json!({
        // Slack notifies with this text and reads it as mrkdwn: escaped like the blocks.
        "text": truncate(&slack_escape(&fallback.join("\n")), SLACK_SECTION_LIMIT),
        "blocks": blocks,
    })
}

/// `text` in at most `most` sections of Slack's size, split between lines; what does not fit
/// is cut, and the last section says so.
fn sections(text: &str, most: usize) -> Vec<String> {
    let limit = SLACK_SECTION_LIMIT - 40;
    let mut sections: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if !current.is_empty() && current.chars().count() + line.chars().count() > limit {
            sections.push(std::mem::take(&mut current));
        }
        current.push_str(line);
    }
    sections.push(current);
    if sections.len() > most {
        let rest: String = sections.split_off(most - 1).concat();
        sections.push(rest);
    }
    sections
        .iter()
        .map(|section| truncate(section.trim_end(), limit).into_owned())
        .filter(|section| !section.is_empty())
        .collect()
}

/// `*Owner:* <@U…>` on a line of its own, for a resource whose actor is a listed person with a
/// Slack id; nothing otherwise. The id is the configuration's (checked to be a Slack user id),
/// never text from the API.
fn owner_line(event: &Event, words: &Words) -> String {
    words
        .owner(event)
        .and_then(|owner| owner.person.slack.as_deref())
        .map_or_else(String::new, |id| format!("\n*Owner:* <@{id}>"))
}

/// An event's section without a template: what changed, the facts and the errors.
fn built_in_section(event: &Event) -> String {
    let mut text = format!(
        "{} *{}*: `{}`",
        severity_marker(event.severity),
        slack_escape(&resource_name(event)),
        slack_escape(&change(event))
    );
    for (label, value) in details(event) {
        let _ = write!(text, "\n*{label}:* {}", slack_escape(&value));
    }
    if let Some(errors) = event.kind.errors() {
        let _ = write!(
            text,
            "\n*{}:*\n```{}```",
            errors_heading(event),
            slack_escape(&truncate(&errors, ERROR_TEXT_LIMIT))
        );
    }
    text
}

/// The Slack message of `pswatch test-notify`.
pub fn test_slack(channel: &str, now: time::OffsetDateTime) -> Value {
    json!({
        "text": format!("pswatch test message for channel {}", slack_escape(channel)),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "pswatch test message", "emoji": true}},
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("{TEST_NOTE}\n*Channel:* {}", slack_escape(channel))}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("test · {}", rfc3339(now))}]},
        ],
    })
}

/// The resource's state as the latest of `events` that is about the resource itself (not one of
/// a deploy request's operations) shows it; `None` when only operations changed.
pub(crate) fn resource_state(events: &[Event]) -> Option<String> {
    own_event(events).map(|event| event.kind.state().to_owned())
}

/// The latest of `events` about the resource itself, not one of a deploy request's operations.
fn own_event(events: &[Event]) -> Option<&Event> {
    events
        .iter()
        .rev()
        .find(|event| event.kind.phase().is_none())
}

/// What a thread's first message is about: `workflow #3 move-customers` or `deploy request #7`.
fn thread_title(events: &[Event]) -> Option<String> {
    match (own_event(events), events.first()) {
        (Some(event), _) => Some(resource_name(event)),
        // Only operations of a deploy request (their changes, stalls, timers).
        (None, Some(first)) => first
            .kind
            .deploy_request_number()
            .map(|number| format!("deploy request #{number}")),
        (None, None) => None,
    }
}

/// The workflow an event is about, if it is a workflow's.
fn workflow_of(event: &Event) -> Option<&Workflow> {
    match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => Some(workflow),
        _ => None,
    }
}

/// A time the API wrote, in the reader's own time zone through Slack's date formatting, with
/// the UTC time as the fallback; the API's text when it cannot be read.
fn slack_date(at: &str) -> String {
    match time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339) {
        Ok(at) => {
            let utc = at.to_offset(time::UtcOffset::UTC);
            format!(
                "<!date^{}^{{date_short}} {{time}}|{:04}-{:02}-{:02} {:02}:{:02} UTC>",
                at.unix_timestamp(),
                utc.year(),
                u8::from(utc.month()),
                utc.day(),
                utc.hour(),
                utc.minute()
            )
        }
        Err(_) => slack_escape(at),
    }
}

/// A workflow's journey in one line: each phase it reached with its time, the current one in
/// bold and said to be now, those ahead plain.
fn journey(workflow: &Workflow) -> String {
    let current = workflow.state.phase();
    WORKFLOW_PHASES
        .iter()
        .enumerate()
        .map(|(index, (_, label))| {
            let at = workflow.times.at(index).map(slack_date);
            if current == Some(index) {
                match at {
                    Some(at) => format!(":arrow_forward: *{label}* (now, since {at})"),
                    None => format!(":arrow_forward: *{label}* (now)"),
                }
            } else if workflow.times.reached(&workflow.state, index) {
                match at {
                    Some(at) => format!(":white_check_mark: {label} ({at})"),
                    None => format!(":white_check_mark: {label}"),
                }
            } else {
                format!("{label} (not yet)")
            }
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The deploy operations of `events` that run or ended, the latest of each table once.
fn operations_in_motion(events: &[Event]) -> Vec<&DeployOperation> {
    let mut operations: Vec<&DeployOperation> = Vec::new();
    for event in events.iter().rev() {
        let (EventKind::DeployOperationStateChanged { operation, .. }
        | EventKind::DeployOperationStalled { operation, .. }) = &event.kind
        else {
            continue;
        };
        let running = matches!(
            operation.state,
            OperationState::InProgress | OperationState::Complete
        );
        if running
            && !operations
                .iter()
                .any(|seen| seen.table_name == operation.table_name)
        {
            operations.push(operation);
        }
    }
    operations.reverse();
    operations
}

/// A table's progress as a bar of ten cells, its percentage and its ETA.
fn bar(operation: &DeployOperation) -> String {
    let percentage = if operation.state == OperationState::Complete {
        100.0
    } else {
        operation
            .progress_percentage
            .unwrap_or(0.0)
            .clamp(0.0, 100.0)
    };
    let filled = (percentage / 10.0).round() as usize;
    let mut text = format!(
        "`{}` {}{} {} %",
        slack_escape(operation.table_name.as_deref().unwrap_or(&operation.id)),
        "▓".repeat(filled),
        "░".repeat(10 - filled.min(10)),
        percentage.floor()
    );
    if let (Some(eta), false) = (
        operation.eta_seconds,
        operation.state == OperationState::Complete,
    ) {
        let eta = time::Duration::seconds(i64::try_from(eta).unwrap_or(i64::MAX));
        let _ = write!(text, ", about {} left", crate::text::elapsed(eta));
    }
    text
}

/// The first message of a resource's Slack thread (Web API): where the resource stands now,
/// its latest change and the facts, so the channel reads as a list of live statuses. `events`
/// are the resource's events of one poll, oldest first; `state` is the resource's state when
/// they do not say it (only a deploy request's operations changed). A template's text for the
/// latest event stands in place of its change, the facts and the errors.
pub fn slack_thread_head(events: &[Event], state: Option<&str>, words: &Words) -> Value {
    let (Some(last), Some(title)) = (events.last(), thread_title(events)) else {
        return json!({"text": "pswatch: no events"});
    };
    let state = resource_state(events).or_else(|| state.map(str::to_owned));
    // Only a deploy request's operations changed since pswatch first saw it: its own state
    // is not known yet, and the message does not guess.
    let state_text = state
        .as_deref()
        .map_or_else(String::new, |state| format!(": {state}"));
    let mut text = format!(
        "{} *{}* in `{}/{}`{}",
        severity_marker(last.severity),
        slack_escape(&title),
        slack_escape(&last.organization),
        slack_escape(&last.database),
        state.as_deref().map_or_else(String::new, |state| format!(
            " is *{}*",
            slack_escape(state)
        ))
    );
    if let Some(own) = words.text(last) {
        let _ = write!(text, "\n{own}");
    } else {
        let _ = write!(
            text,
            "\n*Latest change:* {}: `{}`",
            slack_escape(&resource_name(last)),
            slack_escape(&change(last))
        );
        let facts = own_event(events).unwrap_or(last);
        for (label, value) in details(facts) {
            let _ = write!(text, "\n*{label}:* {}", slack_escape(&value));
        }
        if let Some(workflow) = own_event(events).and_then(workflow_of) {
            let _ = write!(text, "\n*Progress:* {}", journey(workflow));
        }
        for operation in operations_in_motion(events) {
            let _ = write!(text, "\n{}", bar(operation));
        }
        if let Some(errors) = last.kind.errors() {
            let _ = write!(
                text,
                "\n*{}:*\n```{}```",
                errors_heading(last),
                slack_escape(&truncate(&errors, ERROR_TEXT_LIMIT))
            );
        }
    }
    text.push_str(&owner_line(last, words));
    let _ = write!(text, "\n<{}|Open in PlanetScale>", dashboard_url(last));
    json!({
        "text": truncate(
            &slack_escape(&format!("{}/{} {title}{state_text}", last.organization, last.database)),
            SLACK_SECTION_LIMIT
        ),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, SLACK_SECTION_LIMIT - 40)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
                "updated {} · every change is in the thread · pswatch",
                timestamp(last)
            )}]},
        ],
    })
}
