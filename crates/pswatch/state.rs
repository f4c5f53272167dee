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
            if state.in_motion() {
                " (in motion)"
            } else {
                ""
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
            for (id, operation) in &request.operations {
                let _ = write!(text, "    operation {id}: {}", operation.state);
                if let Some(errors) = &operation.deploy_errors {
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
