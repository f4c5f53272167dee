//! `pswatch wait ORG/DB deploy-request N --until STATE[,STATE...]`: waits on the running
//! service, never on PlanetScale, until a deploy request or workflow reaches a state. It asks
//! the admin API in rounds, printing the state and each table's progress as they move, and
//! reconnects across a restart or failover of pswatch.
//!
//! Exit codes: 0 a wanted state was reached; 1 the resource reached a state from which none of
//! the wanted ones can come ([`hopeless`]); 2 the timeout passed; 3 pswatch could not be reached
//! (for `--reconnect-for`), refused the token, or cannot answer for the resource.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use tokio::time::Instant;

use crate::admin::views::ResourceAnswer;

/// What `pswatch wait` waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum WaitKind {
    /// A deploy request: its `deployment_state`.
    DeployRequest,
    /// A MoveTables workflow: its `state`.
    Workflow,
}

impl WaitKind {
    fn path(self) -> &'static str {
        match self {
            Self::DeployRequest => "deploy-requests",
            Self::Workflow => "workflows",
        }
    }

    /// The resource kind it waits on.
    fn resource(self) -> model::ResourceKind {
        match self {
            Self::DeployRequest => model::ResourceKind::DeployRequest,
            Self::Workflow => model::ResourceKind::Workflow,
        }
    }

    fn name(self) -> &'static str {
        self.resource().noun()
    }
}

/// The longest one request waits: the answer then shows how far the tables got.
const ROUND: Duration = Duration::from_secs(5);

/// Deploy request states after which it changes no more.
const DEPLOY_REQUEST_FINAL: &[&str] = &[
    "complete",
    "complete_error",
    "complete_cancel",
    "complete_revert",
    "complete_revert_error",
    "cancelled",
    "error",
];

/// Workflow states after which none other comes (an `error` waits for a person to retry it).
const WORKFLOW_FINAL: &[&str] = &["completed", "cancelled", "error"];

/// The states a deploy request can still reach from `state`; `None`: any.
fn deploy_request_next(state: &str) -> Option<&'static [&'static str]> {
    match state {
        state if DEPLOY_REQUEST_FINAL.contains(&state) => Some(&[]),
        "complete_pending_revert" => Some(&[
            "complete",
            "in_progress_revert",
            "in_progress_revert_vschema",
            "complete_revert",
            "complete_revert_error",
        ]),
        "in_progress_revert" | "in_progress_revert_vschema" => Some(&[
            "in_progress_revert_vschema",
            "complete_revert",
            "complete_revert_error",
        ]),
        _ => None,
    }
}

/// Whether `answer`, in none of the `wanted` states, can reach none of them: a deploy request
/// in a final state (or closed), a workflow completed, cancelled or in error.
pub(crate) fn hopeless(kind: WaitKind, answer: &ResourceAnswer, wanted: &[String]) -> bool {
    let state = match kind {
        WaitKind::DeployRequest => answer.deployment_state.as_deref().unwrap_or_default(),
        WaitKind::Workflow => answer.state.as_str(),
    };
    if wanted.iter().any(|wanted| wanted == state) {
        return false;
    }
    match kind {
        WaitKind::DeployRequest => {
            if answer.state == "closed" {
                return true;
            }
            deploy_request_next(state)
                .is_some_and(|next| !wanted.iter().any(|wanted| next.contains(&wanted.as_str())))
        }
        WaitKind::Workflow => WORKFLOW_FINAL.contains(&state),
    }
}

/// What `pswatch wait` was asked.
pub(crate) struct WaitRequest {
    pub(crate) database: String,
    pub(crate) kind: WaitKind,
    pub(crate) number: u64,
    pub(crate) until: Vec<String>,
    pub(crate) timeout: Duration,
    pub(crate) reconnect_for: Duration,
    pub(crate) base: String,
    pub(crate) token: Option<String>,
}

fn refused(message: &str) -> ExitCode {
    eprintln!("pswatch wait: {message}");
    ExitCode::from(3)
}

/// Runs the wait; the exit code says how it ended.
pub(crate) async fn wait(request: WaitRequest) -> ExitCode {
    let Some((organization, database)) = request
        .database
        .split_once('/')
        .filter(|(organization, database)| !organization.is_empty() && !database.is_empty())
    else {
        return refused(&format!(
            "{:?} is not ORGANIZATION/DATABASE",
            request.database
        ));
    };
    let known = request.kind.resource().states();
    if let Some(unknown) = request
        .until
        .iter()
        .find(|state| !known.contains(&state.as_str()))
    {
        return refused(&format!(
            "--until {unknown:?} is not a state of a {}; one of: {}",
            request.kind.name(),
            known.join(", ")
        ));
    }
    let Ok(client) = http_util::client(ROUND + Duration::from_secs(30)) else {
        return refused("cannot build an HTTP client");
    };
    let Ok(base) = request.base.parse::<url::Url>() else {
        return refused(&format!("--url {:?} is not a URL", request.base));
    };
    let number = request.number.to_string();
    let segments = ["api", request.kind.path(), organization, database, &number];
    let url = match http_util::with_segments(&base, &segments) {
        Ok(url) => url,
        Err(segment) => return refused(&format!("{segment:?} cannot name a database")),
    };
    let deadline = Instant::now() + request.timeout;
    let mut shown = Shown::new(std::io::stdout().is_terminal());
    let mut unreachable_since: Option<Instant> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let round = left.min(ROUND);
        // The first ask reads the resource as it is, to show it at once; the next ones wait.
        let mut asking = if shown.is_empty() {
            client.get(url.clone())
        } else {
            client.get(url.clone()).query(&[
                ("until", request.until.join(",")),
                ("timeout", format!("{}ms", round.as_millis())),
            ])
        };
        if let Some(token) = &request.token {
            asking = asking.bearer_auth(token);
        }
        let problem = match asking.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                match status {
                    200 => match serde_json::from_str::<ResourceAnswer>(&body) {
                        Ok(answer) => {
                            unreachable_since = None;
                            shown.show(request.kind, &answer);
                            let reached = request
                                .until
                                .iter()
                                .any(|state| state == state_of(request.kind, &answer));
                            if reached {
                                shown.done(&format!("reached {}", state_of(request.kind, &answer)));
                                return ExitCode::SUCCESS;
                            }
                            if hopeless(request.kind, &answer, &request.until) {
                                shown.done(&format!(
                                    "{} cannot reach {} any more",
                                    state_of(request.kind, &answer),
                                    request.until.join(" or ")
                                ));
                                return ExitCode::from(1);
                            }
                            None
                        }
                        Err(error) => Some(format!("an answer pswatch wait cannot read: {error}")),
                    },
                    401 | 403 => {
                        return refused(&format!(
                            "pswatch refuses the token (HTTP {status}); give a read token in PSWATCH_TOKEN"
                        ))
                    }
                    400 | 404 => return refused(body.trim()),
                    // Starting, stopping, or its store away for a moment: asked again.
                    _ => Some(format!("HTTP {status}: {}", body.trim())),
                }
            }
            Err(error) => Some(http_util::error_chain(&error.without_url())),
        };
        if let Some(problem) = problem {
            let since = *unreachable_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= request.reconnect_for {
                return refused(&format!(
                    "cannot reach pswatch at {} for {}: {problem}",
                    request.base,
                    humantime::format_duration(request.reconnect_for)
                ));
            }
            shown.note(&format!(
                "pswatch cannot answer now ({problem}); asking again"
            ));
            tokio::time::sleep(Duration::from_secs(1).min(left)).await;
        }
        if Instant::now() >= deadline {
            shown.done(&format!(
                "timed out after {} without reaching {}",
                humantime::format_duration(request.timeout),
                request.until.join(" or ")
            ));
            return ExitCode::from(2);
        }
    }
}

fn state_of(kind: WaitKind, answer: &ResourceAnswer) -> &str {
    match kind {
        WaitKind::DeployRequest => answer.deployment_state.as_deref().unwrap_or("-"),
        WaitKind::Workflow => &answer.state,
    }
}

/// The lines a wait prints of a resource: its state, then a line per table.
fn lines(kind: WaitKind, answer: &ResourceAnswer, bars: bool) -> Vec<String> {
    let mut lines = vec![format!(
        "{}/{} {} #{}: {}",
        answer.organization,
        answer.database,
        kind.name(),
        answer.number,
        state_of(kind, answer)
    )];
    for operation in &answer.operations {
        let table = operation.table.as_deref().unwrap_or("?");
        let revert = if operation.phase == "revert" {
            " (revert)"
        } else {
            ""
        };
        let mut line = format!("  {table}{revert}: {}", operation.state);
        if let Some(percentage) = operation
            .progress_percentage
            .filter(|_| operation.state == "in_progress")
        {
            let percentage = percentage.clamp(0.0, 100.0);
            if bars {
                // Ten cells; the percentage is clamped, so the count is 0 to 10.
                let filled = (percentage / 10.0).round() as usize;
                line = format!(
                    "  {table}{revert} {}{} {percentage:.0} %",
                    "▓".repeat(filled),
                    "░".repeat(10 - filled)
                );
            } else {
                line.push_str(&format!(" {percentage:.0} %"));
            }
            if let Some(eta) = operation.eta_seconds {
                line.push_str(&format!(
                    ", about {} left",
                    humantime::format_duration(
                        Duration::from_secs(eta - eta % 60).max(Duration::from_secs(60))
                    )
                ));
            }
        }
        if let Some(errors) = &operation.errors {
            line.push_str(&format!(" ({errors})"));
        }
        lines.push(line);
    }
    lines
}

/// What was printed last: a terminal redraws it in place, anything else gets the lines again
/// when they change.
struct Shown {
    terminal: bool,
    last: Vec<String>,
}

impl Shown {
    fn new(terminal: bool) -> Self {
        Self {
            terminal,
            last: Vec::new(),
        }
    }

    fn show(&mut self, kind: WaitKind, answer: &ResourceAnswer) {
        let lines = lines(kind, answer, self.terminal);
        if lines == self.last {
            return;
        }
        let mut out = std::io::stdout().lock();
        if self.terminal && !self.last.is_empty() {
            // Up over what was drawn, and clear it.
            let _ = write!(out, "\x1b[{}A\x1b[J", self.last.len());
        }
        for line in &lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
        self.last = lines;
    }

    /// Whether nothing was shown yet.
    fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// A passing note (pswatch away for a moment), on stderr.
    fn note(&mut self, note: &str) {
        eprintln!("pswatch wait: {note}");
    }

    /// The last line.
    fn done(&mut self, outcome: &str) {
        println!("{outcome}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(state: &str, deployment_state: Option<&str>) -> ResourceAnswer {
        ResourceAnswer {
            organization: "acme".into(),
            database: "commerce".into(),
            kind: "deploy_request".into(),
            number: 7,
            name: None,
            state: state.into(),
            deployment_state: deployment_state.map(str::to_owned),
            branch: None,
            into_branch: None,
            html_url: None,
            operations: Vec::new(),
            last_event: None,
            observed_at: "2026-12-07T12:00:00Z".into(),
            reached: Some(false),
        }
    }

    #[test]
    fn a_wait_ends_where_the_wanted_state_cannot_come() {
        let wanted = |states: &[&str]| {
            states
                .iter()
                .map(|state| (*state).to_owned())
                .collect::<Vec<_>>()
        };
        let dr = |state| answer("open", Some(state));
        let kind = WaitKind::DeployRequest;
        for state in [
            "pending",
            "queued",
            "in_progress",
            "pending_cutover",
            "in_progress_cutover",
        ] {
            assert!(
                !hopeless(kind, &dr(state), &wanted(&["complete"])),
                "{state}"
            );
        }
        for state in DEPLOY_REQUEST_FINAL
            .iter()
            .filter(|state| **state != "complete")
        {
            assert!(
                hopeless(kind, &dr(state), &wanted(&["complete"])),
                "{state}"
            );
        }
        // The revert window: the deploy completes when it ends, or is reverted.
        assert!(!hopeless(
            kind,
            &dr("complete_pending_revert"),
            &wanted(&["complete"])
        ));
        assert!(!hopeless(
            kind,
            &dr("complete_pending_revert"),
            &wanted(&["complete_revert"])
        ));
        assert!(hopeless(
            kind,
            &dr("complete_pending_revert"),
            &wanted(&["pending_cutover"])
        ));
        assert!(hopeless(
            kind,
            &dr("in_progress_revert"),
            &wanted(&["complete"])
        ));
        // A closed deploy request moves no more.
        assert!(hopeless(
            kind,
            &answer("closed", Some("ready")),
            &wanted(&["complete"])
        ));
        assert!(!hopeless(
            kind,
            &answer("closed", Some("complete")),
            &wanted(&["complete"])
        ));
        let workflow = |state: &str| ResourceAnswer {
            deployment_state: None,
            ..answer(state, None)
        };
        let kind = WaitKind::Workflow;
        assert!(!hopeless(
            kind,
            &workflow("running"),
            &wanted(&["completed"])
        ));
        assert!(hopeless(
            kind,
            &workflow("cancelled"),
            &wanted(&["completed"])
        ));
        assert!(hopeless(kind, &workflow("error"), &wanted(&["completed"])));
        assert!(!hopeless(kind, &workflow("error"), &wanted(&["error"])));
    }

    #[test]
    fn progress_is_a_bar_on_a_terminal_and_a_line_elsewhere() {
        let mut running = answer("open", Some("in_progress"));
        running
            .operations
            .push(crate::admin::views::OperationAnswer {
                id: "op-1".into(),
                phase: "deploy".into(),
                keyspace: Some("commerce".into()),
                table: Some("orders".into()),
                state: "in_progress".into(),
                progress_percentage: Some(42.0),
                eta_seconds: Some(725),
                errors: None,
            });
        let plain = lines(WaitKind::DeployRequest, &running, false);
        assert_eq!(plain[0], "acme/commerce deploy request #7: in_progress");
        assert_eq!(plain[1], "  orders: in_progress 42 %, about 12m left");
        let bars = lines(WaitKind::DeployRequest, &running, true);
        assert_eq!(bars[1], "  orders ▓▓▓▓░░░░░░ 42 %, about 12m left");
    }
}
