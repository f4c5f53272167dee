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
