//! `pswatch silence add|list|expire`: through the running service's admin API (`/api/silences`,
//! with `[admin] token`), or on the state store directly when the service is stopped.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::admin::silences::{self, SilenceRequest};
use crate::admin::views::{SilenceAnswer, SilenceView, SilencesAnswer};
use crate::config::Config;

/// What to do.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum SilenceAction {
    /// Hold back matching events for a while: they advance the state and are recorded, but are
    /// not delivered, then or later. Prints the new silence, its ID first.
    Add(AddArgs),
    /// Every silence, one a line, its ID first: those of the configuration, those added, and
    /// those that ended in the last week.
    List {
        #[command(flatten)]
        config: crate::cli::args::ConfigArg,
    },
    /// End a silence now.
    Expire {
        #[command(flatten)]
        config: crate::cli::args::ConfigArg,
        /// The silence's ID, as `silence list` shows it.
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    #[command(flatten)]
    config: crate::cli::args::ConfigArg,
    /// Organizations, a glob, e.g. `acme`.
    #[arg(long, value_name = "GLOB")]
    organization: Option<String>,
    /// ORGANIZATION/DATABASE, a glob, e.g. `acme/commerce` or `acme/*`.
    #[arg(long, value_name = "ORG/DB-GLOB")]
    database: Option<String>,
    /// Event types, globs, e.g. `deploy_request.*`.
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    events: Vec<String>,
    /// States the resource is in, globs, e.g. `pending_cutover`.
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    states: Vec<String>,
    /// How long, from now, e.g. `2h` or `30m`.
    #[arg(
        long = "for",
        value_name = "DURATION",
        required_unless_present = "until",
        conflicts_with = "until"
    )]
    duration: Option<String>,
    /// Until when, RFC 3339, e.g. `2026-11-24T18:00:00Z`.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Why, so others know whether it can go.
    #[arg(long)]
    comment: String,
}

/// Runs `action`; prints what it did.
pub(crate) async fn run(
    action: SilenceAction,
    load: impl Fn(&std::path::Path) -> anyhow::Result<Config>,
) -> anyhow::Result<ExitCode> {
    match action {
        SilenceAction::Add(args) => {
            let config = load(&args.config.config)?;
            let request = SilenceRequest {
                organization: args.organization,
                database: args.database,
                events: args.events,
                states: args.states,
                starts_at: None,
                ends_at: args.until,
                duration: args.duration,
                comment: args.comment,
            };
            let answer: Option<SilenceAnswer> = admin(
                &config,
                reqwest::Method::POST,
                "/api/silences",
                Some(&request),
            )
            .await?;
            let silence = match answer {
                Some(answer) => answer.silence,
                None => {
                    let now = OffsetDateTime::now_utc();
                    let silence = silences::add(&open_store(&config).await?, request, now).await?;
                    SilenceView::new(&silence, now)
                }
            };
            println!("{}", notifier::render::printable(&silence.line()));
        }
        SilenceAction::List { config } => {
            let config = load(&config.config)?;
            let answer: Option<SilencesAnswer> =
                admin(&config, reqwest::Method::GET, "/api/silences", None).await?;
            let views = match answer {
                Some(answer) => answer.silences,
                None => {
                    let all = open_store(&config)
                        .await?
                        .all_silences(&config.silences)
                        .await?;
                    silences::views(&all, OffsetDateTime::now_utc())
                }
            };
            for silence in &views {
                println!("{}", notifier::render::printable(&silence.line()));
            }
        }
        SilenceAction::Expire { config, id } => {
            let config = load(&config.config)?;
            let path = format!("/api/silences/{id}/expire");
            let answer: Option<SilenceAnswer> =
                admin(&config, reqwest::Method::POST, &path, None).await?;
            let silence = match answer {
                Some(answer) => answer.silence,
                None => {
                    let now = OffsetDateTime::now_utc();
                    let store = open_store(&config).await?;
                    let silence = silences::expire(&config.silences, &store, &id, now).await?;
                    SilenceView::new(&silence, now)
                }
            };
            println!("{}", notifier::render::printable(&silence.line()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn open_store(config: &Config) -> anyhow::Result<store::Store> {
    crate::service::handles::open_store(config).await.context(
        "the admin server did not answer, so the store was opened (if the service is running, \
         turn [admin] on, or stop the service)",
    )
}

/// Asks the running service's admin server; `None` when nothing listens there (the service is
/// stopped, or its admin server is off): the caller then uses the store.
async fn admin<T: DeserializeOwned>(
    config: &Config,
    method: reqwest::Method,
    path: &str,
    body: Option<&SilenceRequest>,
) -> anyhow::Result<Option<T>> {
    let Some(base) = crate::cli::health::admin_base(config) else {
        return Ok(None);
    };
    let client = http_util::client(std::time::Duration::from_secs(10))?;
    let mut request = client.request(method.clone(), format!("{base}{path}"));
    if let Some(token) = &config.admin_token {
        request = request.bearer_auth(token.expose());
    }
    if let Some(body) = body {
        request = request.json(body);
    } else if method == reqwest::Method::POST {
        // The admin API takes JSON only, bodies or none.
        request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) if error.is_connect() => return Ok(None),
        Err(error) => bail!(
            "the admin server at {base} did not answer: {}",
            http_util::error_chain(&error.without_url())
        ),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "the admin server refused: HTTP {}: {}",
            status.as_u16(),
            text.trim()
        );
    }
    serde_json::from_str(&text).map(Some).with_context(|| {
        format!("the admin server at {base} answered something pswatch does not read")
    })
}
