//! pswatch: watches PlanetScale workflows, deploy requests and deploy operations, and alerts
//! Slack, email and signed webhooks when they change state.

mod admin;
mod admin_auth;
mod args;
mod config;
mod delivery;
mod demo;
mod dry_run;
mod health;
mod metrics;
mod outbox;
mod pipeline;
mod push;
mod receiver;
mod route_cli;
mod scheduler;
mod serve;
mod service;
mod shared;
mod silence_cli;
mod silences;
mod state;
mod status;
mod webhooks_cli;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::args::ConfigArg;
use crate::pipeline::Pipeline;

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
    },
    /// Silences: matching events are recorded but not delivered while one holds.
    Silence {
        #[command(subcommand)]
        action: silence_cli::SilenceAction,
    },
    /// Ask the running service whether it is ready (`/readyz` of its admin server): exit 0 when
    /// it is, 1 otherwise. For container health checks; the image has no curl.
    Health {
        #[arg(
            short = 'c',
            long = "config",
            env = "PSWATCH_CONFIG",
            value_name = "FILE"
        )]
        config: Option<PathBuf>,
        /// The admin server's address, instead of `[admin] listen` of the configuration.
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
    config::duration(text)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = match &cli.command {
        // The service's own log settings; a file with problems reports them right after.
        Command::Run(ConfigArg { config })
        | Command::Once {
            config: ConfigArg { config },
            dry_run: false,
        } => config::peek_log(config),
        // The demo's notifications are the show; keep the log to warnings.
        Command::Demo { .. } => config::Log {
            level: "warn".into(),
            ..config::Log::default()
        },
        _ => config::Log::default(),
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

fn init_logging(log: &config::Log) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        // Colours only for a person at a terminal, not for files and log collectors.
        config::LogFormat::Pretty => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        config::LogFormat::Json => builder.json().with_current_span(true).init(),
    }
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
        Command::TestNotify { config, channel } => {
            test_notify(&config.config, channel.as_deref()).await
        }
        Command::Silence { action } => silence_cli::run(action, load).await,
        Command::Health { config, url } => health::check(config.as_deref(), url).await,
        Command::Route {
            config,
            event,
            state,
            database,
        } => {
            let config = load(&config.config)?;
            match route_cli::explain(&config, &event, state.as_deref(), database.as_deref())? {
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
                    webhooks_cli::list(&load(&config)?).await?
                }
                WebhooksAction::Install(ConfigArg { config }) => {
                    webhooks_cli::install(&load(&config)?).await?
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
                    let store = open_store(&config.config)?;
                    let mut states = store.target_states()?;
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
                    state::reset(&loaded.state_path)?
                }
                StateAction::Forget { config, target } => {
                    let target = state::parse_target(&target)?;
                    if open_store(&config.config)?.forget_target(&target).await? {
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
                OutboxAction::List(ConfigArg { config }) => outbox::list(&open_store(&config)?)?,
                OutboxAction::Retry { config, id, .. } => {
                    outbox::retry(&open_store(&config.config)?, id).await?
                }
                OutboxAction::Drop { config, id } => {
                    outbox::drop(&open_store(&config.config)?, id).await?
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

fn load(path: &Path) -> anyhow::Result<config::Config> {
    let config = config::load(path, &config::process_environment)?;
    warn_about(&config);
    Ok(config)
}

/// Logs what is valid in a configuration but probably not meant.
fn warn_about(config: &config::Config) {
    for warning in &config.warnings {
        tracing::warn!(key = %warning.key, "{}", warning.message);
    }
}

fn open_pipeline(path: &Path) -> anyhow::Result<Arc<Pipeline>> {
    let config = load(path)?;
    let store = shared::open_store(&config)?;
    let shared = Arc::new(shared::Shared::new(store, &config)?);
    Ok(Arc::new(Pipeline::new(config, shared)?))
}

fn open_store(path: &Path) -> anyhow::Result<store::Store> {
    shared::open_store(&load(path)?)
}

/// Sends a test message through each channel (or one) and reports each result; exits 1 if any
/// failed.
async fn test_notify(path: &Path, only: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = load(path)?;
    let notifier = notifier::Notifier::new(&config.channels)?;
    let mut names: Vec<&str> = config
        .channels
        .iter()
        .map(|channel| channel.name.as_str())
        .collect();
    if let Some(only) = only {
        if !names.contains(&only) {
            anyhow::bail!(
                "there is no channel named {only:?}; the channels are {}",
                names.join(", ")
            );
        }
        names.retain(|name| *name == only);
    }
    let mut failed = 0;
    for name in names {
        match notifier.deliver_test(name).await {
            Ok(()) => eprintln!("{name}: ok, the receiver accepted the test message"),
            Err(error) => {
                failed += 1;
                eprintln!("{name}: FAILED: {error}");
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn check(path: &Path) -> anyhow::Result<ExitCode> {
    match config::load(path, &config::process_environment) {
        Ok(config) => {
            println!(
                "{} is valid: {} watch entr{}, {} channel{}; state in {}",
                path.display(),
                config.watches.len(),
                if config.watches.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                config.channels.len(),
                if config.channels.len() == 1 { "" } else { "s" },
                config.state_path.display()
            );
            for warning in &config.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn once(path: &Path) -> anyhow::Result<ExitCode> {
    let engine = open_pipeline(path)?;
    let mut poll_failed = false;
    let (targets, failures) = engine.targets().await;
    for (organization, error) in failures {
        tracing::error!(organization, %error, "cannot list the organization's databases");
        poll_failed = true;
    }
    let mut events = 0;
    for target in &targets {
        match engine.poll(target, poller::Priority::Low).await {
            Ok(report) => events += report.events,
            Err(error) => {
                tracing::error!(target_db = %target, %error, "poll failed; the state is unchanged");
                poll_failed = true;
            }
        }
    }
    engine.bury_unconfigured().await?;
    let report = engine.deliver_due().await?;
    engine.store.flush().await?;
    tracing::info!(
        targets = targets.len(),
        events,
        delivered = report.delivered,
        failed = report.failed,
        given_up = report.given_up,
        pending = report.pending,
        "once: done"
    );
    // Deliveries left for later, or given up in this run, are worth a non-zero exit.
    Ok(if report.pending > 0 || report.given_up > 0 {
        ExitCode::from(2)
    } else if poll_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the service; on each SIGHUP reads the configuration again and, if it is valid, hands it
/// to the running service, which applies it in place (see [`service::run`]). An invalid
/// configuration is logged with every problem and the running one kept.
async fn run_service(
    path: &Path,
    shutdown: CancellationToken,
    mut signals: tokio::sync::mpsc::UnboundedReceiver<()>,
) -> anyhow::Result<()> {
    let config = load(path)?;
    let store = shared::open_store(&config)?;
    let shared = Arc::new(shared::Shared::new(store, &config)?);
    let (reloads, configs) = tokio::sync::mpsc::channel(1);
    let state_path = config.state_path.clone();
    let path = path.to_owned();
    tokio::spawn(async move {
        while signals.recv().await.is_some() {
            match config::load(&path, &config::process_environment) {
                Ok(mut next) => {
                    warn_about(&next);
                    if next.state_path != state_path {
                        tracing::warn!(kept = %state_path.display(), "state.path cannot change on reload; restart pswatch to move the store");
                        next.state_path = state_path.clone();
                    }
                    if reloads.send(next).await.is_err() {
                        return;
                    }
                }
                Err(error) => {
                    let problems: Vec<String> =
                        error.problems.iter().map(ToString::to_string).collect();
                    tracing::error!(
                        ?problems,
                        "configuration rejected on reload; the running one stays"
                    );
                }
            }
        }
    });
    service::run(shared, config, shutdown, configs).await
}

/// SIGHUP, as a stream of reload requests. The handler is installed before this returns.
fn reload_signals() -> std::io::Result<tokio::sync::mpsc::UnboundedReceiver<()>> {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP received; reloading the configuration");
                if sender.send(()).is_err() {
                    return;
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(sender);
    Ok(receiver)
}

/// A token cancelled on SIGINT or SIGTERM. The handlers are installed before this returns.
fn shutdown_on_signals() -> std::io::Result<CancellationToken> {
    let shutdown = CancellationToken::new();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let token = shutdown.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!(signal = name, "signal received; shutting down");
            token.cancel();
        });
    }
    #[cfg(not(unix))]
    {
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("interrupt received; shutting down");
            token.cancel();
        });
    }
    Ok(shutdown)
}
