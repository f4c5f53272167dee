//! `pswatch state`: what pswatch remembers of each watched database.

use std::fmt::Write as _;

use diff_engine::{Target, TargetState};

/// Parses `ORG/DB`.
pub(crate) fn parse_target(text: &str) -> anyhow::Result<Target> {
    match text.split_once('/') {
        Some((organization, database))
            if !organization.is_empty() && !database.is_empty() && !database.contains('/') =>
        {
            Ok(Target::new(organization, database))
        }
        _ => anyhow::bail!("{text:?} is not ORGANIZATION/DATABASE"),
    }
}

/// The listing of `pswatch state show`.
pub(crate) fn render(states: &[(Target, TargetState)]) -> String {
    let mut text = String::new();
    if states.is_empty() {
        text.push_str("no state yet: the first poll of a database records its baseline\n");
    }
    for (target, state) in states {
        let _ = writeln!(
            text,
            "{target}{}",
            match state.motion() {
                diff_engine::Motion::Active => " (in motion)",
                diff_engine::Motion::Waiting => " (waiting for a person)",
                diff_engine::Motion::Idle => "",
            }
        );
        if state.workflows.is_empty() && state.deploy_requests.is_empty() {
            text.push_str("  no workflows, no open deploy requests\n");
        }
        let mut workflows: Vec<_> = state.workflows.values().collect();
        workflows.sort_by_key(|workflow| workflow.number);
        for workflow in workflows {
            let _ = write!(
                text,
                "  workflow #{} {}: {}",
                workflow.number, workflow.name, workflow.state
            );
            if let Some(errors) = &workflow.workflow_errors {
                let _ = write!(
                    text,
                    " | error: {}",
                    notifier::render::truncate(errors.lines().next().unwrap_or_default(), 120)
                );
            }
            text.push('\n');
        }
        for (number, request) in &state.deploy_requests {
            let _ = writeln!(
                text,
                "  deploy request #{number}: {}",
                request.deployment_state
            );
            let operations = request
                .operations
                .iter()
                .map(|operation| ("operation", operation))
                .chain(
                    request
                        .revert_operations
                        .iter()
                        .map(|operation| ("revert operation", operation)),
                );
            for (noun, (id, operation)) in operations {
                let _ = write!(text, "    {noun} {id}");
                if let Some(table) = &operation.table_name {
                    let _ = write!(text, " ({table})");
                }
                let _ = write!(text, ": {}", operation.state);
                if let Some(errors) = &operation.errors {
                    let _ = write!(
                        text,
                        " | error: {}",
                        notifier::render::truncate(errors.lines().next().unwrap_or_default(), 120)
                    );
                }
                text.push('\n');
            }
        }
    }
    text
}
