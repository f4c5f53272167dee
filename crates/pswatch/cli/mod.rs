//! The command line: `pswatch run`, `check`, `once` (with its dry run), `route`, `demo`,
//! `test-notify`, `state`, `outbox`, `silence`, `health` and `planetscale-webhooks`, one module
//! a command where it has more than a few lines; what they share is here and in `args`.

pub(crate) mod args;
mod check;
mod common;
mod demo;
mod dry_run;
pub(crate) mod health;
mod once;
mod outbox;
mod route;
mod run;
mod silence;
mod state;
mod template;
mod test_notify;
mod wait;
mod webhooks;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::cli::args::{ConfigArg, OptionalConfigArg};
use check::check;
use common::{load, open_store};
use once::once;
use run::{reload_signals, run_service, shutdown_on_signals};
use test_notify::test_notify;

#[derive(Debug, Parser)]
#[command(
    name = "pswatch",
    version,
    about = "Watches PlanetScale workflows and deploy requests and alerts Slack, email and webhooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service until SIGINT or SIGTERM.
    Run(ConfigArg),
    /// Poll every target once, deliver what that produces, and exit: 0 when everything was
    /// polled and the outbox is empty, 1 when a target could not be polled, 2 when deliveries
    /// remain pending. With --dry-run: poll, diff and print per channel what would be sent;
    /// send nothing and write no state.
    Once {
        #[command(flatten)]
        config: ConfigArg,
        /// Send nothing and change no state; print what would be sent, per channel.
        #[arg(long)]
        dry_run: bool,
    },
    /// Validate the configuration and report every problem.
    Check(ConfigArg),
    /// Send a clearly marked test message through each channel (or one) and report each result.
    TestNotify {
        #[command(flatten)]
        config: ConfigArg,
        /// Only this channel.
        #[arg(long)]
        channel: Option<String>,
        /// For GitHub channels: the git ref whose head gets the test status (default: the
        /// repository's default branch).
        #[arg(long = "ref", value_name = "REF")]
        git_ref: Option<String>,
    },
    /// Show or forget what pswatch remembers of the watched databases. Works on the state
    /// directory, so stop a running pswatch first.
    State {
        #[command(subcommand)]
        action: StateAction,
    },
    /// Show pending deliveries and dead letters, put dead letters back, or drop entries. Works
    /// on the state directory, so stop a running pswatch first (sled allows one process).
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Print the channels an event would reach, one a line with the routes that select it;
    /// exit 0 when at least one would, 1 when none would.
    Route {
        #[command(flatten)]
        config: ConfigArg,
        /// The event type, e.g. workflow.state_changed or planetscale.branch.ready.
        #[arg(long)]
        event: String,
        /// The state the resource would be in (checked against the routes' `states`).
        #[arg(long)]
        state: Option<String>,
        /// ORGANIZATION/DATABASE (checked against the routes' `organizations` and `databases`).
        #[arg(long)]
        database: Option<String>,
        /// The timer of a timer.fired event (checked against the `[[timers]]` entries' own
        /// `channels` and `escalate_to`).
        #[arg(long)]
        timer: Option<String>,
    },
    /// Templates: see what channels would send with one.
    Template {
        #[command(subcommand)]
        action: TemplateAction,
    },
    /// Silences: matching events are recorded but not delivered while one holds.
    Silence {
        #[command(subcommand)]
        action: silence::SilenceAction,
    },
    /// Ask the running service whether it is ready (`/readyz` of its admin server): exit 0 when
    /// it is, 1 otherwise. For container health checks; the image has no curl.
    Health {
        #[command(flatten)]
        config: OptionalConfigArg,
        /// The admin server's address, instead of `[admin] listen` of the configuration.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// Wait, on the running pswatch and not on PlanetScale, until a deploy request or workflow
    /// reaches a state; print its state and each table's progress as they move. Exit 0 when it
    /// reaches one of the states, 1 when it reaches a state none of them can follow (a final
    /// one: complete, complete_error, complete_revert, cancelled, error, closed...), 2 at the
    /// timeout, 3 when pswatch cannot be reached, refuses the token (PSWATCH_TOKEN) or cannot
    /// answer for the resource.
    Wait {
        /// ORGANIZATION/DATABASE.
        database: String,
        /// What to wait on.
        #[arg(value_enum)]
        kind: wait::WaitKind,
        /// Its number.
        number: u64,
        /// The states to wait for, comma-separated (a deploy request's deployment_state, a
        /// workflow's state).
        #[arg(long, value_delimiter = ',', required = true)]
        until: Vec<String>,
        /// How long to wait at most.
        #[arg(long, default_value = "30m", value_parser = parse_duration)]
        timeout: std::time::Duration,
        /// How long pswatch may stay unreachable (a restart, a failover) before giving up.
        #[arg(long, default_value = "2m", value_parser = parse_duration)]
        reconnect_for: std::time::Duration,
        #[command(flatten)]
        config: OptionalConfigArg,
        /// The admin server's address, instead of `[admin] listen` of the configuration
        /// (default http://127.0.0.1:9184).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// PlanetScale's webhooks of the watched databases: whether one posts to
    /// `[receiver] public_url`, and creating the missing ones. Needs no state directory.
    PlanetscaleWebhooks {
        #[command(subcommand)]
        action: WebhooksAction,
    },
    /// Watch a built-in simulator play a MoveTables workflow and a failing deploy request; needs
    /// no account. With -c, also send to that file's channels, routed by its routes.
    Demo {
        #[arg(short = 'c', long = "config", value_name = "FILE")]
        config: Option<PathBuf>,
        /// Time between two changes of the scenario.
        #[arg(long, default_value = "1500ms", value_parser = parse_duration)]
        step: std::time::Duration,
        /// Where the status page listens (a free loopback port by default); off loopback, as
        /// in a container, it asks for a token the demo makes and prints.
        #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
}

#[derive(Debug, Subcommand)]
enum TemplateAction {
    /// Print a template's title and text, and what each channel that lists it would send, for
    /// a sample event of a type it applies to.
    Preview {
        #[command(flatten)]
        config: ConfigArg,
        /// The template's name.
        #[arg(long)]
        template: String,
        /// The event type (by default the first the template applies to).
        #[arg(long)]
        event: Option<String>,
        /// Only this channel, whether it lists the template or not.
        #[arg(long)]
        channel: Option<String>,
        /// The latest real event of the type in the store (a pending delivery or a dead letter)
        /// instead of a sample.
        #[arg(long)]
        from_store: bool,
    },
}

#[derive(Debug, Subcommand)]
enum WebhooksAction {
    /// Per watched database, its webhooks and whether one gives pswatch push; exit 0 when every
    /// database has one, 1 otherwise.
    List(ConfigArg),
    /// Create a webhook to `[receiver] public_url` (deploy request events and the PlanetScale
    /// events pswatch routes) for each watched database without one. Needs a service token
    /// with write_database.
    Install(ConfigArg),
}

#[derive(Debug, Subcommand)]
enum StateAction {
    /// Print the last seen state of every database, or of one.
    Show {
        #[command(flatten)]
        config: ConfigArg,
        /// ORGANIZATION/DATABASE
        target: Option<String>,
    },
    /// Forget a database's state, so that its next poll records a new baseline (and reports
    /// nothing).
    Forget {
        #[command(flatten)]
        config: ConfigArg,
        /// ORGANIZATION/DATABASE
        target: String,
    },
    /// Move a store that cannot be read aside (to STATE_PATH.damaged-TIME), so that the next
    /// start begins a new one: every database records a new baseline, and deliveries the old
    /// store owed are not made. Refused while the store reads, or a pswatch process uses it.
    Reset {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Write everything the store holds (states, outbox, dead letters, silences, memos,
    /// receipts, keys) to standard output as JSON lines, for `state import`.
    Export {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Read an export from standard input into the store, which must be empty: a move between
    /// a state directory and PostgreSQL, without a new baseline and without losing or repeating
    /// a pending delivery.
    Import {
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxAction {
    /// List pending deliveries (channel, event, attempts, next attempt, last error) and dead
    /// letters (with why they were given up).
    List(ConfigArg),
    /// Put a dead letter back into the outbox, or all of them with --all-dead.
    Retry {
        #[command(flatten)]
        config: ConfigArg,
        /// The entry's id, as `outbox list` shows it.
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        id: Option<u64>,
        /// Put back every dead letter.
        #[arg(long)]
        all_dead: bool,
    },
    /// Remove a pending entry or a dead letter for good.
    Drop {
        #[command(flatten)]
        config: ConfigArg,
        /// The entry's id, as `outbox list` shows it.
        id: u64,
    },
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::config::duration(text)
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = match &cli.command {
        // The service's own log settings; a file with problems reports them right after.
        Command::Run(ConfigArg { config })
        | Command::Once {
            config: ConfigArg { config },
            dry_run: false,
        } => crate::config::peek_log(config),
        // The demo's notifications are the show; keep the log to warnings.
        Command::Demo { .. } => crate::config::Log {
            level: "warn".into(),
            ..crate::config::Log::default()
        },
        _ => crate::config::Log::default(),
    };
    init_logging(&log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(log: &crate::config::Log) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        // Colours only for a person at a terminal, not for files and log collectors.
        // Values from outside (ids, names, errors from the API) may hold control characters:
        // each field is written with them escaped, so one line stays one line and no byte
        // reaches the terminal as a command. JSON escapes them already.
        crate::config::LogFormat::Pretty => builder
            .fmt_fields(printable_fields())
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        crate::config::LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}

/// Log fields written as the default format writes them (`message`, then `name=value`),
/// control characters escaped as the terminal output escapes them.
fn printable_fields() -> impl for<'writer> tracing_subscriber::fmt::FormatFields<'writer> {
    use tracing_subscriber::field::MakeExt as _;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let text = format!("{value:?}");
        let text = notifier::render::printable(&text);
        match field.name() {
            "message" => write!(writer, "{text}"),
            name => write!(writer, "{}={text}", name.trim_start_matches("r#")),
        }
    })
    .delimited(" ")
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(ConfigArg { config }) => check(&config),
        Command::Run(ConfigArg { config }) => {
            // Listen for signals before anything else, so that a SIGTERM during start-up stops
            // the service cleanly instead of killing it.
            let shutdown = shutdown_on_signals().context("listening for SIGINT and SIGTERM")?;
            let reloads = reload_signals().context("listening for SIGHUP")?;
            run_service(&config, shutdown, reloads).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Once {
            config: ConfigArg { config },
            dry_run: true,
        } => dry_run::run(&load(&config)?).await,
        Command::Once {
            config: ConfigArg { config },
            dry_run: false,
        } => once(&config).await,
        Command::Demo {
            config,
            step,
            listen,
        } => demo::run(config.as_deref(), step, listen).await,
        Command::TestNotify {
            config,
            channel,
            git_ref,
        } => test_notify(&config.config, channel.as_deref(), git_ref.as_deref()).await,
        Command::Silence { action } => silence::run(action, load).await,
        Command::Template {
            action:
                TemplateAction::Preview {
                    config,
                    template,
                    event,
                    channel,
                    from_store,
                },
        } => {
            let config = load(&config.config)?;
            let text = template::preview(
                &config,
                &template,
                event.as_deref(),
                channel.as_deref(),
                from_store,
            )
            .await?;
            print!("{}", notifier::render::printable_lines(&text));
            Ok(ExitCode::SUCCESS)
        }
        Command::Health { config, url } => health::check(config.config.as_deref(), url).await,
        Command::Wait {
            database,
            kind,
            number,
            until,
            timeout,
            reconnect_for,
            config,
            url,
        } => {
            let base = match (url, &config.config) {
                (Some(url), _) => url,
                (None, Some(path)) => {
                    let config = crate::config::load(path, &crate::config::process_environment)?;
                    health::admin_base(&config).context(
                        "the admin server is off ([admin] enabled = false): nothing to wait on",
                    )?
                }
                (None, None) => "http://127.0.0.1:9184".to_owned(),
            };
            Ok(wait::wait(wait::WaitRequest {
                database,
                kind,
                number,
                until,
                timeout,
                reconnect_for,
                base,
                token: std::env::var("PSWATCH_TOKEN")
                    .ok()
                    .filter(|token| !token.trim().is_empty()),
            })
            .await)
        }
        Command::Route {
            config,
            event,
            state,
            database,
            timer,
        } => {
            let config = load(&config.config)?;
            match route::explain(
                &config,
                &event,
                state.as_deref(),
                database.as_deref(),
                timer.as_deref(),
            )? {
                Some(text) => {
                    print!("{}", notifier::render::printable_lines(&text));
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    println!("no channel: no route selects a {event} event like this one");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::PlanetscaleWebhooks { action } => {
            let (text, complete) = match action {
                WebhooksAction::List(ConfigArg { config }) => {
                    webhooks::list(&load(&config)?).await?
                }
                WebhooksAction::Install(ConfigArg { config }) => {
                    webhooks::install(&load(&config)?).await?
                }
            };
            print!("{}", notifier::render::printable_lines(&text));
            Ok(if complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::State { action } => {
            let text = match action {
                StateAction::Show { config, target } => {
                    let store = open_store(&config.config).await?;
                    let mut states = store.target_states().await?;
                    if let Some(target) = target {
                        let target = state::parse_target(&target)?;
                        states.retain(|(known, _)| *known == target);
                        if states.is_empty() {
                            anyhow::bail!("nothing is remembered of {target}");
                        }
                    }
                    state::render(&states)
                }
                StateAction::Reset { config } => {
                    let loaded = load(&config.config)?;
                    if loaded.state_database.is_some() {
                        anyhow::bail!("state reset moves a damaged state directory aside; a PostgreSQL store is repaired or restored with the database's own tools");
                    }
                    state::reset(&loaded.state_path)?
                }
                // They speak JSON lines on standard output and input, not text.
                StateAction::Export { config } => {
                    return state::export(&open_store(&config.config).await?).await
                }
                StateAction::Import { config } => {
                    return state::import(&open_store(&config.config).await?).await
                }
                StateAction::Forget { config, target } => {
                    let target = state::parse_target(&target)?;
                    if open_store(&config.config)
                        .await?
                        .forget_target(&target)
                        .await?
                    {
                        format!("forgot {target}; its next poll records a new baseline")
                    } else {
                        format!("nothing was remembered of {target}")
                    }
                }
            };
            print!("{}", notifier::render::printable_lines(&text));
            if !text.ends_with('\n') {
                println!();
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox { action } => {
            let text = match action {
                OutboxAction::List(ConfigArg { config }) => {
                    outbox::list(&open_store(&config).await?).await?
                }
                OutboxAction::Retry { config, id, .. } => {
                    outbox::retry(&open_store(&config.config).await?, id).await?
                }
                OutboxAction::Drop { config, id } => {
                    outbox::drop(&open_store(&config.config).await?, id).await?
                }
            };
            print!("{}", notifier::render::printable_lines(&text));
            if !text.ends_with('\n') {
                println!();
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
