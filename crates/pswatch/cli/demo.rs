//! `pswatch demo`: the whole pipeline against the built-in simulator, no account needed.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use notifier::{glob_set, Channel, ChannelKind, ConsoleChannel, Route, Router};
use poller::ServiceToken;
use simulator::{Simulator, Step};

use crate::config::{self, Config, PlanetScale, Poll, Watch};
use crate::service::handles::Handles;
use crate::service::pipeline::Pipeline;

const DEMO_TOKEN_ID: &str = "demo-token-id";
const DEMO_TOKEN: &str = "demo-token";
/// Time allowed after the last step for the last poll and deliveries.
const SETTLE_TIME: Duration = Duration::from_secs(20);

pub(crate) async fn run(
    config_path: Option<&Path>,
    step: Duration,
    listen: std::net::SocketAddr,
) -> anyhow::Result<ExitCode> {
    // Off loopback (in a container, say) the page is reachable from elsewhere: it then asks
    // for a token made for this run, which the terminal shows.
    let page_token = if listen.ip().is_loopback() {
        None
    } else {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes)
            .map_err(|error| anyhow::anyhow!("cannot make the status page's token: {error}"))?;
        Some(hex::encode(bytes))
    };
    let (mut channels, mut router) = match config_path {
        Some(path) => config::load_channels(path, &config::process_environment)?,
        None => (Vec::new(), Router::default()),
    };
    // The demo always prints to the terminal, unless the file already has a console channel.
    if !channels
        .iter()
        .any(|channel| matches!(channel.kind, ChannelKind::Console(_)))
    {
        channels.push(Channel::new(
            "demo-console",
            ChannelKind::Console(ConsoleChannel),
        ));
        router.push(Route::new(
            vec!["demo-console".into()],
            glob_set(&["*".to_string()])?,
            None,
            None,
            None,
        ));
    }

    let scenario = simulator::demo(step);
    let scenario_length = scenario.duration();
    let simulator = Simulator::start(
        scenario.world,
        Some(format!("{DEMO_TOKEN_ID}:{DEMO_TOKEN}")),
    )
    .await
    .context("starting the simulator")?;
    let state = tempfile::tempdir().context("creating a temporary state directory")?;
    let poll_every = (step / 3).max(Duration::from_millis(100));
    let config = Config {
        planetscale: PlanetScale {
            api_url: simulator.api_url().parse()?,
            token: ServiceToken::new(DEMO_TOKEN_ID, DEMO_TOKEN),
            timeout: Duration::from_secs(5),
            requests_per_minute: config::DEFAULT_REQUESTS_PER_MINUTE,
            budget_window: Duration::from_secs(60),
        },
        state_path: state.path().to_owned(),
        state_database: None,
        poll: Poll {
            interval: poll_every,
            active_interval: poll_every,
            waiting_interval: poll_every,
            notify_on_baseline_errors: false,
            notify_pending_ready: false,
            // Backups and resizes once a scenario step: enough to see each change.
            slow_interval: step,
        },
        watches: vec![Watch {
            organization: simulator::DEMO_ORGANIZATION.into(),
            databases: None,
            // The demo shows the slower kinds too: a backup that fails, a resize that completes.
            resources: config::Resources {
                backups: true,
                resizes: true,
                ..config::Resources::default()
            },
            token: None,
        }],
        channels,
        digests: Vec::new(),
        timers: Vec::new(),
        // The file's templates are in its channels already.
        templates: Arc::default(),
        router,
        log: config::Log::default(),
        admin_listen: None,
        admin_token: page_token.as_deref().map(notifier::Secret::new),
        admin_read_tokens: Vec::new(),
        receiver: None,
        // The scripted scenario lasts seconds: nothing waits long enough to be reminded of.
        alerts: config::Alerts {
            cutover_reminder: None,
            stall_after: None,
            revert_window_warning: None,
        },
        metrics_max_resources: config::DEFAULT_MAX_RESOURCES,
        silences: Vec::new(),
        warnings: Vec::new(),
    };
    let store = store::Store::open(state.path())?;
    let handles = Handles::new(store, &config).await?;
    // The status page, to watch the scenario in a browser.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("cannot listen on {listen} for the status page; give another --listen")
        })?;
    let page = listener.local_addr()?;
    let stop_page = tokio_util::sync::CancellationToken::new();
    let page_server = tokio::spawn(crate::admin::serve(
        crate::admin::AdminState::new(&handles),
        listener,
        stop_page.child_token(),
    ));
    let engine = Arc::new(Pipeline::new(config, &handles)?);

    eprintln!(
        "pswatch demo: a simulated PlanetScale API is serving on {}",
        simulator.api_url()
    );
    match &page_token {
        None => eprintln!("pswatch demo: the status page is at http://{page}/ while the demo runs"),
        Some(token) => eprintln!(
            "pswatch demo: the status page listens on {page} while the demo runs; sign in with the token {token}"
        ),
    }
    let (targets, failures) = engine.targets().await;
    if let Some((organization, error)) = failures.into_iter().next() {
        anyhow::bail!("cannot list the databases of {organization}: {error}");
    }
    let names: Vec<String> = targets.iter().map(ToString::to_string).collect();
    eprintln!(
        "watching {} (every {:?}); the first poll records a baseline and reports nothing",
        names.join(", "),
        poll_every
    );
    for target in &targets {
        engine.poll(target, poller::Priority::High).await?;
    }

    let steps = scenario
        .steps
        .into_iter()
        .map(|step| {
            let description = step.description.clone();
            let change = step.change;
            Step {
                at: step.at,
                description: step.description,
                change: Box::new(move |world| {
                    eprintln!("  [simulator] {description}");
                    change(world);
                }),
            }
        })
        .collect();
    let player = simulator.play(steps);
    let deadline = tokio::time::Instant::now() + scenario_length + SETTLE_TIME;
    let mut events = 0;
    let mut delivered = 0;
    let mut failed_polls = 0;
    loop {
        tokio::time::sleep(poll_every).await;
        let scenario_over = player.is_finished();
        for target in &targets {
            match engine.poll(target, poller::Priority::High).await {
                Ok(report) => events += report.events,
                Err(error) => {
                    failed_polls += 1;
                    eprintln!("poll of {target} failed: {error}");
                }
            }
        }
        let report = engine.delivery.deliver_due().await?;
        delivered += report.delivered;
        if scenario_over && report.pending == 0 {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            eprintln!(
                "{} deliveries could not be made (see the warnings above); the demo stops here",
                report.pending
            );
            return Ok(ExitCode::from(2));
        }
    }
    stop_page.cancel();
    let _ = page_server.await;
    eprintln!(
        "demo finished: {events} transitions detected, {delivered} notifications delivered, {} API requests",
        simulator.requests()
    );
    if failed_polls > 0 {
        eprintln!("{failed_polls} polls failed (see above)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
