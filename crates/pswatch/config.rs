//! The configuration file: TOML with `${VAR}` interpolation, validated once at start-up into a
//! typed [`Config`] that is passed explicitly.
//!
//! Parsing happens in two stages. Serde reads the file into `Raw*` structs that reject unknown
//! keys and wrong types (with the line). Validation then checks everything a run needs and
//! collects *every* problem, each naming its key, instead of stopping at the first.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diff_engine::EVENT_TYPES;
use notifier::{
    glob_set, Channel, ChannelKind, EmailChannel, Mailbox, Route, Router, Secret, SecretUrl,
    WebhookSecret,
};
use poller::ServiceToken;
use serde::Deserialize;
use url::Url;

/// PlanetScale's API.
pub(crate) const DEFAULT_API_URL: &str = "https://api.planetscale.com/v1";
pub(crate) const DEFAULT_STATE_PATH: &str = "/var/lib/pswatch";
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_ACTIVE_INTERVAL: Duration = Duration::from_secs(5);
/// Intervals below this are mistakes (time-scaled simulations go down to it; see BENCHMARKS.md).
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// One thing wrong with a configuration, named by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) key: String,
    pub(crate) message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.key, self.message)
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

/// A validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) planetscale: PlanetScale,
    pub(crate) state_path: PathBuf,
    pub(crate) poll: Poll,
    pub(crate) watches: Vec<Watch>,
    pub(crate) channels: Vec<Channel>,
    pub(crate) router: Router,
    pub(crate) log: Log,
    /// Where the admin HTTP server listens; `None` when it is off.
    pub(crate) admin_listen: Option<std::net::SocketAddr>,
    /// What is valid but probably not meant; `check` prints them and `run` logs them.
    pub(crate) warnings: Vec<Problem>,
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

/// One `[[watch]]`: an organization and which of its databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Watch {
    pub(crate) organization: String,
    /// `None`: every MySQL database of the organization, discovered through the API.
    pub(crate) databases: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// The file as serde reads it.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    planetscale: Option<RawPlanetScale>,
    state: Option<RawState>,
    poll: Option<RawPoll>,
    #[serde(default)]
    watch: Vec<RawWatch>,
    #[serde(default)]
    channels: Vec<RawChannel>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    log: Option<RawLog>,
    admin: Option<RawAdmin>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    enabled: Option<bool>,
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: Option<String>,
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlanetScale {
    api_url: Option<String>,
    service_token_id: Option<String>,
    service_token: Option<String>,
    timeout: Option<String>,
    requests_per_minute: Option<u32>,
    budget_window: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoll {
    interval: Option<String>,
    active_interval: Option<String>,
    waiting_interval: Option<String>,
    notify_on_baseline_errors: Option<bool>,
    notify_pending_ready: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatch {
    organization: Option<String>,
    databases: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    webhook_url: Option<String>,
    smtp_url: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
    url: Option<String>,
    secret: Option<String>,
    max_age: Option<String>,
    min_interval: Option<String>,
    retry_schedule: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    channels: Option<Vec<String>>,
    events: Option<Vec<String>>,
    states: Option<Vec<String>>,
    organizations: Option<Vec<String>>,
    databases: Option<Vec<String>>,
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
    let fail = |problems| ConfigError {
        path: path.to_owned(),
        problems,
    };
    let mut raw = deserialize(&text).map_err(fail)?;
    let mut problems = Vec::new();
    let declared = declared_channels(&raw.channels);
    let channels = channels(&mut raw.channels, environment, &mut problems);
    let router = routes(&mut raw.routes, &declared, environment, &mut problems);
    if problems.is_empty() {
        Ok((channels, router))
    } else {
        Err(fail(problems))
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|error| ConfigError {
        path: path.to_owned(),
        problems: vec![Problem {
            key: "(file)".into(),
            message: format!("cannot read it: {error}"),
        }],
    })
}

fn deserialize(text: &str) -> Result<RawConfig, Vec<Problem>> {
    toml::from_str(text).map_err(|error| {
        let key = error
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].lines().count().max(1);
                format!("line {line}")
            })
            .unwrap_or_else(|| "(file)".into());
        vec![Problem {
            key,
            message: error.message().to_owned(),
        }]
    })
}

/// Parses and validates configuration text.
pub(crate) fn parse(text: &str, environment: Environment<'_>) -> Result<Config, Vec<Problem>> {
    let mut raw = deserialize(text)?;
    let mut problems = Vec::new();
    let planetscale = planetscale(raw.planetscale.take(), environment, &mut problems);
    let mut warnings = Vec::new();
    if let Some(planetscale) = &planetscale {
        let path = planetscale.api_url.path().trim_end_matches('/');
        if !path.ends_with("/v1") {
            problem(
                &mut warnings,
                "planetscale.api_url",
                format!(
                    "{:?} does not end in /v1, where PlanetScale's API lives ({DEFAULT_API_URL}); every request would go to {}/organizations/…",
                    planetscale.api_url.as_str(),
                    planetscale.api_url.as_str().trim_end_matches('/')
                ),
            );
        }
    }
    let state_path = match raw.state.take().and_then(|state| state.path) {
        Some(mut path) => {
            interpolate("state.path", &mut path, environment, &mut problems);
            if path.trim().is_empty() {
                problem(&mut problems, "state.path", "must not be empty");
            }
            PathBuf::from(path)
        }
        None => PathBuf::from(DEFAULT_STATE_PATH),
    };
    let poll = poll(raw.poll.take().unwrap_or_default(), &mut problems);
    let watches = watches(&mut raw.watch, environment, &mut problems);
    let declared = declared_channels(&raw.channels);
    let channels = channels(&mut raw.channels, environment, &mut problems);
    let router = routes(&mut raw.routes, &declared, environment, &mut problems);
    let log = log(raw.log.take().unwrap_or_default(), &mut problems);
    let admin = raw.admin.take().unwrap_or_default();
    let admin_listen = if admin.enabled == Some(false) {
        None
    } else {
        let mut listen = admin.listen.unwrap_or_else(|| DEFAULT_ADMIN_LISTEN.into());
        interpolate("admin.listen", &mut listen, environment, &mut problems);
        match listen.parse() {
            Ok(address) => Some(address),
            Err(_) => {
                problem(
                    &mut problems,
                    "admin.listen",
                    format!("{listen:?} is not an address and port such as \"127.0.0.1:9184\""),
                );
                None
            }
        }
    };
    if raw.channels.is_empty() {
        problem(
            &mut problems,
            "channels",
            "there is no [[channels]]: name at least one place to send alerts",
        );
    } else if raw.routes.is_empty() {
        problem(
            &mut problems,
            "routes",
            "there is no [[routes]]: no event would be sent to any channel",
        );
    }
    match planetscale {
        Some(planetscale) if problems.is_empty() => Ok(Config {
            planetscale,
            state_path,
            poll,
            watches,
            channels,
            router,
            log,
            admin_listen,
            warnings,
        }),
        _ => Err(problems),
    }
}

fn problem(problems: &mut Vec<Problem>, key: impl Into<String>, message: impl Into<String>) {
    problems.push(Problem {
        key: key.into(),
        message: message.into(),
    });
}

/// Replaces each `${NAME}` in `value` with the environment variable NAME; `$${` is a literal
/// `${`. An unset variable is a problem naming it and the key.
fn interpolate(
    key: &str,
    value: &mut String,
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
) {
    if !value.contains('$') {
        return;
    }
    let mut result = String::with_capacity(value.len());
    let mut rest = value.as_str();
    while let Some(start) = rest.find('$') {
        result.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(escaped) = after.strip_prefix("$${") {
            result.push_str("${");
            rest = escaped;
        } else if let Some(open) = after.strip_prefix("${") {
            let Some(end) = open.find('}') else {
                problem(problems, key, "has \"${\" without a closing \"}\"");
                return;
            };
            let name = &open[..end];
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                problem(
                    problems,
                    key,
                    format!("${{{name}}} is not a valid environment variable name"),
                );
                return;
            }
            match environment(name) {
                Some(replacement) => result.push_str(&replacement),
                None => {
                    problem(
                        problems,
                        key,
                        format!("environment variable {name} is not set"),
                    );
                    return;
                }
            }
            rest = &open[end + 1..];
        } else {
            result.push('$');
            rest = &after[1..];
        }
    }
    result.push_str(rest);
    *value = result;
}

fn interpolate_all(
    key: &str,
    values: &mut [String],
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
) {
    for (index, value) in values.iter_mut().enumerate() {
        interpolate(&format!("{key}[{index}]"), value, environment, problems);
    }
}

/// Parses a duration such as `"30s"` or `"5m"`.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|error| format!("{text:?} is not a duration like \"30s\" or \"5m\" ({error})"))
}

fn duration_key(
    key: &str,
    value: Option<String>,
    default: Duration,
    problems: &mut Vec<Problem>,
) -> Duration {
    let Some(text) = value else { return default };
    match duration(&text) {
        Ok(value) if value >= MIN_INTERVAL => value,
        Ok(_) => {
            problem(
                problems,
                key,
                format!("{text:?} is shorter than the minimum of 10ms"),
            );
            default
        }
        Err(message) => {
            problem(problems, key, message);
            default
        }
    }
}

fn http_url(key: &str, text: &str, secret: bool, problems: &mut Vec<Problem>) -> Option<Url> {
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

fn planetscale(
    raw: Option<RawPlanetScale>,
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
) -> Option<PlanetScale> {
    let Some(mut raw) = raw else {
        problem(
            problems,
            "planetscale",
            "is missing: it holds service_token_id and service_token",
        );
        return None;
    };
    let mut api_url = raw.api_url.take().unwrap_or_else(|| DEFAULT_API_URL.into());
    interpolate("planetscale.api_url", &mut api_url, environment, problems);
    let api_url = http_url("planetscale.api_url", &api_url, false, problems);
    let mut required = |key: &str, value: Option<String>| {
        let full_key = format!("planetscale.{key}");
        match value {
            None => {
                problem(problems, &full_key, "is missing");
                None
            }
            Some(mut value) => {
                let before = problems.len();
                interpolate(&full_key, &mut value, environment, problems);
                if problems.len() > before {
                    None
                } else if value.trim().is_empty() {
                    problem(problems, &full_key, "is empty");
                    None
                } else if !value.bytes().all(|byte| byte.is_ascii_graphic()) {
                    problem(
                        problems,
                        &full_key,
                        "holds spaces or characters that are not printable ASCII",
                    );
                    None
                } else {
                    Some(value)
                }
            }
        }
    };
    let token_id = required("service_token_id", raw.service_token_id.take());
    let token = required("service_token", raw.service_token.take());
    let timeout = duration_key(
        "planetscale.timeout",
        raw.timeout.take(),
        Duration::from_secs(20),
        problems,
    );
    let requests_per_minute = match raw.requests_per_minute.take() {
        None => DEFAULT_REQUESTS_PER_MINUTE,
        Some(0) => {
            problem(
                problems,
                "planetscale.requests_per_minute",
                "must be at least 1",
            );
            DEFAULT_REQUESTS_PER_MINUTE
        }
        Some(value) => value,
    };
    let budget_window = duration_key(
        "planetscale.budget_window",
        raw.budget_window.take(),
        Duration::from_secs(60),
        problems,
    );
    Some(PlanetScale {
        api_url: api_url?,
        token: ServiceToken::new(token_id?, token?),
        timeout,
        requests_per_minute,
        budget_window,
    })
}

fn log(raw: RawLog, problems: &mut Vec<Problem>) -> Log {
    let mut log = Log::default();
    match raw.format.as_deref() {
        None | Some("pretty") => {}
        Some("json") => log.format = LogFormat::Json,
        Some(other) => problem(
            problems,
            "log.format",
            format!("{other:?} is not a log format; use \"pretty\" or \"json\""),
        ),
    }
    if let Some(level) = raw.level {
        match tracing_subscriber::EnvFilter::try_new(&level) {
            Ok(_) => log.level = level,
            Err(error) => problem(problems, "log.level", format!("{level:?} is not a log filter such as \"info\" or \"info,pswatch=debug\": {error}")),
        }
    }
    log
}

/// The `[log]` settings of the file at `path`, or the defaults if the file has problems (which
/// loading it reports next).
pub(crate) fn peek_log(path: &Path) -> Log {
    load(path, &process_environment)
        .map(|config| config.log)
        .unwrap_or_default()
}

fn poll(raw: RawPoll, problems: &mut Vec<Problem>) -> Poll {
    let interval = duration_key("poll.interval", raw.interval, DEFAULT_INTERVAL, problems);
    Poll {
        interval,
        active_interval: duration_key(
            "poll.active_interval",
            raw.active_interval,
            DEFAULT_ACTIVE_INTERVAL,
            problems,
        ),
        // What waits for a person can wait for days: by default it is polled like an idle
        // database.
        waiting_interval: duration_key(
            "poll.waiting_interval",
            raw.waiting_interval,
            interval,
            problems,
        ),
        notify_on_baseline_errors: raw.notify_on_baseline_errors.unwrap_or(false),
        notify_pending_ready: raw.notify_pending_ready.unwrap_or(false),
    }
}

fn watches(
    raw: &mut [RawWatch],
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Watch> {
    if raw.is_empty() {
        problem(
            problems,
            "watch",
            "there is no [[watch]]: name at least one organization to watch",
        );
    }
    let mut watches = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, watch) in raw.iter_mut().enumerate() {
        let key = format!("watch[{index}]");
        let organization = match watch.organization.take() {
            Some(mut organization) => {
                interpolate(
                    &format!("{key}.organization"),
                    &mut organization,
                    environment,
                    problems,
                );
                if organization.trim().is_empty() || organization.contains('/') {
                    problem(
                        problems,
                        format!("{key}.organization"),
                        "must be an organization's name",
                    );
                }
                organization
            }
            None => {
                problem(problems, format!("{key}.organization"), "is missing");
                continue;
            }
        };
        let databases = match watch.databases.take() {
            None => None,
            Some(mut databases) => {
                interpolate_all(
                    &format!("{key}.databases"),
                    &mut databases,
                    environment,
                    problems,
                );
                if databases.is_empty() || databases.iter().any(|database| database == "*") {
                    None
                } else {
                    for (position, database) in databases.iter().enumerate() {
                        if database.trim().is_empty() || database.contains('/') {
                            problem(
                                problems,
                                format!("{key}.databases[{position}]"),
                                "must be a database's name or \"*\"",
                            );
                        }
                    }
                    Some(databases)
                }
            }
        };
        if !seen.insert(organization.clone()) {
            problem(
                problems,
                format!("{key}.organization"),
                format!("{organization:?} is watched twice; merge the two [[watch]] entries"),
            );
        }
        watches.push(Watch {
            organization,
            databases,
        });
    }
    watches
}

fn mailbox(key: &str, text: &str, problems: &mut Vec<Problem>) -> Option<Mailbox> {
    match text.parse::<Mailbox>() {
        Ok(mailbox) => Some(mailbox),
        Err(error) => {
            problem(
                problems,
                key,
                format!("{text:?} is not an email address: {error}"),
            );
            None
        }
    }
}

fn channels(
    raw: &mut [RawChannel],
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Channel> {
    let mut channels = Vec::new();
    let mut names = BTreeSet::new();
    for (index, raw) in raw.iter_mut().enumerate() {
        let key = format!("channels[{index}]");
        let name = match raw.name.take() {
            Some(name) if !name.trim().is_empty() => name,
            Some(_) => {
                problem(problems, format!("{key}.name"), "is empty");
                continue;
            }
            None => {
                problem(problems, format!("{key}.name"), "is missing");
                continue;
            }
        };
        if !names.insert(name.clone()) {
            problem(
                problems,
                format!("{key}.name"),
                format!("{name:?} is used by another channel; channel names must be unique"),
            );
        }
        let mut take = |field: &str, value: &mut Option<String>| -> Option<String> {
            let mut value = value.take()?;
            let before = problems.len();
            interpolate(&format!("{key}.{field}"), &mut value, environment, problems);
            (problems.len() == before).then_some(value)
        };
        let kind_name = raw.kind.take();
        let webhook_url = take("webhook_url", &mut raw.webhook_url);
        let smtp_url = take("smtp_url", &mut raw.smtp_url);
        let from = take("from", &mut raw.from);
        let url = take("url", &mut raw.url);
        let secret = take("secret", &mut raw.secret);
        let mut to = raw.to.take();
        if let Some(to) = &mut to {
            interpolate_all(&format!("{key}.to"), to, environment, problems);
        }
        // Keys that belong to other channel types are mistakes worth naming.
        let present = [
            ("webhook_url", webhook_url.is_some()),
            ("smtp_url", smtp_url.is_some()),
            ("from", from.is_some()),
            ("to", to.is_some()),
            ("url", url.is_some()),
            ("secret", secret.is_some()),
        ];
        let allowed: &[&str] = match kind_name.as_deref() {
            Some("slack") => &["webhook_url"],
            Some("email") => &["smtp_url", "from", "to"],
            Some("webhook") => &["url", "secret"],
            Some("console") => &[],
            Some(other) => {
                problem(
                    problems,
                    format!("{key}.type"),
                    format!(
                        "{other:?} is not a channel type; use slack, email, webhook or console"
                    ),
                );
                continue;
            }
            None => {
                problem(
                    problems,
                    format!("{key}.type"),
                    "is missing; use slack, email, webhook or console",
                );
                continue;
            }
        };
        let kind_name = kind_name.unwrap_or_default();
        for (field, is_present) in present {
            if is_present && !allowed.contains(&field) {
                problem(
                    problems,
                    format!("{key}.{field}"),
                    format!("is not a key of a {kind_name} channel"),
                );
            }
        }
        let missing = |problems: &mut Vec<Problem>, field: &str| {
            problem(
                problems,
                format!("{key}.{field}"),
                format!("is missing; a {kind_name} channel needs it"),
            );
        };
        let kind = match kind_name.as_str() {
            "slack" => match webhook_url {
                Some(webhook_url) => {
                    http_url(&format!("{key}.webhook_url"), &webhook_url, true, problems).map(
                        |_| ChannelKind::Slack {
                            webhook_url: Secret::new(webhook_url.trim()),
                        },
                    )
                }
                None => {
                    missing(problems, "webhook_url");
                    None
                }
            },
            "webhook" => {
                // A webhook URL may carry a token (in its query, say): never quoted back.
                let url = match url {
                    Some(url) => http_url(&format!("{key}.url"), &url, true, problems),
                    None => {
                        missing(problems, "url");
                        None
                    }
                };
                let secret = match secret {
                    Some(secret) => WebhookSecret::parse(&secret)
                        .map_err(|error| {
                            problem(problems, format!("{key}.secret"), error.to_string())
                        })
                        .ok(),
                    None => {
                        missing(problems, "secret");
                        None
                    }
                };
                url.zip(secret).map(|(url, secret)| ChannelKind::Webhook {
                    url: SecretUrl::new(url),
                    secret,
                })
            }
            "email" => {
                let from = match from {
                    Some(from) => mailbox(&format!("{key}.from"), &from, problems),
                    None => {
                        missing(problems, "from");
                        None
                    }
                };
                let to = match to {
                    Some(to) if to.is_empty() => {
                        problem(
                            problems,
                            format!("{key}.to"),
                            "is empty; name at least one recipient",
                        );
                        None
                    }
                    Some(to) => {
                        let before = problems.len();
                        let mailboxes: Vec<Mailbox> = to
                            .iter()
                            .enumerate()
                            .filter_map(|(position, address)| {
                                mailbox(&format!("{key}.to[{position}]"), address, problems)
                            })
                            .collect();
                        (problems.len() == before).then_some(mailboxes)
                    }
                    None => {
                        missing(problems, "to");
                        None
                    }
                };
                let smtp_url = match smtp_url {
                    Some(smtp_url) => smtp(&format!("{key}.smtp_url"), &name, smtp_url, problems),
                    None => {
                        missing(problems, "smtp_url");
                        None
                    }
                };
                match (smtp_url, from, to) {
                    (Some(smtp_url), Some(from), Some(to)) => {
                        Some(ChannelKind::Email(EmailChannel { smtp_url, from, to }))
                    }
                    _ => None,
                }
            }
            _ => Some(ChannelKind::Console),
        };
        let max_age = raw.max_age.take();
        let min_interval = raw.min_interval.take();
        let retry_schedule = raw.retry_schedule.take();
        if let Some(kind) = kind {
            let mut channel = Channel::new(name, kind);
            if let Some(text) = max_age {
                match duration(&text) {
                    Ok(max_age) if max_age >= Duration::from_secs(1) => {
                        channel.retry.max_age = max_age
                    }
                    Ok(_) => problem(problems, format!("{key}.max_age"), "must be at least 1s"),
                    Err(message) => problem(problems, format!("{key}.max_age"), message),
                }
            }
            if let Some(schedule) = retry_schedule {
                if schedule.is_empty() {
                    problem(
                        problems,
                        format!("{key}.retry_schedule"),
                        "is empty; omit it for the default schedule",
                    );
                }
                let mut delays = Vec::new();
                for (position, text) in schedule.iter().enumerate() {
                    match duration(text) {
                        Ok(delay) if delay >= MIN_INTERVAL => delays.push(delay),
                        Ok(_) => problem(
                            problems,
                            format!("{key}.retry_schedule[{position}]"),
                            "must be at least 10ms",
                        ),
                        Err(message) => problem(
                            problems,
                            format!("{key}.retry_schedule[{position}]"),
                            message,
                        ),
                    }
                }
                if !delays.is_empty() {
                    channel.retry.schedule = delays;
                }
            }
            if let Some(text) = min_interval {
                match duration(&text) {
                    Ok(min_interval) => channel.min_interval = min_interval,
                    Err(message) => problem(problems, format!("{key}.min_interval"), message),
                }
            }
            channels.push(channel);
        }
    }
    channels
}

/// Checks an SMTP URL by building the transport from it, as a run would.
fn smtp(key: &str, channel: &str, text: String, problems: &mut Vec<Problem>) -> Option<Secret> {
    let scheme_ok = text.starts_with("smtp://") || text.starts_with("smtps://");
    if !scheme_ok {
        problem(
            problems,
            key,
            "must start with smtp:// (plain or, with ?tls=required, STARTTLS) or smtps:// (TLS)",
        );
        return None;
    }
    let secret = Secret::new(text);
    let email = EmailChannel {
        smtp_url: secret.clone(),
        from: "check@pswatch.invalid".parse().ok()?,
        to: Vec::new(),
    };
    match notifier::smtp_transport(channel, &email) {
        Ok(_) => Some(secret),
        Err(error) => {
            problem(problems, key, error.message);
            None
        }
    }
}

fn globs(key: &str, patterns: &[String], problems: &mut Vec<Problem>) -> Option<globset::GlobSet> {
    glob_set(patterns)
        .map_err(|error| problem(problems, key, error.to_string()))
        .ok()
}

/// The channel names the file declares, valid or not, so that a route naming a channel with
/// its own problem is not reported a second time.
fn declared_channels(raw: &[RawChannel]) -> BTreeSet<String> {
    raw.iter()
        .filter_map(|channel| channel.name.clone())
        .collect()
}

fn routes(
    raw: &mut [RawRoute],
    channels: &BTreeSet<String>,
    environment: Environment<'_>,
    problems: &mut Vec<Problem>,
) -> Router {
    let mut routes = Vec::new();
    for (index, raw) in raw.iter_mut().enumerate() {
        let key = format!("routes[{index}]");
        let route_channels = match raw.channels.take() {
            Some(route_channels) if !route_channels.is_empty() => route_channels,
            _ => {
                problem(
                    problems,
                    format!("{key}.channels"),
                    "is missing or empty; name the channels this route sends to",
                );
                continue;
            }
        };
        for (position, channel) in route_channels.iter().enumerate() {
            if !channels.contains(channel) {
                problem(
                    problems,
                    format!("{key}.channels[{position}]"),
                    format!("{channel:?} is not the name of a channel"),
                );
            }
        }
        let events = raw.events.take().unwrap_or_else(|| vec!["*".into()]);
        let before = problems.len();
        let event_set = globs(&format!("{key}.events"), &events, problems);
        if let Some(set) = &event_set {
            if !EVENT_TYPES
                .iter()
                .any(|event_type| set.is_match(event_type))
            {
                problem(
                    problems,
                    format!("{key}.events"),
                    format!(
                        "matches no event type; the types are {}",
                        EVENT_TYPES.join(", ")
                    ),
                );
            }
        }
        let mut optional = |field: &str, value: Option<Vec<String>>| {
            value.and_then(|mut patterns| {
                let field_key = format!("{key}.{field}");
                interpolate_all(&field_key, &mut patterns, environment, problems);
                globs(&field_key, &patterns, problems)
            })
        };
        let states = optional("states", raw.states.take());
        let organizations = optional("organizations", raw.organizations.take());
        let databases = optional("databases", raw.databases.take());
        if problems.len() == before {
            if let Some(events) = event_set {
                routes.push(Route::new(
                    route_channels,
                    events,
                    states,
                    organizations,
                    databases,
                ));
            }
        }
    }
    Router::new(routes)
}

#[cfg(test)]
mod tests;
