//! `pswatch state`: what pswatch remembers of each watched database.

use std::fmt::Write as _;

use diff_engine::{Target, TargetState};
use notifier::render::printable;

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

/// `pswatch state reset`: moves a store that cannot be read aside; says where.
pub(crate) fn reset(path: &std::path::Path) -> anyhow::Result<String> {
    match store::Store::open(path) {
        Ok(_) => anyhow::bail!(
            "the state store at {} opens and reads: nothing to reset (pswatch state forget ORG/DB makes one database start over)",
            path.display()
        ),
        Err(store::StoreError::Damaged { .. }) => {}
        Err(store::StoreError::Open { reason, .. }) if reason.contains("another process") => {
            anyhow::bail!(
                "a pswatch process uses the state store at {}; stop it first",
                path.display()
            )
        }
        Err(store::StoreError::Open { reason, .. })
            if reason.contains("not a directory") || reason.contains("permission denied") =>
        {
            anyhow::bail!(
                "the state store at {} cannot be opened ({reason}); that is not fixed by starting over",
                path.display()
            )
        }
        Err(_) => {}
    }
    let stamp = time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "now".into());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".damaged-{stamp}"));
    let aside = std::path::PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(|error| {
        anyhow::anyhow!(
            "cannot move {} to {}: {error}",
            path.display(),
            aside.display()
        )
    })?;
    Ok(format!(
        "moved the damaged state store to {}; the next start begins a new one (every database records a new baseline)",
        aside.display()
    ))
}

/// The first line of an error text from the API, cut to 120 characters, fit for a terminal.
fn error_line(errors: &str) -> String {
    printable(&notifier::render::truncate(
        errors.lines().next().unwrap_or_default(),
        120,
    ))
    .into_owned()
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
            "{}{}",
            printable(&target.to_string()),
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
                workflow.number,
                printable(&workflow.name),
                printable(workflow.state.as_str())
            );
            if let Some(errors) = &workflow.workflow_errors {
                let _ = write!(text, " | error: {}", error_line(errors));
            }
            text.push('\n');
        }
        for (number, request) in &state.deploy_requests {
            let _ = writeln!(
                text,
                "  deploy request #{number}: {}",
                printable(request.deployment_state.as_str())
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
                let _ = write!(text, "    {noun} {}", printable(id));
                if let Some(table) = &operation.table_name {
                    let _ = write!(text, " ({})", printable(table));
                }
                let _ = write!(text, ": {}", printable(operation.state.as_str()));
                if let Some(errors) = &operation.errors {
                    let _ = write!(text, " | error: {}", error_line(errors));
                }
                text.push('\n');
            }
        }
    }
    text
}

/// `pswatch state export`: every record on standard output, the count on standard error.
pub(crate) async fn export(store: &store::Store) -> anyhow::Result<std::process::ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let count = store.export(&mut out).await?;
    drop(out);
    eprintln!("exported {count} records");
    Ok(std::process::ExitCode::SUCCESS)
}

/// `pswatch state import`: an export from standard input into an empty store.
pub(crate) async fn import(store: &store::Store) -> anyhow::Result<std::process::ExitCode> {
    let count = store.import(&mut std::io::stdin().lock()).await?;
    store.flush().await?;
    eprintln!("imported {count} records");
    Ok(std::process::ExitCode::SUCCESS)
}
