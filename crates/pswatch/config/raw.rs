//! The file as serde reads it: real types (durations through `humantime-serde`, a channel enum
//! tagged by `type`), unknown keys refused. Each section and each item of a list is read on its
//! own, so that one wrong value costs only its own item and every problem is reported.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::channels::RawChannel;
use super::value::{ReadError, Value};
use super::{problem, Problem};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlanetScale {
    pub(super) api_url: Option<String>,
    pub(super) service_token_id: String,
    pub(super) service_token: String,
    #[serde(default, with = "humantime_serde")]
    pub(super) timeout: Option<Duration>,
    pub(super) requests_per_minute: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    pub(super) budget_window: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub(super) path: Option<String>,
    pub(super) url: Option<String>,
    pub(super) schema: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub(super) lease: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPoll {
    #[serde(default, with = "humantime_serde")]
    pub(super) interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub(super) active_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub(super) waiting_interval: Option<Duration>,
    pub(super) notify_on_baseline_errors: Option<bool>,
    pub(super) notify_pending_ready: Option<bool>,
    #[serde(default, with = "humantime_serde")]
    pub(super) slow_interval: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWatch {
    pub(super) organization: String,
    pub(super) databases: Option<Vec<String>>,
    pub(super) resources: Option<Vec<String>>,
    pub(super) service_token_id: Option<String>,
    pub(super) service_token: Option<String>,
    pub(super) requests_per_minute: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub(super) channels: Vec<String>,
    pub(super) events: Option<Vec<String>>,
    pub(super) states: Option<Vec<String>>,
    pub(super) organizations: Option<Vec<String>>,
    pub(super) databases: Option<Vec<String>>,
}

/// A `[[templates]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    pub(super) name: String,
    pub(super) events: Option<Vec<String>>,
    pub(super) title: Option<String>,
    pub(super) text: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawLogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub(super) format: Option<RawLogFormat>,
    pub(super) level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    pub(super) enabled: Option<bool>,
    pub(super) listen: Option<SocketAddr>,
    pub(super) public_url: Option<String>,
    pub(super) token: Option<String>,
    pub(super) read_tokens: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReceiver {
    pub(super) listen: Option<SocketAddr>,
    pub(super) public_url: Option<String>,
    pub(super) secrets: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    #[serde(default, with = "humantime_serde")]
    pub(super) cutover_reminder: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub(super) stall_after: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub(super) revert_window_warning: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    pub(super) max_resources: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSilence {
    pub(super) organization: Option<String>,
    pub(super) database: Option<String>,
    pub(super) events: Option<Vec<String>>,
    pub(super) states: Option<Vec<String>>,
    pub(super) weekdays: Option<Vec<String>>,
    pub(super) start: String,
    pub(super) end: String,
    pub(super) comment: Option<String>,
}

/// The whole file, each part read on its own. `None` is a part that could not be read (its
/// problem is reported) or is not there.
#[derive(Debug, Default)]
pub(super) struct RawConfig {
    /// Whether there is a `[planetscale]` table at all.
    pub(super) has_planetscale: bool,
    pub(super) planetscale: Option<RawPlanetScale>,
    pub(super) state: RawState,
    pub(super) poll: RawPoll,
    /// How many `[[watch]]` entries there are, readable or not.
    pub(super) watch_count: usize,
    pub(super) watches: Vec<(usize, RawWatch)>,
    /// The names the `[[channels]]` give, readable or not: a route naming a channel that has
    /// its own problem is not reported again.
    pub(super) channel_names: Vec<String>,
    pub(super) channel_count: usize,
    pub(super) channels: Vec<(usize, RawChannel)>,
    pub(super) route_count: usize,
    pub(super) routes: Vec<(usize, RawRoute)>,
    pub(super) log: RawLog,
    pub(super) admin: RawAdmin,
    pub(super) receiver: RawReceiver,
    pub(super) alerts: RawAlerts,
    pub(super) metrics: RawMetrics,
    pub(super) silences: Vec<(usize, RawSilence)>,
    pub(super) templates: Vec<(usize, RawTemplate)>,
    pub(super) digests: Vec<(usize, super::digests::RawDigest)>,
    pub(super) timers: Vec<(usize, super::timers::RawTimer)>,
    pub(super) people: Vec<(usize, super::people::RawPerson)>,
}

const SECTIONS: &[&str] = &[
    "planetscale",
    "state",
    "poll",
    "watch",
    "channels",
    "routes",
    "log",
    "admin",
    "receiver",
    "alerts",
    "metrics",
    "silences",
    "templates",
    "digests",
    "timers",
    "people",
];

impl RawConfig {
    /// Reads the (interpolated) table, section by section.
    pub(super) fn read(mut table: toml::Table, problems: &mut Vec<Problem>) -> Self {
        let mut raw = Self::default();
        for key in table.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                problem(
                    problems,
                    key.as_str(),
                    format!(
                        "is not a section pswatch knows; the sections are {}",
                        SECTIONS.join(", ")
                    ),
                );
            }
        }
        if let Some(value) = table.remove("planetscale") {
            raw.has_planetscale = true;
            raw.planetscale = read("planetscale", value, problems);
        }
        raw.state = section(&mut table, "state", problems);
        raw.poll = section(&mut table, "poll", problems);
        raw.log = section(&mut table, "log", problems);
        raw.admin = section(&mut table, "admin", problems);
        raw.receiver = section(&mut table, "receiver", problems);
        raw.alerts = section(&mut table, "alerts", problems);
        raw.metrics = section(&mut table, "metrics", problems);
        raw.digests = list_items(&mut table, "digests", problems);
        raw.timers = list_items(&mut table, "timers", problems);
        raw.people = list_items(&mut table, "people", problems);
        raw.silences = list_items(&mut table, "silences", problems);
        let watches = list("watch", table.remove("watch"), problems);
        raw.watch_count = watches.len();
        raw.watches = items("watch", watches, problems);
        raw.read_delivery(table, problems);
        raw
    }

    /// Reads the templates, channels and routes.
    fn read_delivery(&mut self, mut table: toml::Table, problems: &mut Vec<Problem>) {
        self.templates = list_items(&mut table, "templates", problems);
        let channels = list("channels", table.remove("channels"), problems);
        self.channel_names = channels
            .iter()
            .filter_map(|channel| channel.get("name")?.as_str().map(str::to_owned))
            .collect();
        self.channel_count = channels.len();
        self.channels = channel_items(channels, problems);
        let routes = list("routes", table.remove("routes"), problems);
        self.route_count = routes.len();
        self.routes = items("routes", routes, problems);
    }

    /// Reads only the templates, channels and routes (for `pswatch demo -c`).
    pub(super) fn read_channels(table: toml::Table, problems: &mut Vec<Problem>) -> Self {
        let mut raw = Self::default();
        raw.read_delivery(table, problems);
        raw
    }
}

/// The section `[name]` of `table`, read (taken out of it); the default when it is absent or
/// cannot be read (its problems said).
fn section<T: DeserializeOwned + Default>(
    table: &mut toml::Table,
    name: &str,
    problems: &mut Vec<Problem>,
) -> T {
    table
        .remove(name)
        .and_then(|value| read(name, value, problems))
        .unwrap_or_default()
}

/// The items of the list `[[name]]` of `table` that can be read, with their places.
fn list_items<T: DeserializeOwned>(
    table: &mut toml::Table,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(usize, T)> {
    let values = list(name, table.remove(name), problems);
    items(name, values, problems)
}

/// Reads the channels; a key of another channel type is named as such.
fn channel_items(
    values: Vec<toml::Value>,
    problems: &mut Vec<Problem>,
) -> Vec<(usize, RawChannel)> {
    let types: Vec<Option<String>> = values
        .iter()
        .map(|value| value.get("type")?.as_str().map(str::to_owned))
        .collect();
    let before = problems.len();
    let channels = items("channels", values, problems);
    for problem in &mut problems[before..] {
        let index = problem
            .key
            .strip_prefix("channels[")
            .and_then(|rest| rest.split(']').next())
            .and_then(|index| index.parse::<usize>().ok());
        let kind = index.and_then(|index| types.get(index).cloned().flatten());
        if let (Some(kind), true) = (kind, problem.message.starts_with("is not a key here")) {
            problem.message = format!("is not a key of {kind:?} channels");
        }
        if problem.key.ends_with(".type") && problem.message.contains("is not a known value") {
            problem.message = problem
                .message
                .replace("is not a known value", "is not a channel type");
        }
    }
    channels
}

/// The tables of a `[[key]]` list.
fn list(key: &str, value: Option<toml::Value>, problems: &mut Vec<Problem>) -> Vec<toml::Value> {
    match value {
        None => Vec::new(),
        Some(toml::Value::Array(values)) => values,
        Some(_) => {
            problem(
                problems,
                key,
                format!("must be a list of tables, written [[{key}]]"),
            );
            Vec::new()
        }
    }
}

/// Reads each item of a list on its own.
fn items<T: DeserializeOwned>(
    key: &str,
    values: Vec<toml::Value>,
    problems: &mut Vec<Problem>,
) -> Vec<(usize, T)> {
    values
        .into_iter()
        .enumerate()
        .filter_map(|(index, value)| {
            read(&format!("{key}[{index}]"), value, problems).map(|item| (index, item))
        })
        .collect()
}

/// Reads one part of the file; a problem names the key it is about. serde stops at the first
/// wrong value, so a value that is wrong is set aside and the part read again, until it reads
/// or its problem is not one value's: every wrong value is reported, once.
fn read<T: DeserializeOwned>(
    key: &str,
    mut value: toml::Value,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let mut set_aside: Vec<String> = Vec::new();
    loop {
        let error = match serde_path_to_error::deserialize::<_, T>(Value(value.clone())) {
            // Read, maybe without the wrong values (whose problems fail the whole file): the
            // rest is still checked.
            Ok(read) => return Some(read),
            Err(error) => error,
        };
        let path = error.path().to_string();
        let (subkey, message) = explain(error.inner());
        // The tag of an enum read whole (a channel's `type`) is named; a field's value is
        // named by the field.
        let subkey = match subkey {
            Subkey::Field(field) => field,
            Subkey::Tag if path == "." => "type".to_owned(),
            Subkey::Tag | Subkey::None => String::new(),
        };
        // serde names an unknown key in the path already, except inside a flattened enum.
        let last = path.rsplit(['.', '[']).next().unwrap_or_default();
        let subkey = if subkey == last {
            String::new()
        } else {
            subkey
        };
        let mut full = key.to_owned();
        for part in [path.as_str(), subkey.as_str()] {
            if part.is_empty() || part == "." {
                continue;
            }
            if !part.starts_with('[') {
                full.push('.');
            }
            full.push_str(part);
        }
        // The first segment of the problem's key within this part: the field to set aside.
        let field = full[key.len()..]
            .trim_start_matches('.')
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_owned();
        let missing = message == "is missing" && set_aside.contains(&field);
        if !missing {
            problem(problems, full, message);
        }
        let removed = match &mut value {
            toml::Value::Table(table) if !field.is_empty() => table.remove(&field).is_some(),
            _ => false,
        };
        if !removed {
            return None;
        }
        set_aside.push(field);
    }
}

/// What key beyond its path a serde message names.
#[derive(Debug, PartialEq, Eq)]
enum Subkey {
    /// An unknown or a missing key.
    Field(String),
    /// The tag of an enum (`type`).
    Tag,
    None,
}

/// Names, as a message lists them: `a`, `a` or `b`, `a`, `b`, `c`.
fn names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [first, second] => format!("{first} or {second}"),
        _ => quoted.join(", "),
    }
}

/// What is wrong, as a person reads it: the key it names and the message.
fn explain(error: &ReadError) -> (Subkey, String) {
    match error {
        ReadError::UnknownField { field, expected } => (
            Subkey::Field(field.clone()),
            format!("is not a key here (the keys are {})", names(expected)),
        ),
        ReadError::MissingField(field) => (Subkey::Field((*field).to_owned()), "is missing".into()),
        ReadError::UnknownVariant { variant, expected } => (
            Subkey::Tag,
            format!("{variant:?} is not a known value; use {}", names(expected)),
        ),
        // humantime's durations say they expect "a duration".
        ReadError::InvalidValue {
            value: Some(value),
            expected,
        } if expected == "a duration" => (
            Subkey::None,
            format!("{value:?} is not a duration like \"30s\" or \"5m\""),
        ),
        other => (Subkey::None, other.to_string()),
    }
}

/// Where each key of the file is, for messages: `poll.interval` at line 9, column 1. Keys are
/// noted by byte offset; the line and column are worked out only for a key a message names,
/// so a file of many keys (700,000 database names) is read in linear time.
#[derive(Debug, Default)]
pub(super) struct Positions {
    keys: BTreeMap<String, usize>,
    /// The byte offset where each line starts.
    line_starts: Vec<usize>,
    text: String,
}

impl Positions {
    /// The positions of every key of `text` (none if it does not parse).
    pub(super) fn of(text: &str) -> Self {
        let mut positions = Self {
            keys: BTreeMap::new(),
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(at, _)| at + 1))
                .collect(),
            text: text.to_owned(),
        };
        if let Ok(document) = toml_edit::ImDocument::parse(text) {
            positions.walk_table(document.as_table(), "");
        }
        positions
    }

    fn note(&mut self, path: &str, span: Option<std::ops::Range<usize>>) {
        if let Some(span) = span {
            self.keys.insert(path.to_owned(), span.start);
        }
    }

    /// The 1-based line and column of byte `offset`.
    fn line_and_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |before| before.chars().count());
        (line.max(1), column + 1)
    }

    fn walk_table(&mut self, table: &toml_edit::Table, prefix: &str) {
        for (key, item) in table.iter() {
            let path = if prefix.is_empty() {
                key.to_owned()
            } else {
                format!("{prefix}.{key}")
            };
            let key_span = table.key(key).and_then(toml_edit::Key::span);
            self.note(&path, key_span.or_else(|| item.span()));
            self.walk_item(item, &path);
        }
    }

    fn walk_item(&mut self, item: &toml_edit::Item, path: &str) {
        match item {
            toml_edit::Item::Table(table) => self.walk_table(table, path),
            toml_edit::Item::ArrayOfTables(tables) => {
                for (index, table) in tables.iter().enumerate() {
                    let path = format!("{path}[{index}]");
                    self.note(&path, table.span());
                    self.walk_table(table, &path);
                }
            }
            toml_edit::Item::Value(toml_edit::Value::Array(values)) => {
                for (index, value) in values.iter().enumerate() {
                    self.note(&format!("{path}[{index}]"), value.span());
                }
            }
            toml_edit::Item::Value(toml_edit::Value::InlineTable(table)) => {
                for (key, value) in table.iter() {
                    self.note(&format!("{path}.{key}"), value.span());
                }
            }
            toml_edit::Item::Value(_) | toml_edit::Item::None => {}
        }
    }

    /// The position of `key`, or of the nearest enclosing key the file has.
    pub(super) fn find(&self, key: &str) -> Option<(usize, usize)> {
        let mut key = key;
        loop {
            if let Some(offset) = self.keys.get(key) {
                return Some(self.line_and_column(*offset));
            }
            let cut = key.rfind(['.', '['])?;
            key = &key[..cut];
        }
    }
}

/// The 1-based line and column of byte `offset` of `text`.
pub(super) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.chars().count(), |newline| {
            before[newline + 1..].chars().count()
        })
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_explained() {
        let field = |name: &str| Subkey::Field(name.to_owned());
        let cases = [
            (
                ReadError::UnknownField {
                    field: "secret".into(),
                    expected: &["webhook_url"],
                },
                (
                    field("secret"),
                    "is not a key here (the keys are `webhook_url`)",
                ),
            ),
            (
                ReadError::MissingField("from"),
                (field("from"), "is missing"),
            ),
            (
                ReadError::UnknownVariant {
                    variant: "teams".into(),
                    expected: &["slack", "email"],
                },
                (
                    Subkey::Tag,
                    "\"teams\" is not a known value; use `slack` or `email`",
                ),
            ),
            (
                ReadError::InvalidValue {
                    value: Some("soon".into()),
                    expected: "a duration".into(),
                },
                (
                    Subkey::None,
                    "\"soon\" is not a duration like \"30s\" or \"5m\"",
                ),
            ),
            (
                ReadError::InvalidType {
                    found: "the number 3".into(),
                    expected: "a string".into(),
                },
                (Subkey::None, "is the number 3, but must be text"),
            ),
        ];
        for (error, (key, explained)) in cases {
            assert_eq!(explain(&error), (key, explained.to_owned()), "{error}");
        }
    }

    #[test]
    fn every_key_has_its_position() {
        let text = "[poll]\ninterval = \"3s\"\n\n[[channels]]\nname = \"a\"\nto = [\"x\", \"y\"]\n";
        let positions = Positions::of(text);
        assert_eq!(positions.find("poll.interval"), Some((2, 1)));
        assert_eq!(positions.find("channels[0].name"), Some((5, 1)));
        assert_eq!(positions.find("channels[0].to[1]"), Some((6, 12)));
        assert_eq!(positions.find("channels[0].nothing"), Some((4, 1)));
        assert_eq!(positions.find("nowhere"), None);
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn positions_of_many_keys_on_one_line_are_exact() {
        let names: Vec<String> = (0..10_000).map(|index| format!("\"db{index}\"")).collect();
        let text = format!("[[watch]]\ndatabases = [{}]\n", names.join(","));
        let positions = Positions::of(&text);
        // "databases = [" is 13 characters; each name before the last takes its length and a comma.
        let column = 14
            + names[..9_999]
                .iter()
                .map(|name| name.len() + 1)
                .sum::<usize>();
        assert_eq!(
            positions.find("watch[0].databases[9999]"),
            Some((2, column))
        );
        assert_eq!(positions.find("watch[0].databases[0]"), Some((2, 14)));
    }
}
