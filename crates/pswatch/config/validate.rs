//! From the file's typed shape to a [`Config`]: every value checked, every problem collected
//! with its key.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use diff_engine::EVENT_TYPES;
use notifier::{glob_set, Channel, Route, Router, Secret};

mod admin;
mod tokens;

use super::channels::channels;
use super::templates::templates;

use super::raw::{RawConfig, RawLogFormat, RawRoute};
use super::{
    http_url, problem, Config, Log, LogFormat, PlanetScale, Poll, Problem, Receiver, Watch,
    DEFAULT_ACTIVE_INTERVAL, DEFAULT_INTERVAL, DEFAULT_LEASE, DEFAULT_STATE_PATH,
    DEFAULT_STATE_SCHEMA, MIN_INTERVAL,
};
use crate::config::{Resources, StateDatabase};
use tokens::{planetscale, tokens_agree, watch_token};

/// The configuration of a file read into `raw`, or `None` with the problems added.
pub(super) fn config(raw: RawConfig, problems: &mut Vec<Problem>) -> Option<Config> {
    let mut warnings = Vec::new();
    let planetscale = planetscale(&raw, problems, &mut warnings);
    let state_path = match &raw.state.path {
        Some(path) if path.trim().is_empty() => {
            problem(problems, "state.path", "must not be empty");
            PathBuf::new()
        }
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(DEFAULT_STATE_PATH),
    };
    let state_database = state_database(&raw, problems);
    let poll = poll(&raw, problems);
    let watches = watches(&raw, planetscale.as_ref(), problems);
    let templates = templates(&raw.templates, problems);
    let mut channels = channels(&raw.channels, &templates, problems);
    let people = super::people::people(&raw.people, problems);
    for channel in &mut channels {
        channel.people = people.clone();
    }
    let digests = super::digests::digests(&raw.digests, &raw.channel_names, problems);
    let mut router = routes(&raw.routes, &raw.channel_names, problems);
    let (timers, timer_routes) = super::timers::timers(&raw.timers, &raw.channel_names, problems);
    for route in timer_routes {
        router.push(route);
    }
    let log = log(&raw, problems);
    let admin::Admin {
        listen: admin_listen,
        token: admin_token,
        read_tokens: admin_read_tokens,
        public_url: admin_public_url,
    } = admin::admin(&raw, problems);
    for channel in &mut channels {
        channel.status_page = admin_public_url.clone();
    }
    if raw.channel_count == 0 {
        problem(
            problems,
            "channels",
            "there is no [[channels]]: name at least one place to send alerts",
        );
    } else if raw.route_count == 0 {
        problem(
            problems,
            "routes",
            "there is no [[routes]]: no event would be sent to any channel",
        );
    }
    let receiver = receiver(&raw, problems, &mut warnings);
    // Slack posts button clicks to the receiver.
    if raw.receiver.listen.is_none() {
        for channel in &channels {
            let interactive = matches!(&channel.kind,
                notifier::ChannelKind::Slack(notifier::SlackChannel::Api(api)) if api.actions.is_some());
            if interactive {
                let index = raw
                    .channels
                    .iter()
                    .find(|(_, raw)| raw.name == channel.name)
                    .map_or(0, |(index, _)| *index);
                problem(
                    problems,
                    format!("channels[{index}].signing_secret"),
                    "needs [receiver] listen: Slack posts button clicks to /slack/interactions on the receiver (its public URL is the Slack app's Interactivity Request URL)",
                );
            }
        }
    }
    let alerts = super::alerts::alerts(&raw, problems);
    let metrics_max_resources = metrics_max_resources(&raw, problems);
    let silences = super::alerts::silences(&raw, problems);
    let planetscale = planetscale?;
    Some(Config {
        planetscale,
        state_path,
        state_database,
        poll,
        watches,
        channels,
        digests,
        timers,
        templates,
        router,
        log,
        admin_listen,
        admin_token,
        admin_read_tokens,
        receiver,
        alerts,
        metrics_max_resources,
        silences,
        warnings,
    })
}

/// `[metrics] max_resources`: how many resources the state metrics show, 1,000 unless set.
fn metrics_max_resources(raw: &RawConfig, problems: &mut Vec<Problem>) -> usize {
    const MOST: i64 = 100_000;
    match raw.metrics.max_resources {
        None => super::DEFAULT_MAX_RESOURCES,
        Some(count) if (0..=MOST).contains(&count) => count as usize,
        Some(count) => {
            problem(
                problems,
                "metrics.max_resources",
                format!("is {count}; give a count from 0 (no state metrics) to {MOST}: each resource is several series in every scrape"),
            );
            super::DEFAULT_MAX_RESOURCES
        }
    }
}

/// `[receiver]`: off unless `listen` is set.
fn receiver(
    raw: &RawConfig,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> Option<Receiver> {
    let raw = &raw.receiver;
    let public_url = raw.public_url.as_deref().and_then(|text| {
        let url = http_url("receiver.public_url", text, false, problems)?;
        if url.scheme() != "https" {
            problem(
                problems,
                "receiver.public_url",
                "must be an https:// URL: PlanetScale posts only to HTTPS (put a TLS reverse proxy in front of receiver.listen)",
            );
            return None;
        }
        Some(url)
    });
    let mut secrets = Vec::new();
    for (position, secret) in raw.secrets.iter().flatten().enumerate() {
        if secret.trim().is_empty() {
            problem(
                problems,
                format!("receiver.secrets[{position}]"),
                "is empty; give a webhook's secret (Settings > Webhooks > Show secret)",
            );
        } else {
            secrets.push(Secret::new(secret.trim()));
        }
    }
    let Some(listen) = raw.listen else {
        if raw.public_url.is_some() || raw.secrets.is_some() {
            problem(
                warnings,
                "receiver.listen",
                "is not set, so the receiver is off and PlanetScale's deliveries are not received",
            );
        }
        return None;
    };
    if secrets.is_empty() {
        problem(
            warnings,
            "receiver.secrets",
            "is empty: deliveries are verified with the secrets of the watched databases' webhooks, which pswatch reads from PlanetScale (service token access read_database); a delivery no readable webhook signed is refused (401)",
        );
    }
    Some(Receiver {
        listen,
        public_url,
        secrets,
    })
}

/// The channels and routes alone (for `pswatch demo -c`).
pub(super) fn channels_and_routes(
    raw: &RawConfig,
    problems: &mut Vec<Problem>,
) -> (Vec<Channel>, Router) {
    (
        channels(
            &raw.channels,
            &templates(&raw.templates, problems),
            problems,
        ),
        routes(&raw.routes, &raw.channel_names, problems),
    )
}

/// `value` (or `default`), which must be at least the minimum interval of 10 ms.
pub(super) fn at_least(
    key: &str,
    value: Option<Duration>,
    default: Duration,
    problems: &mut Vec<Problem>,
) -> Duration {
    match value {
        None => default,
        Some(value) if value >= MIN_INTERVAL => value,
        Some(_) => {
            problem(problems, key, "is shorter than the minimum of 10ms");
            default
        }
    }
}

fn poll(raw: &RawConfig, problems: &mut Vec<Problem>) -> Poll {
    let interval = at_least(
        "poll.interval",
        raw.poll.interval,
        DEFAULT_INTERVAL,
        problems,
    );
    Poll {
        interval,
        active_interval: at_least(
            "poll.active_interval",
            raw.poll.active_interval,
            DEFAULT_ACTIVE_INTERVAL,
            problems,
        ),
        // What waits for a person can wait for days: by default it is polled like an idle
        // database.
        waiting_interval: at_least(
            "poll.waiting_interval",
            raw.poll.waiting_interval,
            interval,
            problems,
        ),
        notify_on_baseline_errors: raw.poll.notify_on_baseline_errors.unwrap_or(false),
        notify_pending_ready: raw.poll.notify_pending_ready.unwrap_or(false),
        slow_interval: at_least(
            "poll.slow_interval",
            raw.poll.slow_interval,
            DEFAULT_SLOW_INTERVAL,
            problems,
        ),
    }
}

/// How often backups are read unless `[poll] slow_interval` says otherwise.
const DEFAULT_SLOW_INTERVAL: Duration = Duration::from_secs(300);

/// The kinds `resources` may name, and whether this version watches each.
const RESOURCES: &[(&str, bool)] = &[
    ("workflows", true),
    ("deploy_requests", true),
    ("backups", true),
    ("resizes", true),
    ("maintenance", true),
    ("schema_recommendations", true),
];

/// A `[[watch]]`'s `resources`, or the default (workflows and deploy requests).
fn resources(key: &str, given: Option<&Vec<String>>, problems: &mut Vec<Problem>) -> Resources {
    let Some(given) = given else {
        return Resources::default();
    };
    if given.is_empty() {
        problem(
            problems,
            format!("{key}.resources"),
            "is empty; leave it out for workflows and deploy requests",
        );
    }
    let mut resources = Resources::NONE;
    let watched: Vec<&str> = RESOURCES
        .iter()
        .filter(|(_, watched)| *watched)
        .map(|(name, _)| *name)
        .collect();
    for (position, name) in given.iter().enumerate() {
        match RESOURCES.iter().find(|(known, _)| known == &name.trim()) {
            Some(("workflows", _)) => resources.workflows = true,
            Some(("deploy_requests", _)) => resources.deploy_requests = true,
            Some(("backups", _)) => resources.backups = true,
            Some(("resizes", _)) => resources.resizes = true,
            Some(("schema_recommendations", _)) => resources.schema_recommendations = true,
            Some(("maintenance", _)) => resources.maintenance = true,
            Some((known, _)) => problem(
                problems,
                format!("{key}.resources[{position}]"),
                format!(
                    "{known:?} is not watched by this version of pswatch yet; it watches {}",
                    watched.join(", ")
                ),
            ),
            None => problem(
                problems,
                format!("{key}.resources[{position}]"),
                format!(
                    "{name:?} is not a kind pswatch watches; the kinds are {}",
                    watched.join(", ")
                ),
            ),
        }
    }
    resources
}

fn log(raw: &RawConfig, problems: &mut Vec<Problem>) -> Log {
    let mut log = Log::default();
    if let Some(RawLogFormat::Json) = raw.log.format {
        log.format = LogFormat::Json;
    }
    if let Some(level) = &raw.log.level {
        match tracing_subscriber::EnvFilter::try_new(level) {
            Ok(_) => log.level = level.clone(),
            Err(error) => problem(
                problems,
                "log.level",
                format!("{level:?} is not a log filter such as \"info\" or \"info,pswatch=debug\": {error}"),
            ),
        }
    }
    log
}

fn watches(
    raw: &RawConfig,
    planetscale: Option<&PlanetScale>,
    problems: &mut Vec<Problem>,
) -> Vec<Watch> {
    if raw.watch_count == 0 {
        problem(
            problems,
            "watch",
            "there is no [[watch]]: name at least one organization to watch",
        );
    }
    let mut watches = Vec::new();
    let mut tokens = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, watch) in &raw.watches {
        let key = format!("watch[{index}]");
        let organization = watch.organization.clone();
        if organization.trim().is_empty() || organization.contains('/') {
            problem(
                problems,
                format!("{key}.organization"),
                "must be an organization's name",
            );
        }
        let databases = match &watch.databases {
            None => None,
            Some(databases)
                if databases.is_empty() || databases.iter().any(|database| database == "*") =>
            {
                None
            }
            Some(databases) => {
                for (position, database) in databases.iter().enumerate() {
                    if database.trim().is_empty() || database.contains('/') {
                        problem(
                            problems,
                            format!("{key}.databases[{position}]"),
                            "must be a database's name or \"*\"",
                        );
                    }
                }
                Some(databases.clone())
            }
        };
        if !seen.insert(organization.clone()) {
            problem(
                problems,
                format!("{key}.organization"),
                format!("{organization:?} is watched twice; merge the two [[watch]] entries"),
            );
        }
        let resources = resources(&key, watch.resources.as_ref(), problems);
        let token = watch_token(&key, watch, &organization, problems);
        tokens.push((*index, token.clone(), watch.requests_per_minute.is_some()));
        watches.push(Watch {
            organization,
            databases,
            resources,
            token,
        });
    }
    tokens_agree(planetscale, &tokens, problems);
    watches
}

fn globs(key: &str, patterns: &[String], problems: &mut Vec<Problem>) -> Option<globset::GlobSet> {
    glob_set(patterns)
        .map_err(|error| problem(problems, key, error.to_string()))
        .ok()
}

fn routes(
    raw: &[(usize, RawRoute)],
    channel_names: &[String],
    problems: &mut Vec<Problem>,
) -> Router {
    let mut routes = Vec::new();
    for (index, raw) in raw {
        let key = format!("routes[{index}]");
        if raw.channels.is_empty() {
            problem(
                problems,
                format!("{key}.channels"),
                "is empty; name the channels this route sends to",
            );
            continue;
        }
        for (position, channel) in raw.channels.iter().enumerate() {
            if !channel_names.contains(channel) {
                problem(
                    problems,
                    format!("{key}.channels[{position}]"),
                    format!("{channel:?} is not the name of a channel"),
                );
            }
        }
        let events = raw.events.clone().unwrap_or_else(|| vec!["*".into()]);
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
        let mut optional = |field: &str, patterns: &Option<Vec<String>>| {
            patterns
                .as_ref()
                .and_then(|patterns| globs(&format!("{key}.{field}"), patterns, problems))
        };
        let states = optional("states", &raw.states);
        let organizations = optional("organizations", &raw.organizations);
        let databases = optional("databases", &raw.databases);
        if problems.len() == before {
            if let Some(events) = event_set {
                routes.push(
                    Route::new(
                        raw.channels.clone(),
                        events,
                        states,
                        organizations,
                        databases,
                    )
                    .labelled(key.clone()),
                );
            }
        }
    }
    Router::new(routes)
}

/// `[state] url` and `schema`: a PostgreSQL store instead of the directory `path`.
fn state_database(raw: &RawConfig, problems: &mut Vec<Problem>) -> Option<StateDatabase> {
    let state = &raw.state;
    let Some(url) = &state.url else {
        for (key, given) in [
            ("state.schema", state.schema.is_some()),
            ("state.lease", state.lease.is_some()),
        ] {
            if given {
                problem(
                    problems,
                    key,
                    "applies to a PostgreSQL store only; set state.url too, or remove it",
                );
            }
        }
        return None;
    };
    if state.path.is_some() {
        problem(
            problems,
            "state.url",
            "and state.path are exclusive: path keeps the state in a directory (one pswatch process), url in PostgreSQL (shared by replicas); keep one",
        );
    }
    // The URL may hold a password: never quoted.
    let url = url.trim();
    let url_ok = match store::split_tls_mode(url) {
        Ok(_) => true,
        Err(error) => {
            problem(problems, "state.url", error);
            false
        }
    };
    let schema = state
        .schema
        .clone()
        .unwrap_or_else(|| DEFAULT_STATE_SCHEMA.to_owned());
    let schema_ok = match store::schema_identifier(&schema) {
        Ok(_) => true,
        Err(error) => {
            problem(problems, "state.schema", error);
            false
        }
    };
    let lease = state.lease.unwrap_or(DEFAULT_LEASE);
    let lease_ok = if (Duration::from_secs(1)..=Duration::from_secs(600)).contains(&lease) {
        true
    } else {
        problem(
            problems,
            "state.lease",
            "must be from 1s to 10m; a standby takes over within a lease of the leader's end",
        );
        false
    };
    (url_ok && schema_ok && lease_ok).then(|| StateDatabase {
        url: Secret::new(url),
        schema,
        lease,
    })
}
