//! Checks of rendered messages by their vendors' own libraries, for tests: Slack's slack-sdk
//! (Block Kit), Microsoft's Adaptive Cards SDK, Google's Chat client library (its `Message`
//! type) and GitHub's OpenAPI description of its REST API, run by the scripts in `tests/tools` with the
//! interpreters `tests/tools/install` sets up in `.test-tools` (or those
//! `PSWATCH_TEST_PYTHON` and `PSWATCH_TEST_NODE_MODULES` name). Behind the `testing` feature.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

const INSTALL: &str = "run `bash tests/tools/install` once (it sets up .test-tools)";

/// Runs `program args` with one JSON value a line on its standard input; the problems it
/// printed, one a line.
fn run(mut command: Command, values: &[Value]) -> Vec<String> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?} ({error}); {INSTALL}"));
    let mut input = String::new();
    for value in values {
        input.push_str(&value.to_string());
        input.push('\n');
    }
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|error| panic!("cannot write to {command:?}: {error}"));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|error| panic!("{command:?} failed: {error}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() || !output.stdout.is_empty(),
        "{command:?} could not check: {stderr}; {INSTALL}"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The Python the test tools are installed for, running `script` of `tests/tools`.
fn python(script: &str) -> Command {
    let python = std::env::var_os("PSWATCH_TEST_PYTHON").map_or_else(
        || workspace().join(".test-tools/venv/bin/python"),
        PathBuf::from,
    );
    let mut command = Command::new(python);
    command.arg(workspace().join("tests/tools").join(script));
    command
}

/// What slack-sdk finds wrong with each of `messages` (`{"text", "blocks"}`), as
/// `<message number>: <problem>`; empty when all are valid.
pub fn slack_problems(messages: &[Value]) -> Vec<String> {
    run(python("slack_blocks.py"), messages)
}

/// What Google's Chat client library finds wrong with each of `messages` (`{"cardsV2", …}`),
/// as `<message number>: <problem>`; empty when all are valid.
pub fn google_chat_problems(messages: &[Value]) -> Vec<String> {
    run(python("google_chat_message.py"), messages)
}

/// The npm packages the test tools installed.
fn node_modules() -> PathBuf {
    std::env::var_os("PSWATCH_TEST_NODE_MODULES").map_or_else(
        || workspace().join(".test-tools/node/node_modules"),
        PathBuf::from,
    )
}

/// What GitHub's own OpenAPI description (`@octokit/openapi`) finds wrong with each of
/// `requests` (`{"method", "path", "query", "headers", "body"}`, the path below the API's
/// root), as `<request number>: <problem>`; empty when all are valid.
pub fn github_problems(requests: &[Value]) -> Vec<String> {
    let modules = node_modules();
    assert!(
        modules
            .join("@octokit/openapi/generated/api.github.com.deref.json")
            .is_file(),
        "GitHub's OpenAPI description is not in {}; {INSTALL}",
        modules.display()
    );
    let mut command = Command::new("node");
    command
        .arg(workspace().join("tests/tools/github_request.js"))
        .arg(modules);
    run(command, requests)
}

/// What the Adaptive Cards SDK finds wrong with each of `cards` (cards, or Teams messages
/// holding them), as `<card number>: <problem>`; empty when all are valid.
pub fn adaptive_card_problems(cards: &[Value]) -> Vec<String> {
    let modules = node_modules();
    assert!(
        modules
            .join("adaptivecards/dist/adaptivecards.js")
            .is_file(),
        "the Adaptive Cards SDK is not in {}; {INSTALL}",
        modules.display()
    );
    let mut command = Command::new("node");
    command
        .arg(workspace().join("tests/tools/adaptive_card.js"))
        .arg(modules);
    run(command, cards)
}

/// What PagerDuty's documentation of the Change Events API
/// (<https://developer.pagerduty.com/docs/send-change-event>) says a change event may not be
/// that each of `bodies` (as sent, with `routing_key`) is: `routing_key` and
/// `payload.summary` (at most 1024 characters) required, `payload.source` a string,
/// `payload.timestamp` a date-time, `payload.custom_details` an object, `links` objects with an
/// `href` URL and an optional `text`, and nothing else (PagerDuty has no other field).
pub fn pagerduty_change_problems(bodies: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, body) in bodies.iter().enumerate() {
        let mut problem = |text: String| problems.push(format!("change event {index}: {text}"));
        let Some(body) = body.as_object() else {
            problem("is not an object".into());
            continue;
        };
        for key in body.keys() {
            if !["routing_key", "payload", "links", "images"].contains(&key.as_str()) {
                problem(format!("has {key}, which change events do not take"));
            }
        }
        if !body.get("routing_key").is_some_and(Value::is_string) {
            problem("has no routing_key string".into());
        }
        match body.get("payload").and_then(Value::as_object) {
            None => problem("has no payload object".into()),
            Some(payload) => {
                for key in payload.keys() {
                    if !["summary", "source", "timestamp", "custom_details"].contains(&key.as_str())
                    {
                        problem(format!(
                            "payload has {key}, which change events do not take"
                        ));
                    }
                }
                match payload.get("summary").and_then(Value::as_str) {
                    None => problem("payload has no summary string".into()),
                    Some("") => problem("summary is empty".into()),
                    Some(summary) if summary.chars().count() > 1024 => {
                        problem("summary is longer than 1024 characters".into());
                    }
                    Some(_) => {}
                }
                if payload
                    .get("source")
                    .is_some_and(|source| !source.is_string())
                {
                    problem("payload.source is not a string".into());
                }
                if let Some(timestamp) = payload.get("timestamp") {
                    let parsed = timestamp.as_str().map(|text| {
                        time::OffsetDateTime::parse(
                            text,
                            &time::format_description::well_known::Rfc3339,
                        )
                    });
                    if !matches!(parsed, Some(Ok(_))) {
                        problem(format!("payload.timestamp {timestamp} is not a date-time"));
                    }
                }
                if payload
                    .get("custom_details")
                    .is_some_and(|details| !details.is_object())
                {
                    problem("payload.custom_details is not an object".into());
                }
            }
        }
        if let Some(links) = body.get("links") {
            let Some(links) = links.as_array() else {
                problem("links is not an array".into());
                continue;
            };
            for link in links {
                let href = link.get("href").and_then(Value::as_str);
                if href.is_none_or(|href| url::Url::parse(href).is_err()) {
                    problem(format!("link {link} has no href URL"));
                }
                if link.get("text").is_some_and(|text| !text.is_string()) {
                    problem(format!("link {link} has a text that is not a string"));
                }
            }
        }
    }
    problems
}
