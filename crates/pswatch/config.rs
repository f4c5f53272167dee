//! The configuration file: TOML with `${VAR}` interpolation, validated once at start-up into a
//! typed [`Config`] that is passed explicitly.
//!
//! Reading goes in three steps, one module each: the file's TOML table has `${VAR}` replaced in
//! every string (`environment`), its sections and list items are read by serde into typed raw
//! structs, each on its own (`raw`), and those are checked into a [`Config`] (`validate`). Every
//! problem is collected, named by its key and placed at its line and column; none stops the
//! others.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notifier::{Channel, Router, Secret};
use poller::ServiceToken;
use url::Url;

pub(crate) use digests::Digest;

mod alerts;
mod channels;
mod digests;
mod environment;
mod people;
mod raw;
mod templates;
mod timers;
mod validate;
mod value;

#[cfg(test)]
use environment::interpolate;
use environment::{interpolate_table, Substitutions};
use raw::{Positions, RawConfig};

/// PlanetScale's API.
pub(crate) const DEFAULT_API_URL: &str = "https://api.planetscale.com/v1";
pub(crate) const DEFAULT_STATE_PATH: &str = "/var/lib/pswatch";
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_ACTIVE_INTERVAL: Duration = Duration::from_secs(5);
/// Intervals below this are mistakes (time-scaled simulations go down to it; see BENCHMARKS.md).
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// One thing wrong with a configuration, named by its key (and where the file has it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The key, such as `channels[0].webhook_url`.
    pub(crate) key: String,
    pub(crate) message: String,
    /// The line and column of the key in the file, when it has one.
    pub(crate) at: Option<(usize, usize)>,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.key, self.message)?;
        if let Some((line, column)) = self.at {
            write!(formatter, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

/// Every problem of a configuration file.
#[derive(Debug, Clone)]
pub(crate) struct ConfigError {
    pub(crate) path: PathBuf,
    pub(crate) problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(
            formatter,
            "{} has {count} problem{}:",
            self.path.display(),
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(formatter, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The state store, for messages: its directory, or its PostgreSQL schema (never the URL).
    pub(crate) fn state_description(&self) -> String {
        match &self.state_database {
            Some(database) => format!("the PostgreSQL state store (schema {})", database.schema),
            None => format!("the state store at {}", self.state_path.display()),
        }
    }
}

/// `[state] url` and `schema`: a PostgreSQL store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateDatabase {
    /// `postgres://…`; it may hold a password.
    pub(crate) url: Secret,
    /// The schema its tables live in.
    pub(crate) schema: String,
    /// How long the leader's lease runs unless renewed.
    pub(crate) lease: Duration,
}

/// How many resources the state metrics show unless `[metrics] max_resources` says otherwise.
pub(crate) const DEFAULT_MAX_RESOURCES: usize = 1_000;

/// How long the leader's lease runs unless `[state] lease` says otherwise.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(15);

/// The schema of a PostgreSQL store unless `[state] schema` says otherwise.
pub(crate) const DEFAULT_STATE_SCHEMA: &str = "pswatch";

/// A validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) planetscale: PlanetScale,
    /// Where the embedded store lives (when `state_database` is `None`).
    pub(crate) state_path: PathBuf,
    /// The PostgreSQL store, when `[state] url` is set instead of `path`.
    pub(crate) state_database: Option<StateDatabase>,
    pub(crate) poll: Poll,
    pub(crate) watches: Vec<Watch>,
    pub(crate) channels: Vec<Channel>,
    /// `[[digests]]`: summaries sent to their channels at their times.
    pub(crate) digests: Vec<Digest>,
    /// `[[timers]]`: `timer.fired` while a resource stays in a state (their own channels are
    /// routes of `router`).
    pub(crate) timers: Vec<diff_engine::Timer>,
    /// `[[templates]]`, compiled; channels hold those they list.
    pub(crate) templates: std::sync::Arc<notifier::Templates>,
    pub(crate) router: Router,
    pub(crate) log: Log,
    /// Where the admin HTTP server listens; `None` when it is off.
    pub(crate) admin_listen: Option<std::net::SocketAddr>,
    /// The admin server's token: when set, everything but `/healthz` and `/readyz` needs it.
    pub(crate) admin_token: Option<notifier::Secret>,
    /// `[admin] read_tokens`: bearer tokens that may only `GET` the API and `/metrics`.
    pub(crate) admin_read_tokens: Vec<notifier::Secret>,
    /// PlanetScale's webhooks' receiver; `None` when it is off.
    pub(crate) receiver: Option<Receiver>,
    /// `[alerts]`: reminders and stalls.
    pub(crate) alerts: Alerts,
    /// `[metrics] max_resources`: at most this many workflows, deploy requests and backed-up
    /// branches have state metrics.
    pub(crate) metrics_max_resources: usize,
    /// `[[silences]]`: recurring windows in which matching events are not delivered.
    pub(crate) silences: Vec<notifier::Silence>,
    /// What is valid but probably not meant; `check` prints them and `run` logs them.
    pub(crate) warnings: Vec<Problem>,
}

impl Config {
    /// What the diff reports, as configured.
    pub(crate) fn diff_options(&self) -> diff_engine::DiffOptions<'_> {
        let duration =
            |value: Option<Duration>| value.and_then(|value| time::Duration::try_from(value).ok());
        diff_engine::DiffOptions {
            notify_on_baseline_errors: self.poll.notify_on_baseline_errors,
            notify_pending_ready: self.poll.notify_pending_ready,
            cutover_reminder: duration(self.alerts.cutover_reminder),
            stall_after: duration(self.alerts.stall_after),
            revert_window_warning: duration(self.alerts.revert_window_warning),
            timers: &self.timers,
        }
    }

    /// The service tokens the watches use, each once (the first watch that names a token gives
    /// it its name and budget): `[planetscale]`'s first, then the watches' own, each with the
    /// watched organizations it reads, in the order of the file.
    pub(crate) fn tokens(&self) -> Vec<(ApiToken, Vec<String>)> {
        let several = self.watches.iter().any(|watch| watch.token.is_some());
        let mut token = self.planetscale.token.clone();
        if several {
            token = token.configured_in("[planetscale]");
        }
        let mut tokens = vec![(
            ApiToken {
                name: DEFAULT_TOKEN_NAME.into(),
                token,
                requests_per_minute: self.planetscale.requests_per_minute,
            },
            Vec::new(),
        )];
        for watch in &self.watches {
            let index = match &watch.token {
                None => 0,
                Some(token) => tokens
                    .iter()
                    .position(|(known, _)| known.token.id() == token.token.id())
                    .unwrap_or_else(|| {
                        tokens.push((token.clone(), Vec::new()));
                        tokens.len() - 1
                    }),
            };
            tokens[index].1.push(watch.organization.clone());
        }
        tokens
    }

    /// `[receiver] public_url`, the address PlanetScale posts to, when the receiver is on.
    pub(crate) fn public_url(&self) -> Option<String> {
        self.receiver
            .as_ref()
            .and_then(|receiver| receiver.public_url.as_ref().map(ToString::to_string))
    }
}

/// `[receiver]`: where PlanetScale's webhook deliveries are received.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    /// The address the receiver listens on (behind an HTTPS reverse proxy).
    pub(crate) listen: std::net::SocketAddr,
    /// The address PlanetScale posts to, e.g. `https://pswatch.example.com/planetscale`.
    pub(crate) public_url: Option<url::Url>,
    /// The webhooks' secrets that sign deliveries.
    pub(crate) secrets: Vec<notifier::Secret>,
}

/// The admin server's default address: loopback only.
pub(crate) const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9184";

/// `[log]`: how pswatch writes its log (to standard error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Log {
    pub(crate) format: LogFormat,
    /// A `tracing` filter such as `info` or `info,pswatch=debug`; `RUST_LOG` overrides it.
    pub(crate) level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// Human-readable lines, coloured at a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PlanetScale {
    pub(crate) api_url: Url,
    pub(crate) token: ServiceToken,
    pub(crate) timeout: Duration,
    /// The share of PlanetScale's rate limit pswatch may spend, in requests a minute.
    pub(crate) requests_per_minute: u32,
    /// The window `requests_per_minute` applies to: a minute, but for time-scaled simulations.
    pub(crate) budget_window: Duration,
}

/// PlanetScale's documented rate limit, requests a minute.
pub(crate) const PLANETSCALE_RATE_LIMIT: u32 = 600;
/// pswatch's default share of it: 80 %, leaving the rest to the team's other tools.
pub(crate) const DEFAULT_REQUESTS_PER_MINUTE: u32 = PLANETSCALE_RATE_LIMIT * 4 / 5;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Poll {
    /// Databases where nothing moves.
    pub(crate) interval: Duration,
    /// Databases with something that moves on its own.
    pub(crate) active_interval: Duration,
    /// Databases whose most urgent resource waits for a person (a cutover to click).
    pub(crate) waiting_interval: Duration,
    pub(crate) notify_on_baseline_errors: bool,
    pub(crate) notify_pending_ready: bool,
    /// How often the slower kinds (backups) are read.
    pub(crate) slow_interval: Duration,
}

impl Poll {
    /// The interval for a database in `motion`.
    pub(crate) fn interval_for(&self, motion: diff_engine::Motion) -> Duration {
        match motion {
            diff_engine::Motion::Active => self.active_interval,
            diff_engine::Motion::Waiting => self.waiting_interval,
            diff_engine::Motion::Idle => self.interval,
        }
    }
}

/// `[alerts]`: reminders of what waits and of what stopped moving. `None` turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Alerts {
    /// `deploy_request.awaiting_cutover` after a deploy request has been `pending_cutover`
    /// this long, and again every time as long again passes.
    pub(crate) cutover_reminder: Option<Duration>,
    /// `deploy_operation.stalled` when a running operation's progress has not moved this long.
    pub(crate) stall_after: Option<Duration>,
    /// `deploy_request.revert_window_closing` this long before a revert window closes.
    pub(crate) revert_window_warning: Option<Duration>,
}

/// The default of `[alerts] cutover_reminder`.
pub(crate) const DEFAULT_CUTOVER_REMINDER: Duration = Duration::from_secs(3600);
/// The default of `[alerts] stall_after`.
pub(crate) const DEFAULT_STALL_AFTER: Duration = Duration::from_secs(1800);
/// The default of `[alerts] revert_window_warning`.
pub(crate) const DEFAULT_REVERT_WINDOW_WARNING: Duration = Duration::from_secs(600);

/// One `[[watch]]`: an organization and which of its databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Watch {
    pub(crate) organization: String,
    /// `None`: every MySQL database of the organization, discovered through the API.
    pub(crate) databases: Option<Vec<String>>,
    /// What of them is watched.
    pub(crate) resources: Resources,
    /// The organization's own service token, when it is not `[planetscale]`'s.
    pub(crate) token: Option<ApiToken>,
}

/// A service token and the share of PlanetScale's rate limit its requests may spend. Watches
/// that use the same token share its budget.
#[derive(Debug, Clone)]
pub(crate) struct ApiToken {
    /// What the status page and the metrics call it: `planetscale` for `[planetscale]`'s, the
    /// organization for a watch's own. Never the token or its id.
    pub(crate) name: String,
    pub(crate) token: ServiceToken,
    pub(crate) requests_per_minute: u32,
}

impl PartialEq for ApiToken {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.token.id() == other.token.id()
            && self.token.expose_secret() == other.token.expose_secret()
            && self.requests_per_minute == other.requests_per_minute
    }
}

impl Eq for ApiToken {}

/// The name of `[planetscale]`'s token on the status page and in the metrics.
pub(crate) const DEFAULT_TOKEN_NAME: &str = "planetscale";

/// What a `[[watch]]` watches of its databases (`resources`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resources {
    pub(crate) workflows: bool,
    pub(crate) deploy_requests: bool,
    /// The backups of the production branches, read at `[poll] slow_interval`.
    pub(crate) backups: bool,
    /// The production branches' changes and keyspace resizes, read at `slow_interval` and at
    /// every poll while one is under way.
    pub(crate) resizes: bool,
    /// PlanetScale's schema recommendations, read at `slow_interval`.
    pub(crate) schema_recommendations: bool,
    /// The database's maintenance schedules, read at `slow_interval`.
    pub(crate) maintenance: bool,
}

impl Default for Resources {
    /// Workflows and deploy requests, as before `resources` existed.
    fn default() -> Self {
        Self {
            workflows: true,
            deploy_requests: true,
            backups: false,
            resizes: false,
            schema_recommendations: false,
            maintenance: false,
        }
    }
}

impl Resources {
    /// Nothing; what [`Resources::add`] builds on.
    pub(crate) const NONE: Self = Self {
        workflows: false,
        deploy_requests: false,
        backups: false,
        resizes: false,
        schema_recommendations: false,
        maintenance: false,
    };

    /// Both watches' kinds.
    pub(crate) fn add(self, other: Self) -> Self {
        Self {
            workflows: self.workflows || other.workflows,
            deploy_requests: self.deploy_requests || other.deploy_requests,
            backups: self.backups || other.backups,
            resizes: self.resizes || other.resizes,
            schema_recommendations: self.schema_recommendations || other.schema_recommendations,
            maintenance: self.maintenance || other.maintenance,
        }
    }

    /// Whether `event` is of a kind watched.
    pub(crate) fn reports(self, event: &diff_engine::Event) -> bool {
        let kind = event.type_name();
        if kind.starts_with("workflow.") {
            self.workflows
        } else if kind.starts_with("deploy_request.") || kind.starts_with("deploy_operation.") {
            self.deploy_requests
        } else if kind.starts_with("backup.") {
            self.backups
        } else if kind.starts_with("resize.") {
            self.resizes
        } else if kind.starts_with("schema_recommendation.") {
            self.schema_recommendations
        } else if kind.starts_with("maintenance.") {
            self.maintenance
        } else {
            true
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Loading.

/// Where environment variables come from; a function so tests need not touch the process's.
pub(crate) type Environment<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub(crate) fn process_environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Reads and validates the configuration file at `path`.
pub(crate) fn load(path: &Path, environment: Environment<'_>) -> Result<Config, ConfigError> {
    let text = read(path)?;
    parse(&text, environment).map_err(|problems| ConfigError {
        path: path.to_owned(),
        problems,
    })
}

/// Reads only the channels and routes of the file at `path`, for `pswatch demo -c FILE`: the
/// demo watches its own simulator, so the file's PlanetScale, state, poll and watch sections
/// are neither needed nor read (their variables may well be unset).
pub(crate) fn load_channels(
    path: &Path,
    environment: Environment<'_>,
) -> Result<(Vec<Channel>, Router), ConfigError> {
    let text = read(path)?;
    let mut reading = Reading::new(&text);
    let result = reading.table().map(|mut table| {
        let mut wanted = toml::Table::new();
        for section in ["templates", "channels", "routes"] {
            if let Some(value) = table.remove(section) {
                wanted.insert(section.to_owned(), value);
            }
        }
        reading.interpolate(&mut wanted, environment);
        let raw = RawConfig::read_channels(wanted, &mut reading.problems);
        validate::channels_and_routes(&raw, &mut reading.problems)
    });
    reading.finish(result).map_err(|problems| ConfigError {
        path: path.to_owned(),
        problems,
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|error| ConfigError {
        path: path.to_owned(),
        problems: vec![Problem {
            key: "(file)".into(),
            message: format!("cannot read it: {error}"),
            at: None,
        }],
    })
}

/// One reading of a file's text: its problems so far, where its keys are, and the values put
/// in for variables.
struct Reading<'a> {
    text: &'a str,
    problems: Vec<Problem>,
    positions: Positions,
    substitutions: Substitutions,
    /// Keys whose interpolation failed: later problems of theirs repeat the first.
    unresolved: BTreeSet<String>,
}

impl<'a> Reading<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            problems: Vec::new(),
            positions: Positions::of(text),
            substitutions: Substitutions::default(),
            unresolved: BTreeSet::new(),
        }
    }

    /// The file's TOML table; a syntax error is a problem at its line.
    fn table(&mut self) -> Option<toml::Table> {
        match toml::from_str::<toml::Table>(self.text) {
            Ok(table) => Some(table),
            Err(error) => {
                let at = error
                    .span()
                    .map(|span| raw::line_and_column(self.text, span.start));
                self.problems.push(Problem {
                    key: at.map_or_else(|| "(file)".into(), |(line, _)| format!("line {line}")),
                    message: error.message().to_owned(),
                    at,
                });
                None
            }
        }
    }

    fn interpolate(&mut self, table: &mut toml::Table, environment: Environment<'_>) {
        let before = self.problems.len();
        interpolate_table(
            table,
            "",
            environment,
            &mut self.problems,
            &mut self.substitutions,
        );
        self.unresolved.extend(
            self.problems[before..]
                .iter()
                .map(|problem| problem.key.clone()),
        );
    }

    /// `result` if nothing is wrong, else every problem: placed in the file, without a second
    /// one for a key whose variable is missing, and without a substituted value.
    fn finish<T>(&mut self, result: Option<T>) -> Result<T, Vec<Problem>> {
        let mut seen_unresolved = BTreeSet::new();
        let mut problems: Vec<Problem> = std::mem::take(&mut self.problems)
            .into_iter()
            .filter(|problem| {
                !self.unresolved.contains(&problem.key)
                    || seen_unresolved.insert(problem.key.clone())
            })
            .map(|problem| Problem {
                at: problem.at.or_else(|| self.positions.find(&problem.key)),
                message: self.substitutions.scrub(&problem.message),
                key: problem.key,
            })
            .collect();
        // In the order of the file; problems without a place (missing sections) last.
        problems.sort_by_key(|problem| problem.at.unwrap_or((usize::MAX, 0)));
        match result {
            Some(value) if problems.is_empty() => Ok(value),
            _ => Err(problems),
        }
    }
}

/// Parses and validates configuration text.
pub(crate) fn parse(text: &str, environment: Environment<'_>) -> Result<Config, Vec<Problem>> {
    let mut reading = Reading::new(text);
    let config = reading.table().and_then(|mut table| {
        reading.interpolate(&mut table, environment);
        let raw = RawConfig::read(table, &mut reading.problems);
        validate::config(raw, &mut reading.problems)
    });
    let mut config = reading.finish(config)?;
    for warning in &mut config.warnings {
        warning.at = reading.positions.find(&warning.key);
    }
    Ok(config)
}

fn problem(problems: &mut Vec<Problem>, key: impl Into<String>, message: impl Into<String>) {
    problems.push(Problem {
        key: key.into(),
        message: message.into(),
        at: None,
    });
}

/// Parses a duration such as `"30s"` or `"5m"` (for the command line).
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|error| format!("{text:?} is not a duration like \"30s\" or \"5m\" ({error})"))
}

/// The `[log]` settings of the file at `path`, or the defaults if the file has problems (which
/// loading it reports next).
pub(crate) fn peek_log(path: &Path) -> Log {
    load(path, &process_environment)
        .map(|config| config.log)
        .unwrap_or_default()
}

/// `text` as an http(s) URL with a host, or a problem at `key`; a `secret` URL is never quoted.
pub(super) fn http_url(
    key: &str,
    text: &str,
    secret: bool,
    problems: &mut Vec<Problem>,
) -> Option<Url> {
    // A secret URL is never repeated in a message; url's own errors do not quote the input.
    let shown = if secret {
        String::new()
    } else {
        format!("{text:?} ")
    };
    match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(_) => {
            problem(
                problems,
                key,
                format!("{shown}must be an http:// or https:// URL"),
            );
            None
        }
        Err(error) => {
            problem(problems, key, format!("{shown}is not a valid URL: {error}"));
            None
        }
    }
}

#[cfg(test)]
mod tests;
