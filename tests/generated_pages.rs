//! List pages generated from PlanetScale's own OpenAPI specification (`openapi.yaml` in
//! `../shared/planetscale-api`, or `PSWATCH_OPENAPI`): every item valid by its response schema
//! but odd (empty, long, control characters, Slack's control sequences, `.` and `..` as names,
//! the largest integers, dates at the ends of the calendar, optional fields left out, nullable
//! ones null), with a fixed seed per run, served on loopback to `pswatch once`. Beside them,
//! one well-formed item of each kind the test changes between two runs. Through the binary:
//! nothing panics, no odd item costs the others of its page, every change made to a
//! well-formed item is reported exactly once, and nothing the pages did not change is
//! reported as changed.

mod support;

use std::time::Duration;

use serde_json::{json, Map, Value};
use support::config::ConfigBuilder;
use support::openapi::{operation, specification};
use support::pswatch;
use support::receiver::Receiver;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The seeds the test runs with; each is a new store and new pages.
const SEEDS: [u64; 16] = [1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 42, 2026];
/// Generated items on each page, besides the well-formed one.
const ITEMS: usize = 6;

/// Values valid by a schema, odd on purpose, from a fixed seed.
struct Generator {
    rng: fastrand::Rng,
    serial: u64,
}

const ODD_TEXT: &[&str] = &[
    "",
    " ",
    "x",
    "bell\u{7}",
    "line\r\nbreak",
    "tab\there",
    "<!channel>",
    "<https://evil.example|click>",
    ".",
    "..",
    "a/b",
    "%2e%2e",
    "ü∆漢字🙂",
    "null",
    "-1",
    "18446744073709551616",
    "2026-13-45T99:99:99Z",
    "\u{202e}reversed",
];

const ODD_TIMES: &[&str] = &[
    "2026-11-23T09:00:00.000Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "1970-01-01T00:00:00Z",
    "2026-11-23T09:00:00+14:00",
];

impl Generator {
    fn new(seed: u64) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
            serial: 0,
        }
    }

    fn text(&mut self) -> String {
        if self.rng.u8(..) < 16 {
            "long ".repeat(2_000)
        } else {
            ODD_TEXT[self.rng.usize(..ODD_TEXT.len())].to_owned()
        }
    }

    fn integer(&mut self) -> Value {
        match self.rng.u8(..8) {
            0 => json!(0),
            1 => json!(-1),
            2 => json!(i64::MAX),
            3 => json!(u64::MAX),
            4 => json!(i64::MIN),
            5 => json!(9_007_199_254_740_993_u64),
            _ => json!(self.rng.u32(..100_000)),
        }
    }

    fn value(&mut self, name: &str, schema: &Value, depth: usize) -> Value {
        if schema["nullable"] == true && self.rng.u8(..4) == 0 {
            return Value::Null;
        }
        if let Some(choices) = schema["enum"].as_array() {
            if !choices.is_empty() {
                return choices[self.rng.usize(..choices.len())].clone();
            }
        }
        match schema["type"].as_str() {
            // Ids and numbers name resources: unique on a page, as PlanetScale's are, odd all
            // the same. Numbers stay clear of the well-formed items' (900 and up).
            Some("string") if name == "id" => {
                self.serial += 1;
                format!(
                    "{}-{}",
                    self.text().chars().take(40).collect::<String>(),
                    self.serial
                )
                .into()
            }
            Some("integer") if name == "number" => {
                self.serial += 1;
                if self.rng.bool() {
                    json!(u64::MAX - self.serial)
                } else {
                    json!(self.serial)
                }
            }
            Some("string") if schema["format"] == "date-time" => {
                ODD_TIMES[self.rng.usize(..ODD_TIMES.len())].into()
            }
            Some("string") => self.text().into(),
            Some("integer") => self.integer(),
            Some("number") => match self.rng.u8(..4) {
                0 => json!(0.0),
                1 => json!(1e300),
                2 => json!(-1.5),
                _ => json!(f64::from(self.rng.u8(..101))),
            },
            Some("boolean") => self.rng.bool().into(),
            Some("array") if depth < 6 => {
                let count = self.rng.usize(..3);
                (0..count)
                    .map(|_| self.value("", &schema["items"], depth + 1))
                    .collect::<Vec<_>>()
                    .into()
            }
            Some("array") => json!([]),
            Some("object") | None if depth < 6 => {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut object = Map::new();
                for (key, property) in schema["properties"].as_object().into_iter().flatten() {
                    if required.contains(&key.as_str()) || self.rng.u8(..10) < 7 {
                        object.insert(key.clone(), self.value(key, property, depth + 1));
                    }
                }
                Value::Object(object)
            }
            _ => json!({}),
        }
    }

    /// `count` items of the list answer `schema` describes.
    fn items(&mut self, schema: &Value, count: usize) -> Vec<Value> {
        let item = &schema["properties"]["data"]["items"];
        (0..count).map(|_| self.value("", item, 0)).collect()
    }
}

/// A list page as PlanetScale frames one, its items in `data`.
fn page(items: Vec<Value>) -> Value {
    json!({
        "type": "list",
        "current_page": 1,
        "next_page": null,
        "next_page_url": null,
        "prev_page": null,
        "prev_page_url": null,
        "data": items,
    })
}

/// A generated item made well formed: `fields` set over it (a `/` in a key goes one level
/// down).
fn well_formed(mut item: Value, fields: &[(&str, Value)]) -> Value {
    if !item.is_object() {
        item = json!({});
    }
    for (key, value) in fields {
        let mut target = &mut item;
        let mut parts = key.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                target[part] = value.clone();
            } else {
                if !target[part].is_object() {
                    target[part] = json!({});
                }
                target = &mut target[part];
            }
        }
    }
    item
}

/// The path of operation `path` for acme/commerce, its branch `main` and keyspace `ks`.
fn concrete(path: &str) -> String {
    path.replace("{organization}", "acme")
        .replace("{database}", "commerce")
        .replace("{branch}", "main")
        .replace("{keyspace}", "ks")
}

/// The pages of one run: generated items of every kind pswatch reads, and the well-formed
/// ones in their `before` or `after` state.
struct Pages {
    lists: Vec<(String, Vec<Value>)>,
    operations: (String, Vec<Value>),
}

fn pages(spec: &Value, seed: u64, after: bool) -> Pages {
    let mut generator = Generator::new(seed);
    let mut lists = Vec::new();
    let mut kind = |id: &str, anchor: Option<Vec<(&str, Value)>>, generator: &mut Generator| {
        let (path, schema) = operation(spec, id);
        let mut items = generator.items(&schema, ITEMS);
        if let Some(fields) = anchor {
            let base = generator.items(&schema, 1).remove(0);
            items.insert(ITEMS / 2, well_formed(base, &fields));
        }
        lists.push((concrete(&path), items));
    };
    let pick = |before: &str, later: &str| -> Value {
        if after {
            later.into()
        } else {
            before.into()
        }
    };
    kind(
        "list_databases",
        Some(vec![
            ("id", "db-commerce".into()),
            ("name", "commerce".into()),
            ("kind", "mysql".into()),
            ("state", "ready".into()),
        ]),
        &mut generator,
    );
    kind(
        "list_workflows",
        Some(vec![
            ("id", "wf-anchor".into()),
            ("number", 900.into()),
            ("name", "move-anchor".into()),
            ("state", pick("copying", "running")),
        ]),
        &mut generator,
    );
    kind(
        "list_deploy_requests",
        Some(vec![
            ("id", "dr-anchor".into()),
            ("number", 901.into()),
            ("state", "open".into()),
            ("deployment_state", pick("queued", "in_progress")),
            ("deployment/state", pick("queued", "in_progress")),
            ("deployment/deploy_operations", json!([])),
            ("deployment/lint_errors", json!([])),
            ("deployment/deploy_check_errors", Value::Null),
        ]),
        &mut generator,
    );
    kind(
        "list_branches",
        Some(vec![
            ("id", "br-main".into()),
            ("name", "main".into()),
            ("production", true.into()),
        ]),
        &mut generator,
    );
    kind(
        "list_backups",
        Some(vec![
            ("id", "bk-anchor".into()),
            ("name", "anchor backup".into()),
            ("state", pick("pending", "success")),
        ]),
        &mut generator,
    );
    kind("list_branch_change_requests", None, &mut generator);
    kind(
        "list_keyspaces",
        Some(vec![("id", "ks-id".into()), ("name", "ks".into())]),
        &mut generator,
    );
    kind("list_keyspace_resize_requests", None, &mut generator);
    kind("list_maintenance_schedules", None, &mut generator);
    kind(
        "list_schema_recommendations",
        Some(vec![
            ("id", "rec-anchor".into()),
            ("number", 902.into()),
            ("state", pick("open", "closed")),
        ]),
        &mut generator,
    );
    let (path, schema) = operation(spec, "list_deploy_operations");
    let operations = generator.items(&schema, ITEMS);
    Pages {
        lists,
        operations: (concrete(&path), operations),
    }
}

async fn serve(server: &MockServer, pages: &Pages) {
    server.reset().await;
    // The organization answers: a 404 on one of its database's lists is then that list's
    // (a branch with an odd name), not a refused token.
    Mock::given(method("GET"))
        .and(path("/organizations/acme"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "org-acme", "name": "acme"})),
        )
        .mount(server)
        .await;
    for (list, items) in &pages.lists {
        Mock::given(method("GET"))
            .and(path(list.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(items.clone())))
            .mount(server)
            .await;
    }
    // The operations of any deploy request that came without them.
    let (operations, items) = &pages.operations;
    let pattern = regex_of(operations);
    Mock::given(method("GET"))
        .and(path_regex(pattern))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(items.clone())))
        .mount(server)
        .await;
}

/// `…/deploy-requests/{number}/operations` as a pattern of any number.
fn regex_of(path: &str) -> String {
    format!(
        "^{}$",
        path.replace("{number}", "[^/]+").replace('.', "\\.")
    )
}

/// An event in a line: its type and what it is about.
fn summary(event: &Value) -> String {
    let data = &event["data"];
    let about: Vec<String> = [
        "workflow",
        "deploy_request",
        "operation",
        "backup",
        "recommendation",
        "resize",
        "schedule",
    ]
    .iter()
    .filter(|key| !data[**key].is_null())
    .map(|key| format!("{key} {} {}", data[*key]["number"], data[*key]["id"]))
    .collect();
    format!(
        "{} {} -> {} ({})",
        event["type"].as_str().unwrap_or_default(),
        data["previous_state"],
        data["state"],
        about.join(", ")
    )
}

/// What one `pswatch once` printed, and its exit status.
async fn once(config: &std::path::Path) -> (Option<i32>, String) {
    let config = config.to_owned();
    let output = tokio::task::spawn_blocking(move || pswatch(&["once"], &config, &[]))
        .await
        .expect("join");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_pages_cost_nothing_and_changes_are_reported_once() {
    let Some(spec) = specification() else {
        // The specification lives beside the project, in ../shared.
        panic!("openapi.yaml not found: set PSWATCH_OPENAPI, or put shared/ beside the checkout");
    };
    for seed in SEEDS {
        let server = MockServer::start().await;
        let receiver = Receiver::start().await;
        let directory = tempfile::tempdir().expect("tempdir");
        let config = ConfigBuilder::new(&server.uri(), &directory.path().join("state"))
            .set("poll.slow_interval", "10ms")
            .watch("acme", &["commerce"])
            .watch_with(
                "resources",
                vec![
                    "workflows",
                    "deploy_requests",
                    "backups",
                    "resizes",
                    "maintenance",
                    "schema_recommendations",
                ],
            )
            .webhook("audit", &format!("{}/hooks", receiver.url))
            .route(&["audit"])
            .write(&directory.path().join("pswatch.toml"));

        serve(&server, &pages(&spec, seed, false)).await;
        let (status, logs) = once(&config).await;
        assert!(!logs.contains("panicked"), "seed {seed}: {logs}");
        assert_ne!(status, Some(101), "seed {seed}: {logs}");
        assert!(
            logs.contains("baseline recorded"),
            "seed {seed}: no baseline: {logs}"
        );
        // An item that cannot be read is named by its place in its list (and its id).
        for line in logs
            .lines()
            .filter(|line| line.contains("an item in the API's answer cannot be read"))
        {
            assert!(line.contains("item=item "), "seed {seed}: {line}");
        }
        assert!(
            receiver.accepted("/hooks").is_empty(),
            "seed {seed}: a baseline reports nothing"
        );

        tokio::time::sleep(Duration::from_millis(20)).await;
        serve(&server, &pages(&spec, seed, true)).await;
        let (status, logs) = once(&config).await;
        assert!(!logs.contains("panicked"), "seed {seed}: {logs}");
        assert_ne!(status, Some(101), "seed {seed}: {logs}");

        let events: Vec<Value> = receiver
            .accepted("/hooks")
            .iter()
            .map(|request| serde_json::from_slice(&request.body).expect("json"))
            .collect();
        let count = |kind: &str, field: &str, key: &str, value: Value| {
            events
                .iter()
                .filter(|event| event["type"] == kind && event["data"][field][key] == value)
                .count()
        };
        let expected = [
            ("workflow.state_changed", "workflow", "number", json!(900)),
            (
                "deploy_request.state_changed",
                "deploy_request",
                "number",
                json!(901),
            ),
            ("backup.state_changed", "backup", "id", json!("bk-anchor")),
            (
                "schema_recommendation.closed",
                "recommendation",
                "id",
                json!("rec-anchor"),
            ),
        ];
        for (kind, field, key, value) in &expected {
            assert_eq!(
                count(kind, field, key, value.clone()),
                1,
                "seed {seed}: {kind} of the well-formed item, once: {:#?}\n{logs}",
                events.iter().map(summary).collect::<Vec<_>>()
            );
        }
        // Nothing else changed between the runs: no other item is reported as changed.
        let changes: Vec<&Value> = events
            .iter()
            .filter(|event| {
                let kind = event["type"].as_str().unwrap_or_default();
                (kind.ends_with("state_changed")
                    || kind.ends_with("errors_changed")
                    || kind.ends_with(".opened")
                    || kind.ends_with(".closed"))
                    && !expected.iter().any(|(wanted, field, key, value)| {
                        kind == *wanted && event["data"][*field][*key] == *value
                    })
            })
            .collect();
        assert!(
            changes.is_empty(),
            "seed {seed}: reported without a change: {:#?}",
            changes
                .iter()
                .map(|event| summary(event))
                .collect::<Vec<_>>()
        );
    }
}
