//! What every channel kind shows of an event, whatever its form: the headline, what changed, the
//! facts, the dashboard link, error text cut to size, and text made safe for a terminal. Pure
//! functions; each kind's own form is its `render.rs` under `kinds/`.

use std::borrow::Cow;
use std::fmt::Write as _;

use diff_engine::{Event, EventKind, OperationPhase, TimerSubject};
pub use model::rfc3339;

/// The most error text one message shows; the rest is cut, and the message says so.
pub const ERROR_TEXT_LIMIT: usize = 1500;

/// The one place that knows PlanetScale's dashboard addresses.
pub fn dashboard_url(event: &Event) -> String {
    let base = format!(
        "https://app.planetscale.com/{}/{}",
        event.organization, event.database
    );
    match &event.kind {
        EventKind::WorkflowStateChanged { .. } | EventKind::WorkflowErrorsChanged { .. } => {
            format!("{base}/workflows")
        }
        EventKind::Digest { .. } => base.trim_end_matches('/').to_owned(),
        EventKind::TimerFired { subject, .. } => dashboard_url(&subject_event(event, subject)),
        EventKind::BackupStateChanged { backup, .. } => format!("{base}/{}/backups", backup.branch),
        EventKind::ResizeStateChanged { resize, .. } => format!("{base}/{}", resize.branch),
        // PlanetScale's own page of the recommendation, when it is one of its dashboard's.
        EventKind::SchemaRecommendationOpened { recommendation }
        | EventKind::SchemaRecommendationClosed { recommendation, .. } => recommendation
            .html_url
            .as_deref()
            .filter(|url| {
                url.starts_with("https://app.planetscale.com/")
                    && !url.contains(['<', '>', '|', ' '])
            })
            .map_or_else(|| format!("{base}/insights"), str::to_owned),
        // PlanetScale's own link to the branch or database, when it is one of its dashboard's.
        EventKind::PlanetScale { resource, .. } => resource["html_url"]
            .as_str()
            .filter(|url| {
                url.starts_with("https://app.planetscale.com/")
                    && !url.contains(['<', '>', '|', ' '])
            })
            .map_or(base, str::to_owned),
        kind => match (kind.deploy_request(), kind.deploy_request_number()) {
            (Some(deploy_request), _) => deploy_request
                .html_url
                .clone()
                .unwrap_or_else(|| format!("{base}/deploy-requests/{}", deploy_request.number)),
            (None, Some(number)) => format!("{base}/deploy-requests/{number}"),
            (None, None) => base,
        },
    }
}

/// The event a timer's resource would be on its own (a change to the state it is in), whose
/// name, dashboard link and facts are the timer's firing's too.
fn subject_event(event: &Event, subject: &TimerSubject) -> Event {
    let kind = match subject.clone() {
        TimerSubject::Workflow(workflow) => EventKind::WorkflowStateChanged {
            previous_state: None,
            state: workflow.state.clone(),
            workflow,
        },
        TimerSubject::DeployRequest(deploy_request) => EventKind::DeployRequestStateChanged {
            previous_state: None,
            state: deploy_request.deployment_state.clone(),
            deploy_request,
        },
        TimerSubject::DeployOperation {
            deploy_request_number,
            phase,
            operation,
        } => EventKind::DeployOperationStateChanged {
            previous_state: None,
            state: operation.state.clone(),
            deploy_request_number,
            phase,
            operation,
        },
        TimerSubject::Backup(backup) => EventKind::BackupStateChanged {
            previous_state: None,
            state: backup.state.clone(),
            recovers: false,
            backup,
        },
        TimerSubject::Resize(resize) => EventKind::ResizeStateChanged {
            previous_state: None,
            state: resize.state.clone(),
            resize,
        },
    };
    Event {
        kind,
        ..event.clone()
    }
}

/// What the event is about, e.g. `workflow #3 move-customers`, `deploy request #7 table orders`
/// or, for an operation of its revert, `deploy request #7 revert of table orders`.
pub fn resource_name(event: &Event) -> String {
    match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => {
            format!("workflow #{} {}", workflow.number, workflow.name)
        }
        EventKind::DeployRequestStateChanged { deploy_request, .. }
        | EventKind::DeployRequestAwaitingCutover { deploy_request, .. }
        | EventKind::DeployRequestCutoverExpiring { deploy_request }
        | EventKind::DeployRequestQueuePaused { deploy_request, .. }
        | EventKind::DeployRequestRevertWindowClosing { deploy_request, .. }
        | EventKind::DeployRequestBlocked { deploy_request, .. } => {
            format!("deploy request #{}", deploy_request.number)
        }
        EventKind::DeployOperationStateChanged {
            deploy_request_number,
            phase,
            operation,
            ..
        }
        | EventKind::DeployOperationErrorsChanged {
            deploy_request_number,
            phase,
            operation,
            ..
        }
        | EventKind::DeployOperationStalled {
            deploy_request_number,
            phase,
            operation,
            ..
        } => format!(
            "deploy request #{deploy_request_number} {}table {}",
            match phase {
                OperationPhase::Deploy => "",
                OperationPhase::Revert => "revert of ",
            },
            operation.table_name.as_deref().unwrap_or(&operation.id)
        ),
        EventKind::PlanetScale { event, resource } => {
            planetscale_resource(event.as_str(), resource)
        }
        EventKind::Digest { digest } => format!("digest {}", digest.name),
        EventKind::TimerFired { subject, .. } => resource_name(&subject_event(event, subject)),
        EventKind::BackupStateChanged { backup, .. } => {
            format!("backup {} of branch {}", backup.name, backup.branch)
        }
        EventKind::SchemaRecommendationOpened { recommendation }
        | EventKind::SchemaRecommendationClosed { recommendation, .. } => {
            format!("schema recommendation #{}", recommendation.number)
        }
        EventKind::MaintenanceScheduled { schedule, .. }
        | EventKind::MaintenanceStarted { schedule }
        | EventKind::MaintenanceFinished { schedule } => format!("maintenance {}", schedule.name),
        EventKind::ResizeStateChanged { resize, .. } => match &resize.keyspace {
            Some(keyspace) => format!("resize of keyspace {keyspace} (branch {})", resize.branch),
            None => format!("resize of branch {}", resize.branch),
        },
    }
}

/// `branch main`, `keyspace commerce`, `database`: what one of PlanetScale's events is about.
fn planetscale_resource(event: &str, resource: &serde_json::Value) -> String {
    let name = resource["name"].as_str().filter(|name| !name.is_empty());
    let kind = event.split('.').next().unwrap_or(event);
    match (kind, name) {
        ("branch" | "keyspace" | "cluster", Some(name)) => format!("{kind} {name}"),
        ("branch" | "keyspace" | "cluster", None) => kind.to_owned(),
        _ => "database".to_owned(),
    }
}

/// What one of PlanetScale's events says happened, e.g. `ready`, `out of memory`,
/// `storage at 92%`.
fn planetscale_change(event: &str, resource: &serde_json::Value) -> String {
    match event {
        "branch.ready" => "ready".into(),
        "branch.sleeping" => "sleeping".into(),
        "branch.anomaly" => "anomaly detected (Insights)".into(),
        "branch.out_of_memory" => "out of memory".into(),
        "branch.primary_promoted" => "primary promoted".into(),
        "branch.schema_recommendation" => "new schema recommendation".into(),
        "branch.start_maintenance" => "maintenance starting".into(),
        "cluster.storage" | "keyspace.storage" => diff_engine::storage_percentage(resource)
            .map_or_else(
                || "storage alert".into(),
                |percentage| format!("storage at {percentage:.0}%"),
            ),
        "database.access_request" => "access requested".into(),
        "webhook.test" => "webhook test".into(),
        other => other.to_owned(),
    }
}

/// The heading of the event's error text: why validation failed, why a revert failed, or the
/// error.
pub fn errors_heading(event: &Event) -> &'static str {
    match &event.kind {
        EventKind::DeployRequestStateChanged { .. } => "Why validation failed",
        kind if kind.phase() == Some(OperationPhase::Revert) => "Revert error",
        _ => "Error",
    }
}

/// What changed, e.g. `switched_primaries -> cutover`, `new: pending`, `errors changed`.
pub fn change(event: &Event) -> String {
    match &event.kind {
        EventKind::PlanetScale { event, resource } => planetscale_change(event.as_str(), resource),
        EventKind::Digest { digest } => {
            let (completed, failed, waiting) = digest.counts();
            format!("{completed} completed, {failed} failed, {waiting} waiting")
        }
        EventKind::MaintenanceScheduled {
            previous_window,
            schedule,
        } => {
            let window = schedule.next_window_datetime.as_deref().unwrap_or("?");
            let required = if schedule.required { "required " } else { "" };
            match previous_window {
                Some(before) => format!("{required}window moved from {before} to {window}"),
                None => format!("{required}window scheduled for {window}"),
            }
        }
        EventKind::MaintenanceStarted { .. } => "window started".into(),
        EventKind::TimerFired {
            timer,
            state,
            since,
            firing,
            escalated,
            ..
        } => format!(
            "{state} for {} (timer {timer}, firing {firing}{})",
            elapsed(event.observed_at - *since),
            if *escalated { ", escalated" } else { "" }
        ),
        EventKind::MaintenanceFinished { .. } => "window over".into(),
        EventKind::DeployRequestAwaitingCutover { waiting_since, .. } => format!(
            "waiting for its cutover for {}",
            elapsed(event.observed_at - *waiting_since)
        ),
        EventKind::DeployRequestCutoverExpiring { .. } => {
            "cutover expiring soon: cut over or it must be deployed again".into()
        }
        EventKind::DeployRequestBlocked { locked_table, .. } => match locked_table {
            Some(table) => format!("blocked: table {} is locked", truncate(table, 200)),
            None => "blocked: a table it changes is locked".into(),
        },
        EventKind::DeployRequestRevertWindowClosing { closes_at, .. } => format!(
            "revert window closes in {}: revert now or the change stays",
            elapsed(*closes_at - event.observed_at)
        ),
        EventKind::DeployRequestQueuePaused {
            queue_pause_reason, ..
        } => match queue_pause_reason
            .as_deref()
            .filter(|reason| !reason.is_empty())
        {
            Some(reason) => format!("deploy queue paused: {}", truncate(reason, 300)),
            None => "deploy queue paused".into(),
        },
        EventKind::DeployOperationStalled {
            stalled_since,
            operation,
            ..
        } => format!(
            "stalled at {}% for {}",
            operation.progress_percentage.unwrap_or_default(),
            elapsed(event.observed_at - *stalled_since)
        ),
        EventKind::WorkflowErrorsChanged { errors, .. }
        | EventKind::DeployOperationErrorsChanged { errors, .. } => {
            if errors.is_some() {
                "errors changed".into()
            } else {
                "errors cleared".into()
            }
        }
        kind => match kind.previous_state() {
            Some(previous) => format!("{previous} -> {}", kind.state()),
            None => format!("new: {}", kind.state()),
        },
    }
}

/// A size in bytes as people read it: `512 B`, `3.4 MB`, `1.2 GB`.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A duration as people say it: `45m`, `1h 5m`, `2d 3h`.
pub(crate) fn elapsed(duration: time::Duration) -> String {
    let minutes = duration.whole_minutes().max(0);
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, minutes) {
        (0, 0, minutes) => format!("{minutes}m"),
        (0, hours, 0) => format!("{hours}h"),
        (0, hours, minutes) => format!("{hours}h {minutes}m"),
        (days, 0, _) => format!("{days}d"),
        (days, hours, _) => format!("{days}d {hours}h"),
    }
}

/// One line that says it all: `acme/commerce workflow #3 move-customers: running -> cutover`.
pub fn headline(event: &Event) -> String {
    format!(
        "{}/{} {}: {}",
        event.organization,
        event.database,
        resource_name(event),
        change(event)
    )
}

/// The title of a message for `count` events of one poll, `first` first: its headline when it
/// is alone, `acme/commerce: 3 changes` otherwise.
pub(crate) fn title(first: &Event, count: usize) -> String {
    if count == 1 {
        headline(first)
    } else {
        format!("{}/{}: {count} changes", first.organization, first.database)
    }
}

/// Escapes what Slack's mrkdwn gives meaning to (`&`, `<` and `>`), so that text from the API
/// (a table named `<!channel>`, a branch named `<https://x|y>`) is shown, never read as a
/// mention or a link. The one way pswatch escapes for Slack: every text field of every message,
/// the top-level `text` Slack notifies with included.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` fit for one line of a terminal: every control character (C0 with newlines and
/// carriage returns, DEL, C1) written as an escape such as `\u{1b}`, so text from the API
/// cannot move the cursor, retitle or clear the terminal, or forge lines.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape_controls(text, false)
}

/// [`printable`] for a whole output whose lines are pswatch's own: newlines and tabs are kept.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    escape_controls(text, true)
}

fn escape_controls(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let kept = |character: char| keep_lines && matches!(character, '\n' | '\t');
    if !text
        .chars()
        .any(|character| character.is_control() && !kept(character))
    {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        match character {
            _ if kept(character) || !character.is_control() => escaped.push(character),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            other => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(other));
            }
        }
    }
    Cow::Owned(escaped)
}

/// Cuts `text` to `limit` characters and says how much was cut.
pub fn truncate(text: &str, limit: usize) -> Cow<'_, str> {
    let total = text.chars().count();
    if total <= limit {
        return Cow::Borrowed(text);
    }
    let kept: String = text.chars().take(limit).collect();
    Cow::Owned(format!("{kept}… [cut: {} more characters]", total - limit))
}

/// `text` in at most `limit` characters, an ellipsis ending it when it was cut: for fields
/// with a hard limit (Slack's header, PagerDuty's summary), where a note of how much was cut
/// would not fit.
pub fn fit(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(limit.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

/// When the event was observed, in RFC 3339.
pub(crate) fn timestamp(event: &Event) -> String {
    rfc3339(event.observed_at)
}

/// Facts about the resource, as (label, value) pairs, in the order people read them.
pub(crate) fn details(event: &Event) -> Vec<(&'static str, String)> {
    let mut details = Vec::new();
    let mut push = |label: &'static str, value: Option<&str>| {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            details.push((label, value.to_owned()));
        }
    };
    match &event.kind {
        EventKind::WorkflowStateChanged { workflow, .. }
        | EventKind::WorkflowErrorsChanged { workflow, .. } => {
            push(
                "Workflow",
                Some(&format!("{} (#{})", workflow.name, workflow.number)),
            );
            if let (Some(source), Some(target)) =
                (&workflow.source_keyspace, &workflow.target_keyspace)
            {
                push("Tables move", Some(&format!("{source} -> {target}")));
            }
            push("Branch", workflow.branch.as_deref());
            push("Started by", workflow.actor.as_deref());
            push("Cut over by", workflow.cutover_by.as_deref());
        }
        EventKind::DeployRequestStateChanged { deploy_request, .. }
        | EventKind::DeployRequestAwaitingCutover { deploy_request, .. }
        | EventKind::DeployRequestCutoverExpiring { deploy_request }
        | EventKind::DeployRequestQueuePaused { deploy_request, .. }
        | EventKind::DeployRequestRevertWindowClosing { deploy_request, .. }
        | EventKind::DeployRequestBlocked { deploy_request, .. } => {
            push(
                "Deploy request",
                Some(&format!("#{}", deploy_request.number)),
            );
            if let (Some(branch), Some(into)) =
                (&deploy_request.branch, &deploy_request.into_branch)
            {
                push("Branches", Some(&format!("{branch} -> {into}")));
            }
            if let EventKind::DeployRequestAwaitingCutover { waiting_since, .. } = &event.kind {
                push("Waiting since", Some(&rfc3339(*waiting_since)));
            }
            if let EventKind::DeployRequestRevertWindowClosing { closes_at, .. } = &event.kind {
                push("Revert window closes", Some(&rfc3339(*closes_at)));
            }
            if let EventKind::DeployRequestBlocked {
                locked_table: Some(table),
                ..
            } = &event.kind
            {
                push("Locked table", Some(table));
            }
            if let Some(place) = deploy_request.queue_position {
                push("Place in the deploy queue", Some(&place.to_string()));
            }
            push("Opened by", deploy_request.actor.as_deref());
            push("Closed by", deploy_request.closed_by.as_deref());
        }
        EventKind::DeployOperationStateChanged {
            deploy_request_number,
            operation,
            ..
        }
        | EventKind::DeployOperationErrorsChanged {
            deploy_request_number,
            operation,
            ..
        }
        | EventKind::DeployOperationStalled {
            deploy_request_number,
            operation,
            ..
        } => {
            push("Deploy request", Some(&format!("#{deploy_request_number}")));
            if event.kind.phase() == Some(OperationPhase::Revert) {
                push("Phase", Some("revert"));
            }
            push("Keyspace", operation.keyspace_name.as_deref());
            push("Table", operation.table_name.as_deref());
            if let EventKind::DeployOperationStalled { stalled_since, .. } = &event.kind {
                push("Not moving since", Some(&rfc3339(*stalled_since)));
            }
            push(
                "Change",
                operation
                    .ddl_statement
                    .as_deref()
                    .map(|ddl| truncate(ddl, 500))
                    .as_deref(),
            );
            push("Error docs", operation.deploy_error_docs_url.as_deref());
        }
        EventKind::PlanetScale { resource, .. } => {
            let text = |key: &str| resource[key].as_str().map(str::to_owned);
            push(
                "Event",
                Some(&format!(
                    "PlanetScale {}",
                    event.kind.type_name().trim_start_matches("planetscale.")
                )),
            );
            push("Name", text("name").as_deref());
            push("State", text("state").as_deref());
            if let Some(production) = resource["production"].as_bool() {
                push("Production", Some(if production { "yes" } else { "no" }));
            }
            push("Region", resource["region"]["display_name"].as_str());
            if let Some(percentage) = diff_engine::storage_percentage(resource) {
                push("Storage used", Some(&format!("{percentage:.1}%")));
            }
            push("By", resource["actor"]["display_name"].as_str());
        }
        EventKind::MaintenanceScheduled { schedule, .. }
        | EventKind::MaintenanceStarted { schedule }
        | EventKind::MaintenanceFinished { schedule } => {
            push("Next window", schedule.next_window_datetime.as_deref());
            push("Last window", schedule.last_window_datetime.as_deref());
            push(
                "Lasts",
                schedule
                    .duration_hours
                    .map(|hours| format!("{hours}h"))
                    .as_deref(),
            );
            push("Required", schedule.required.then_some("yes"));
            push("Deadline", schedule.deadline_at.as_deref());
            push("Vitess version", schedule.pending_vitess_version.as_deref());
            push("MySQL version", schedule.pending_mysql_version.as_deref());
        }
        EventKind::SchemaRecommendationOpened { recommendation }
        | EventKind::SchemaRecommendationClosed { recommendation, .. } => {
            push("Recommendation", Some(&recommendation.title));
            push("Type", recommendation.recommendation_type.as_deref());
            push("Keyspace", recommendation.keyspace.as_deref());
            push("Table", recommendation.table_name.as_deref());
            push(
                "Change",
                recommendation
                    .ddl_statement
                    .as_deref()
                    .map(|ddl| truncate(ddl, 500))
                    .as_deref(),
            );
        }
        EventKind::ResizeStateChanged { resize, .. } => {
            push("Branch", Some(&resize.branch));
            push("Keyspace", resize.keyspace.as_deref());
            let from_to = |before: Option<String>, after: Option<String>| match (before, after) {
                (Some(before), Some(after)) if before != after => {
                    Some(format!("{before} -> {after}"))
                }
                (_, Some(after)) => Some(after),
                (Some(before), None) => Some(before),
                (None, None) => None,
            };
            push(
                "Cluster size",
                from_to(
                    resize.previous_cluster_name.clone(),
                    resize.cluster_name.clone(),
                )
                .as_deref(),
            );
            push(
                "Replicas",
                from_to(
                    resize.previous_replicas.map(|n| n.to_string()),
                    resize.replicas.map(|n| n.to_string()),
                )
                .as_deref(),
            );
            push(
                "Storage",
                from_to(
                    resize.previous_maximum_storage_bytes.map(size),
                    resize.maximum_storage_bytes.map(size),
                )
                .as_deref(),
            );
            push("Started", resize.started_at.as_deref());
            push("Ended", resize.completed_at.as_deref());
        }
        EventKind::BackupStateChanged { backup, .. } => {
            push("Branch", Some(&backup.branch));
            push("Backup", Some(&backup.name));
            push("Size", backup.size.map(size).as_deref());
            push("Started", backup.started_at.as_deref());
            push("Ended", backup.completed_at.as_deref());
            let times = backup
                .started_at
                .as_deref()
                .zip(backup.completed_at.as_deref())
                .and_then(|(started, ended)| {
                    let read = |text: &str| {
                        time::OffsetDateTime::parse(
                            text,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    };
                    Some(read(ended)? - read(started)?)
                });
            push("Took", times.map(elapsed).as_deref());
        }
        EventKind::TimerFired {
            timer,
            since,
            firing,
            escalated,
            subject,
            ..
        } => {
            push("Timer", Some(timer));
            push("In its state since", Some(&rfc3339(*since)));
            push(
                "Firing",
                Some(&format!(
                    "{firing}{}",
                    if *escalated { " (escalated)" } else { "" }
                )),
            );
            details.extend(self::details(&subject_event(event, subject)));
        }
        EventKind::Digest { digest } => {
            let (completed, failed, waiting) = digest.counts();
            push("Digest", Some(&digest.name));
            push(
                "Period",
                Some(&format!(
                    "{} to {}",
                    rfc3339(digest.period_start),
                    rfc3339(digest.period_end)
                )),
            );
            push("Completed", Some(&completed.to_string()));
            push("Failed", Some(&failed.to_string()));
            push("Waiting", Some(&waiting.to_string()));
            push("Dead letters", Some(&digest.dead_letters.to_string()));
        }
    }
    details
}

pub(crate) const TEST_NOTE: &str = "This is a test message from pswatch (pswatch test-notify). Alerts routed to this channel arrive like this.";
