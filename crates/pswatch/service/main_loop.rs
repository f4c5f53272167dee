//! The service's loop: what it owns while it runs (the scheduler, the polls and the listing in
//! flight, the delivery workers, the current pipeline) and one method for each thing that can
//! happen to it: work falls due, a listing ends, a poll ends, a worker ends, PlanetScale pushes
//! a change, a configuration is reloaded, the service stops.

mod discovery;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use diff_engine::{Motion, Target};
use poller::Priority;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinError, JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use super::chores::{Chore, Chores};
use super::handles::Handles;
use super::pipeline::{Pipeline, PollFailure, PollReport};
use super::receiver::Inbound;
use super::scheduler::{Outcome, Scheduler};
use super::upkeep::{check_webhooks, give_up_if_broken, probe_store};
use super::watched::Watched;
use super::workers::{start_workers, Workers, WORKER_RESTART_DELAY};
use crate::config::Config;
use discovery::{listed_early, listing};

/// How far ahead something that is not due again (a listing under way, or none to make) is
/// put: far enough to mean never, near enough not to overflow an `Instant`.
const NOT_DUE: Duration = Duration::from_secs(u32::MAX as u64);
/// How often the store is tried while its writes fail.
const STORE_PROBE_EVERY: Duration = Duration::from_secs(5);
/// How often the leader reads the changes pushed to other replicas.
const POKES_EVERY: Duration = Duration::from_millis(500);
/// How often the leader writes its report for the other replicas' status pages.
const REPORT_EVERY: Duration = Duration::from_secs(3);
/// How long shutdown waits for polls and deliveries in flight.
pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// How long a resource view not written again is kept: a wait that comes this late after a
/// deploy request ended still learns how it ended.
const VIEWS_KEPT: time::Duration = time::Duration::days(7);
/// How often the views are pruned.
const VIEWS_PRUNED_EVERY: Duration = Duration::from_secs(3600);
/// How often the leader looks for Slack clicks another replica recorded and did not do.
const CLICKS_EVERY: Duration = Duration::from_secs(30);
/// How often the loop looks for firing alerts due to be sent again (each channel's `resend`
/// is at least 10 s).
const ALERTS_CHECKED_EVERY: Duration = Duration::from_secs(1);

/// What one listing of the watched databases found: the targets, and the organizations that
/// could not be listed.
type Listed = (Vec<Target>, Vec<(String, String)>);

/// What a poll task gives back: `None` when shutdown dropped it before it committed anything.
type Polled = Option<Result<PollReport, PollFailure>>;

/// What follows reloads: the current pipeline, which the receiver follows, and its delivery,
/// which the channels' workers follow.
#[derive(Clone)]
pub(super) struct Current {
    pipeline: watch::Sender<Arc<Pipeline>>,
    delivery: watch::Sender<Arc<super::delivery::Delivery>>,
}

impl Current {
    /// `pipeline` as the current one, and the receiver's view of it.
    pub(super) fn new(pipeline: &Arc<Pipeline>) -> (Self, watch::Receiver<Arc<Pipeline>>) {
        let (sender, receiver) = watch::channel(Arc::clone(pipeline));
        let current = Self {
            pipeline: sender,
            delivery: watch::Sender::new(Arc::clone(&pipeline.delivery)),
        };
        (current, receiver)
    }

    /// Makes `next` the current pipeline.
    pub(super) fn follow(&self, next: &Arc<Pipeline>) {
        self.pipeline.send_replace(Arc::clone(next));
        self.delivery.send_replace(Arc::clone(&next.delivery));
    }

    /// What the workers follow.
    pub(super) fn deliveries(&self) -> watch::Receiver<Arc<super::delivery::Delivery>> {
        self.delivery.subscribe()
    }
}

/// The addresses the servers were started on, which a reload cannot move.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listens {
    pub(super) admin: Option<SocketAddr>,
    pub(super) receiver: Option<SocketAddr>,
}

/// The running service.
pub(super) struct Loop {
    handles: Handles,
    shutdown: CancellationToken,
    /// The webhook checks it started.
    tracker: TaskTracker,
    listens: Listens,
    /// The current configuration's pipeline, and where the workers and the receiver follow it.
    pipeline: Arc<Pipeline>,
    current: Current,
    /// The receiver's webhook secrets, which follow reloads.
    secrets: watch::Sender<Vec<notifier::Secret>>,
    workers: Workers,
    scheduler: Scheduler,
    polls: JoinSet<Polled>,
    /// Which target each poll task polls, to free its slot whatever becomes of the task.
    polling: HashMap<tokio::task::Id, Target>,
    /// The listing of the watched databases runs as a task: a slow organization holds up
    /// nothing else.
    discovery: Option<JoinHandle<Listed>>,
    /// Each organization's databases as soon as the listing under way knows them.
    listed_early: Option<mpsc::UnboundedReceiver<(String, Vec<Target>)>>,
    discovery_failures: u32,
    /// When each periodic chore is due: the listing, the webhooks (their secrets, whether push
    /// is healthy), the store probe, other replicas' pokes, the leader's report, the digests,
    /// Slack clicks left undone.
    chores: Chores,
    /// The service tokens whose budget cannot serve the configured intervals (said once, until
    /// it can).
    overloaded: HashSet<String>,
    /// When each Alertmanager channel's firing alerts were last sent again, and the task
    /// sending them (one at a time per channel).
    resent: HashMap<String, (Instant, JoinHandle<()>)>,
}

impl Loop {
    pub(super) fn new(
        handles: Handles,
        pipeline: Arc<Pipeline>,
        current: Current,
        secrets: watch::Sender<Vec<notifier::Secret>>,
        listens: Listens,
        shutdown: CancellationToken,
    ) -> Self {
        let now = Instant::now();
        let mut service = Self {
            scheduler: Scheduler::new(pipeline.config.poll),
            handles,
            shutdown,
            tracker: TaskTracker::new(),
            listens,
            pipeline,
            current,
            secrets,
            workers: Workers::new(),
            polls: JoinSet::new(),
            polling: HashMap::new(),
            discovery: None,
            listed_early: None,
            discovery_failures: 0,
            chores: Chores::new(now),
            overloaded: HashSet::new(),
            resent: HashMap::new(),
        };
        // One delivery worker per channel, so a slow or failing receiver holds up only itself.
        service.start_workers(Duration::ZERO);
        service
    }

    /// Runs until shutdown, or until the store has failed too long.
    pub(super) async fn run(
        &mut self,
        pushes: &mut mpsc::Receiver<Inbound>,
        reloads: &mut mpsc::Receiver<Config>,
    ) -> anyhow::Result<()> {
        // The databases named in the configuration are polled at once, before any listing
        // (of `["*"]` organizations, of the databases' kinds) ends.
        let named = Watched::named(&self.pipeline.config);
        self.watch(&named, |_| true, Instant::now()).await;
        loop {
            let wake_at = self.start_due().await?;
            tokio::select! {
                () = self.shutdown.cancelled() => return Ok(()),
                // A write failed somewhere (a poll, the receiver, a worker): looked at now.
                () = self.handles.health.failure() => {}
                Some((organization, targets)) = listed_early(&mut self.listed_early) => {
                    // One organization listed: its databases are watched now, the others'
                    // as they come.
                    self.watch(&targets, |target| target.organization != organization, Instant::now())
                        .await;
                }
                listed = listing(&mut self.discovery), if self.discovery.is_some() => {
                    self.discovery = None;
                    self.listed_early = None;
                    self.listed(listed).await;
                }
                Some((channel, panicked)) = self.workers.ended(), if !self.workers.is_empty() => {
                    self.worker_ended(&channel, panicked);
                }
                Some(joined) = self.polls.join_next_with_id(), if !self.polls.is_empty() => {
                    self.poll_ended(joined);
                }
                Some(Inbound::Poll(target)) = pushes.recv() => self.pushed(&target),
                asked = self.handles.board.polls_asked() => {
                    for target in &asked {
                        self.pushed(target);
                    }
                }
                Some(next) = reloads.recv() => self.reload(next).await,
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    /// Starts what is due (a listing, a webhook check, a store probe, polls the budget has room
    /// for) and says when to look again.
    async fn start_due(&mut self) -> anyhow::Result<Instant> {
        let now = Instant::now();
        let receives = self.pipeline.config.receiver.is_some();
        let elected = self.handles.leadership.is_elected();
        // Nothing more can be written to a broken store: given up at once.
        give_up_if_broken(&self.handles.health, &self.pipeline.config)?;
        let store_failing = self.handles.health.failing().is_some();
        self.chores.applies(Chore::WebhookCheck, receives);
        self.chores.applies(Chore::StoreProbe, store_failing);
        self.chores.applies(Chore::Pokes, elected);
        self.chores.applies(Chore::Report, elected);
        for chore in self.chores.due(now) {
            self.do_chore(chore, now).await?;
        }

        let clients = &self.pipeline.clients;
        let mut rooms: Vec<u64> = clients
            .all()
            .iter()
            .map(|client| u64::from(client.budget().room(Priority::Low)))
            .collect();
        let due = self.scheduler.due_shared(now, &mut rooms, |target| {
            clients.share(&target.organization)
        });
        for share in &due.short {
            if let Some(client) = clients.all().get(*share) {
                client.budget().note_short();
            }
        }
        for (target, priority) in due.start {
            self.start_poll(target, priority);
        }

        let mut wake_at = [self.scheduler.next_wake(), self.chores.next_wake()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + NOT_DUE);
        if due.blocked {
            // Look again soon: the budget's window slides. "Soon" is a small part of the window
            // (250 ms of a minute), so that time-scaled runs keep the same proportions.
            let window = self.pipeline.config.planetscale.budget_window;
            let recheck =
                (window / 240).clamp(Duration::from_millis(2), Duration::from_millis(250));
            wake_at = wake_at.max(now + recheck);
        }
        Ok(wake_at)
    }

    /// Sends the digests whose time has come (and prunes the journal of polls' events); says
    /// when to look again. A store that fails is looked at again in a few seconds.
    async fn send_digests(&mut self, now: Instant) -> Instant {
        let wall = OffsetDateTime::now_utc();
        let sent = self
            .handles
            .outbox
            .send_digests(&self.pipeline.config.digests, wall)
            .await;
        match sent {
            Ok(next) => {
                let wait = Duration::try_from(next - wall).unwrap_or(Duration::ZERO);
                now + wait.max(Duration::from_millis(200))
            }
            Err(error) => {
                tracing::error!(%error, "cannot send the digests; trying again shortly");
                self.handles.health.failed(&error);
                now + STORE_PROBE_EVERY
            }
        }
    }

    /// Does `chore`, due at `now`, and says when it is due again.
    async fn do_chore(&mut self, chore: Chore, now: Instant) -> anyhow::Result<()> {
        match chore {
            Chore::Discovery => self.start_discovery(),
            Chore::WebhookCheck => {
                self.chores.at(chore, now + super::push::CHECK_INTERVAL);
                self.tracker.spawn(check_webhooks(
                    Arc::clone(&self.pipeline),
                    self.scheduler.targets(),
                    self.shutdown.child_token(),
                ));
            }
            Chore::StoreProbe => {
                self.chores.at(chore, now + STORE_PROBE_EVERY);
                probe_store(&self.handles.store, &self.handles.health).await;
            }
            Chore::Pokes => {
                self.chores.at(chore, now + POKES_EVERY);
                self.take_pokes(now).await;
            }
            Chore::Report => {
                self.chores.at(chore, now + REPORT_EVERY);
                self.handles
                    .board
                    .publish_report(&self.handles.store, now)
                    .await;
            }
            Chore::Digests => {
                let next = self.send_digests(now).await;
                self.chores.at(chore, next);
            }
            Chore::Clicks => {
                self.chores.at(chore, now + CLICKS_EVERY);
                self.tracker
                    .spawn(super::slack_actions::resume(Arc::clone(&self.pipeline)));
            }
            Chore::Alerts => {
                // Without an Alertmanager channel nothing fires: looked at again now and then,
                // for one a reload adds (it has nothing firing before its first delivery).
                let every = if self.resend_alerts(now) {
                    ALERTS_CHECKED_EVERY
                } else {
                    Duration::from_secs(60)
                };
                self.chores.at(chore, now + every);
            }
            Chore::Views => {
                self.chores.at(chore, now + VIEWS_PRUNED_EVERY);
                let before = OffsetDateTime::now_utc() - VIEWS_KEPT;
                if let Err(error) = self.handles.store.prune_views(before).await {
                    tracing::debug!(%error, "cannot forget the resource views of a week ago; trying again later");
                }
            }
        }
        Ok(())
    }

    /// Sends again the firing alerts of each Alertmanager channel whose `resend` has passed
    /// (at once after a start or a failover), unless its last resend is still under way.
    /// Whether there is any such channel.
    fn resend_alerts(&mut self, now: Instant) -> bool {
        let channels = self.pipeline.delivery.alert_channels();
        let any = !channels.is_empty();
        self.resent
            .retain(|name, _| channels.iter().any(|(channel, _)| channel == name));
        for (channel, resend) in channels {
            let busy_or_recent = self
                .resent
                .get(&channel)
                .is_some_and(|(at, task)| !task.is_finished() || now < *at + resend);
            if busy_or_recent {
                continue;
            }
            let delivery = Arc::clone(&self.pipeline.delivery);
            let name = channel.clone();
            let task = tokio::spawn(async move { delivery.resend_firing(&name).await });
            self.resent.insert(channel, (now, task));
        }
        any
    }

    /// Reads what other replicas received: a deploy request pushed to one is polled here as if
    /// pushed here, and a channel another added to is woken.
    async fn take_pokes(&mut self, now: Instant) {
        match self.handles.store.take_pokes().await {
            Ok(pokes) => {
                for target in &pokes.targets {
                    // Another replica received a signed deploy request delivery: as if
                    // this one had, so that the poll it asks for lists deploy requests.
                    self.handles.board.push.note_signed(target, true, now);
                    self.pushed(target);
                }
                for channel in &pokes.channels {
                    self.handles.outbox.wake_named(channel);
                }
            }
            Err(error) => {
                tracing::debug!(%error, "cannot read the changes other replicas received")
            }
        }
    }

    fn start_poll(&mut self, target: Target, priority: Priority) {
        let pipeline = Arc::clone(&self.pipeline);
        let cancelled = self.shutdown.clone();
        let polled = target.clone();
        let task = self.polls.spawn(async move {
            let span = tracing::info_span!("poll", target_db = %polled);
            // A poll still waiting at shutdown is dropped: it has committed nothing.
            tokio::select! {
                result = pipeline.poll(&polled, priority).instrument(span) => Some(result),
                () = cancelled.cancelled() => None,
            }
        });
        self.polling.insert(task.id(), target);
    }

    fn start_workers(&mut self, delay: Duration) {
        start_workers(
            &mut self.workers,
            &self.current.deliveries(),
            &self.pipeline.outbox,
            &self.handles.health,
            &self.shutdown,
            delay,
        );
    }

    /// A delivery worker ended: one that panicked starts again after a pause; one that ended
    /// as its channel was removed and added again starts again too. A channel never has two.
    fn worker_ended(&mut self, channel: &str, panicked: bool) {
        if self.shutdown.is_cancelled() {
            return;
        }
        if panicked {
            let configured = self.pipeline.delivery.channel(channel).is_some();
            self.handles
                .metrics
                .worker_restarts
                .with_label_values(&[channel])
                .inc();
            tracing::error!(channel, configured, "the channel's delivery worker stopped unexpectedly (a bug in pswatch); it starts again");
        }
        let delay = if panicked {
            WORKER_RESTART_DELAY
        } else {
            Duration::ZERO
        };
        self.start_workers(delay);
    }

    /// Records a finished poll (or one whose task panicked) in the scheduler, the budget's
    /// reserve and, last, the status.
    fn poll_ended(&mut self, joined: Result<(tokio::task::Id, Polled), JoinError>) {
        let (id, result) = match joined {
            Ok((id, Some(result))) => (id, Ok(result)),
            Ok((id, None)) => {
                self.polling.remove(&id);
                return;
            }
            Err(error) => (error.id(), Err(error)),
        };
        let Some(target) = self.polling.remove(&id) else {
            return;
        };
        self.finish_poll(&target, result);
        self.note_budget();
    }

    fn finish_poll(
        &mut self,
        target: &Target,
        result: Result<Result<PollReport, PollFailure>, JoinError>,
    ) {
        let pipeline = &self.pipeline;
        let now = OffsetDateTime::now_utc();
        let (outcome, error, auth_failure) = match result {
            Ok(Ok(report)) => (
                Outcome::Polled {
                    motion: report.motion,
                    requests: report.requests,
                },
                None,
                false,
            ),
            Ok(Err(error)) => {
                let retry_after = match &error {
                    PollFailure::Api(error) => error.retry_after(),
                    PollFailure::Store(error) => {
                        self.handles.health.failed(error);
                        None
                    }
                };
                let auth_failure =
                    matches!(&error, PollFailure::Api(error) if error.is_auth_failure());
                (
                    Outcome::Failed { retry_after },
                    Some(error.to_string()),
                    auth_failure,
                )
            }
            Err(panicked) => {
                pipeline.metrics.poll_panics.inc();
                (
                    Outcome::Panicked,
                    Some(format!(
                        "the poll stopped unexpectedly (a bug in pswatch): {panicked}"
                    )),
                    false,
                )
            }
        };
        let scheduler = &mut self.scheduler;
        let Some(delay) = scheduler.finished(target, outcome, Instant::now()) else {
            return;
        };
        // The reserve follows the target's new motion before the status shows the poll.
        let clients = &pipeline.clients;
        let share = clients.share(&target.organization);
        let budget = clients.of(&target.organization).budget();
        budget.reserve(scheduler.reserve(budget.window(), |other| {
            clients.share(&other.organization) == share
        }));
        let failures = scheduler.failures(target);
        if let Some(error) = &error {
            if outcome == Outcome::Panicked {
                tracing::error!(target_db = %target, %error, failures, retry_in = ?delay,
                    "poll panicked; the state is unchanged");
            } else {
                tracing::warn!(target_db = %target, %error, failures, retry_in = ?delay,
                    "poll failed; the state is unchanged");
            }
        }
        pipeline.update_status(target, |status| {
            status.last_poll = Some(now);
            status.next_poll = Some(now + delay);
            status.failures = failures;
            status.auth_failure = auth_failure;
            match (outcome, error) {
                (Outcome::Polled { motion, .. }, _) => {
                    status.active = motion == Motion::Active;
                    status.motion = motion;
                    status.last_success = Some(now);
                    status.last_error = None;
                }
                (_, error) => status.last_error = error,
            }
        });
    }

    /// Says once per service token, in the log and the status, when its budget cannot serve
    /// the configured intervals of its databases, and again when it can.
    fn note_budget(&mut self) {
        let clients = &self.pipeline.clients;
        let mut notes = Vec::new();
        for (share, (client, name)) in clients.all().iter().zip(clients.names()).enumerate() {
            let demand = self
                .scheduler
                .demand_per_minute(|target| clients.share(&target.organization) == share);
            let limit = f64::from(client.budget().limit());
            let overloaded = self.overloaded.contains(name);
            if demand < limit * 0.9 && overloaded {
                self.overloaded.remove(name);
                tracing::info!(
                    token = %name,
                    demand = demand.round(),
                    budget = limit,
                    "the budget serves the configured intervals again"
                );
            }
            // Said while it lasts: newly overloaded, or overloaded still.
            if !(demand > limit || self.overloaded.contains(name)) {
                continue;
            }
            let key = if share == 0 {
                "planetscale.requests_per_minute".to_owned()
            } else {
                format!("requests_per_minute of the [[watch]] of organization {name:?}")
            };
            let note = format!(
                "the configured intervals need about {demand:.0} API requests a minute but the budget \
                 ({key}) is {limit:.0}: databases in motion keep their \
                 interval and idle ones are polled in turn, less often than `interval`"
            );
            if !overloaded {
                self.overloaded.insert(name.clone());
                tracing::warn!(token = %name, demand = demand.round(), budget = limit, "{note}");
            }
            notes.push(note);
        }
        self.overloaded
            .retain(|name| clients.names().contains(name));
        self.handles
            .board
            .status
            .set_budget_note((!notes.is_empty()).then(|| notes.join("; ")));
    }

    /// PlanetScale pushed a change of `target`: it is polled now.
    fn pushed(&mut self, target: &Target) {
        if self.scheduler.push(target, Instant::now()) {
            tracing::debug!(target_db = %target, "PlanetScale pushed a change; polling it now");
        } else {
            tracing::debug!(target_db = %target, "a webhook delivery for a database that is not watched");
        }
    }

    /// Applies a reloaded configuration: a new pipeline, the budget's limit and the intervals
    /// changed in place, the workers following, the targets listed again. A configuration the
    /// pipeline cannot be built from leaves the running one.
    async fn reload(&mut self, next: Config) {
        let Some(next) = apply_config(
            &self.handles,
            &self.current,
            &self.secrets,
            self.listens,
            next,
        ) else {
            return;
        };
        self.pipeline = next;
        self.scheduler.set_intervals(self.pipeline.config.poll);
        // An Alertmanager channel added or changed: its resends follow from now.
        self.chores.at(Chore::Alerts, Instant::now());
        if let Err(error) = self.pipeline.delivery.bury_unconfigured().await {
            tracing::error!(%error, "cannot move the deliveries of removed channels to the dead letters");
        }
        self.start_workers(Duration::ZERO);
        // The watches may have changed: list the targets again now, with them (a listing under
        // way read the old ones).
        if let Some(stale) = self.discovery.take() {
            stale.abort();
        }
        self.listed_early = None;
        self.chores.at(Chore::Discovery, Instant::now());
        // A digest added or moved is scheduled at once.
        self.chores.at(Chore::Digests, Instant::now());
        tracing::info!("configuration reloaded; polls and deliveries go on with it");
    }

    /// The pipeline of the configuration it runs with now.
    pub(super) fn pipeline(&self) -> Arc<Pipeline> {
        Arc::clone(&self.pipeline)
    }

    /// Finishes the polls and deliveries in flight, for a grace period, and flushes the store.
    pub(super) async fn stop(mut self) -> anyhow::Result<()> {
        tracing::info!("shutting down: finishing polls and deliveries in flight");
        if let Some(discovery) = self.discovery.take() {
            discovery.abort();
        }
        self.tracker.close();
        let drained = async {
            while self.polls.join_next().await.is_some() {}
            self.workers.wait().await;
            self.tracker.wait().await;
        };
        // A broken store can write nothing that is in flight: no grace then.
        let broken = self.handles.health.broken().is_some();
        let grace = if broken {
            Duration::ZERO
        } else {
            SHUTDOWN_GRACE
        };
        if tokio::time::timeout(grace, drained).await.is_err() {
            tracing::warn!(
                ?grace,
                "work still running at the end of the grace period; it stays in the outbox"
            );
        }
        if broken {
            return Ok(());
        }
        self.handles.store.flush().await?;
        tracing::info!(
            pending = self.handles.store.outbox_len().await.ok(),
            "stopped"
        );
        Ok(())
    }
}

/// The webhooks' secrets the configuration gives the receiver.
pub(super) fn receiver_secrets(config: &Config) -> Vec<notifier::Secret> {
    config
        .receiver
        .as_ref()
        .map(|receiver| receiver.secrets.clone())
        .unwrap_or_default()
}

/// Applies a reloaded configuration to what outlives a loop: the receiver's secrets, the
/// pipeline the workers and the receiver follow (its clients change the budgets' limits in
/// place) and what the status page shows. `None` (the running configuration stays) when its pipeline cannot be built.
pub(super) fn apply_config(
    handles: &Handles,
    current: &Current,
    secrets: &watch::Sender<Vec<notifier::Secret>>,
    listens: Listens,
    next: Config,
) -> Option<Arc<Pipeline>> {
    if next.admin_listen != listens.admin {
        tracing::warn!(
            "admin.listen cannot change on reload; restart pswatch to move the admin server"
        );
    }
    if next.receiver.as_ref().map(|receiver| receiver.listen) != listens.receiver {
        tracing::warn!(
            "receiver.listen cannot change on reload; restart pswatch to move the webhook receiver"
        );
    }
    secrets.send_replace(receiver_secrets(&next));
    let next = match Pipeline::new(next, handles) {
        Ok(next) => Arc::new(next),
        Err(error) => {
            tracing::error!(%error, "configuration rejected on reload; the running one stays");
            return None;
        }
    };
    handles.board.show(&next.config);
    // The workers pick the new pipeline up at their next step; those of removed channels stop,
    // new channels get one.
    current.follow(&next);
    Some(next)
}
