//! The poll pipeline of one configuration: observe a target, diff, and commit the next state
//! with its outbox entries. A reload builds a new one over the same long-lived handles; polls
//! in flight finish with the one they started with.

use std::collections::BTreeMap;
use std::sync::Arc;

use diff_engine::{diff, Motion, Target};
use notifier::Silence;
use poller::{Client, PollError, Priority};
use store::{NewDelivery, Store, StoreError};
use time::OffsetDateTime;

use crate::config::Config;
use crate::service::board::Board;
use crate::service::clients::Clients;
use crate::service::delivery::Delivery;
use crate::service::handles::Handles;
use crate::service::metrics::Metrics;
use crate::service::outbox::Outbox;
use crate::service::status::{RecentEvent, TargetStatus};
use crate::service::watched::{Watched, DISCOVERY_INTERVAL};

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PollFailure {
    #[error(transparent)]
    Api(#[from] PollError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one successful poll did.
#[derive(Debug, Clone)]
pub(crate) struct PollReport {
    /// API requests the poll made.
    pub(crate) requests: u64,
    pub(crate) events: usize,
    /// How urgently the target deserves its next poll.
    pub(crate) motion: Motion,
}

/// Where one event goes.
struct Routed {
    channels: Vec<String>,
    deliveries: Vec<NewDelivery>,
    /// What the status page lists of it, with the silence that held it back.
    recent: RecentEvent,
}

/// What a reading of one of the slower kinds gave, or `None`, said in the log, when it failed.
fn kept<T>(target: &Target, what: &str, read: Result<T, PollError>) -> Option<T> {
    match read {
        Ok(read) => Some(read),
        Err(error) => {
            tracing::warn!(target_db = %target, %error, "cannot read the {what}; they are read again at the next reading of the slower kinds (at once when nothing else of them was read)");
            None
        }
    }
}

/// How long a database's production branches are kept before they are listed again: as long
/// as the watched databases are.
const BRANCHES_KEPT: std::time::Duration = DISCOVERY_INTERVAL;

/// The room the budget must have for idle work before the slower kinds are read: a reading
/// takes a few requests (the branches, then each production branch's backups and changes, the
/// keyspaces and their resizes, the schedules, the recommendations).
const SLOW_READ_ROOM: u32 = 8;

/// How long an acknowledgement from Slack holds back its episode's reminders at most.
const ACKNOWLEDGEMENTS_KEPT: time::Duration = time::Duration::days(30);

/// One configuration's pipeline: it polls the watched targets, diffs and routes what changed
/// into the outbox, and hands the outbox to its [`Delivery`].
pub(crate) struct Pipeline {
    pub(crate) config: Config,
    /// One API client per service token.
    pub(crate) clients: Clients,
    /// What is read: the targets' states, the silences; memos and clicks.
    pub(crate) store: Store,
    /// Where the polls' and the pushed events' deliveries go.
    pub(crate) outbox: Outbox,
    /// What takes from the outbox what this pipeline puts in.
    pub(crate) delivery: Arc<Delivery>,
    pub(crate) metrics: Arc<Metrics>,
    /// Where the targets' status, the recent events and push are shown.
    pub(crate) board: Arc<Board>,
    /// The watched databases, and what is known of the named ones' kinds.
    watched: Watched,
    /// Each database's production branches, and when they were listed.
    branches: std::sync::Mutex<BTreeMap<Target, (tokio::time::Instant, poller::Read<String>)>>,
}

impl Pipeline {
    /// The pipeline of `config`, over the service's long-lived parts.
    pub(crate) fn new(config: Config, handles: &Handles) -> anyhow::Result<Self> {
        let clients = Clients::new(&config, &handles.board.budgets, Some(&handles.metrics))?;
        let delivery = Arc::new(Delivery::new(&config.channels, handles)?);
        Ok(Self {
            config,
            clients,
            store: handles.store.clone(),
            outbox: handles.outbox.clone(),
            delivery,
            metrics: Arc::clone(&handles.metrics),
            board: Arc::clone(&handles.board),
            watched: Watched::default(),
            branches: std::sync::Mutex::default(),
        })
    }

    /// Routes one of PlanetScale's own events (pushed, not polled), writes its outbox entries
    /// with the receipt of its `delivery`, flushed, and wakes the channels it went to.
    pub(crate) async fn route_pushed(
        &self,
        event: &diff_engine::Event,
        delivery: store::Digest,
    ) -> Result<(), StoreError> {
        let now = OffsetDateTime::now_utc();
        let routed = self.route(event, &self.silences().await, now);
        tracing::info!(target_db = %event.target(), event_id = %event.id, event_type = event.type_name(),
            change = %notifier::render::change(event), channels = ?routed.channels,
            silenced_by = routed.recent.silenced_by.as_deref(), "PlanetScale event received");
        self.outbox
            .add_pushed(delivery, routed.deliveries, now)
            .await?;
        self.board.status.note_events([routed.recent]);
        Ok(())
    }

    /// The silences in force: the configuration's recurring windows and those kept in the
    /// store. When the store's cannot be read, only the configuration's hold (an alert too
    /// many, never one lost).
    async fn silences(&self) -> Vec<Silence> {
        self.store.all_silences(&self.config.silences)
            .await
            .unwrap_or_else(|error| {
            tracing::warn!(%error, "the silences added cannot be read; only the configuration's hold");
            self.config.silences.clone()
        })
    }

    /// Counts `event` and routes it: the channels it goes to and an outbox delivery for each,
    /// or none when a silence holds it back.
    fn route(
        &self,
        event: &diff_engine::Event,
        silences: &[Silence],
        now: OffsetDateTime,
    ) -> Routed {
        self.metrics
            .events
            .with_label_values(&[event.type_name()])
            .inc();
        let mut recent = RecentEvent::of(event);
        if let Some(silence) = notifier::silenced_by(silences, event, now) {
            self.metrics
                .events_silenced
                .with_label_values(&[event.type_name()])
                .inc();
            recent.silenced_by = Some(silence.id.clone());
            return Routed {
                channels: Vec::new(),
                deliveries: Vec::new(),
                recent,
            };
        }
        let channels = self.config.router.channels_for(event);
        let deliveries = channels
            .iter()
            .map(|channel| NewDelivery {
                channel: channel.clone(),
                event: event.clone(),
            })
            .collect();
        Routed {
            channels,
            deliveries,
            recent,
        }
    }

    /// Whether the configuration watches `target` (its organization, and the database by name
    /// or all of them).
    pub(crate) fn watches(&self, target: &Target) -> bool {
        self.config.watches.iter().any(|watch| {
            watch.organization == target.organization
                && watch
                    .databases
                    .as_ref()
                    .is_none_or(|databases| databases.contains(&target.database))
        })
    }

    /// What is watched of `target`: the kinds of every `[[watch]]` that covers it.
    pub(crate) fn resources(&self, target: &Target) -> crate::config::Resources {
        self.config
            .watches
            .iter()
            .filter(|watch| {
                watch.organization == target.organization
                    && watch
                        .databases
                        .as_ref()
                        .is_none_or(|databases| databases.contains(&target.database))
            })
            .fold(crate::config::Resources::NONE, |all, watch| {
                all.add(watch.resources)
            })
    }

    /// The watched databases (see [`Watched::targets`]).
    pub(crate) async fn targets(&self) -> (Vec<Target>, Vec<(String, PollError)>) {
        self.watched.targets(&self.config, &self.clients).await
    }

    /// The watched databases, each organization's told to `listed` as soon as it is known (see
    /// [`Watched::targets_as_listed`]).
    pub(crate) async fn targets_as_listed(
        &self,
        listed: impl FnMut(&str, &[Target]),
    ) -> (Vec<Target>, Vec<(String, PollError)>) {
        self.watched
            .targets_as_listed(&self.config, &self.clients, listed)
            .await
    }

    /// Polls `target` once: observe, diff against the stored state, and commit the next state
    /// with one outbox entry per routed (event, channel), flushed before returning. A failed
    /// observation changes nothing.
    pub(crate) async fn poll(
        &self,
        target: &Target,
        priority: Priority,
    ) -> Result<PollReport, PollFailure> {
        let result = self.poll_once(target, priority).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        let name = target.to_string();
        self.metrics
            .polls
            .with_label_values(&[name.as_str(), outcome])
            .inc();
        if result.is_ok() {
            let now = OffsetDateTime::now_utc().unix_timestamp() as f64;
            self.metrics
                .last_successful_poll
                .with_label_values(&[name.as_str()])
                .set(now);
        }
        result
    }

    async fn poll_once(
        &self,
        target: &Target,
        priority: Priority,
    ) -> Result<PollReport, PollFailure> {
        let previous = self.store.target_state(target).await?;
        let client = self.clients.of(&target.organization).for_poll(priority);
        // An idle database whose deploy requests PlanetScale pushes lists them only now and
        // then; the first poll (the baseline) always does.
        let idle = previous
            .as_ref()
            .is_some_and(|previous| previous.motion() == Motion::Idle);
        let deploy_requests = previous.is_none()
            || self
                .board
                .push
                .lists_deploy_requests(target, idle, tokio::time::Instant::now());
        let mut resources = self.resources(target);
        if self.watched.is_postgres(target) {
            resources.workflows = false;
            resources.deploy_requests = false;
        }
        let mut observation = if resources.workflows || resources.deploy_requests {
            let observed = client
                .observe_scoped(target, previous.as_ref(), deploy_requests)
                .await;
            self.note_requests(target, client.poll_requests());
            observed?
        } else {
            diff_engine::Observation::default()
        };
        let now = OffsetDateTime::now_utc();
        let slow_requests = self
            .observe_slower(
                target,
                previous.as_ref(),
                resources,
                priority,
                &mut observation,
                now,
            )
            .await;
        if slow_requests > 0 {
            self.note_requests(target, client.poll_requests() + slow_requests);
        }
        let result = diff(
            target,
            previous.as_ref(),
            &observation,
            now,
            self.config.diff_options(),
        );
        for anomaly in &result.anomalies {
            self.metrics
                .anomalies
                .with_label_values(&[target.to_string().as_str(), anomaly.kind()])
                .inc();
            tracing::warn!(target_db = %target, kind = anomaly.kind(), %anomaly, "odd data from the API");
        }
        let mut deliveries = Vec::new();
        let mut recent = Vec::new();
        let silences = if result.events.is_empty() {
            Vec::new()
        } else {
            self.silences().await
        };
        // Reminders of a wait or stall someone acknowledged from Slack are held back.
        let acknowledged: std::collections::HashSet<(String, i64)> = if result
            .events
            .iter()
            .any(|event| notifier::episode_of(event).is_some())
        {
            self.store
                .acknowledgements(now - ACKNOWLEDGEMENTS_KEPT)
                .await?
                .into_iter()
                .collect()
        } else {
            std::collections::HashSet::new()
        };
        for event in result
            .events
            .iter()
            .filter(|event| resources.reports(event))
        {
            let episode = notifier::episode_of(event).zip(model::ResourceKey::of(event));
            if let Some((since, resource)) = episode {
                if acknowledged.contains(&(resource.to_string(), since)) {
                    tracing::info!(target_db = %target, event_id = %event.id, event_type = event.type_name(),
                        "reminder held back: its wait was acknowledged in Slack");
                    let mut held = RecentEvent::of(event);
                    held.silenced_by = Some("acknowledged in Slack".into());
                    recent.push(held);
                    continue;
                }
            }
            let routed = self.route(event, &silences, now);
            tracing::info!(target_db = %target, event_id = %event.id, event_type = event.type_name(),
                change = %notifier::render::change(event), channels = ?routed.channels,
                silenced_by = routed.recent.silenced_by.as_deref(), "transition detected");
            deliveries.extend(routed.deliveries);
            recent.push(routed.recent);
        }
        let report = PollReport {
            requests: client.poll_requests() + slow_requests,
            events: result.events.len(),
            motion: result.next.motion(),
        };
        // A poll that changed nothing has nothing to write: skipping the commit spares a disk
        // flush per poll, most polls of a quiet fleet.
        if !deliveries.is_empty() || previous.as_ref() != Some(&result.next) {
            // Digests summarize every event of their databases, routed or not.
            let journal: &[diff_engine::Event] = if self.config.digests.is_empty() {
                &[]
            } else {
                &result.events
            };
            self.outbox
                .commit(target, &result.next, journal, deliveries, now)
                .await?;
            // Said once it is written: a process stopped before has recorded nothing.
            if previous.is_none() {
                tracing::info!(target_db = %target, workflows = result.next.workflows.len(),
                    deploy_requests = result.next.deploy_requests.len(), "baseline recorded");
            }
            self.board.status.note_events(recent);
        }
        self.keep_views(target, &observation, &result, now).await;
        if let Some(backups) = &observation.backups {
            self.board.fleet.saw_backups(target, backups);
        }
        Ok(report)
    }

    /// Keeps what this poll saw of the target's workflows and deploy requests where it shows
    /// something new, and tells the waiters. A view that cannot be written is written at the
    /// next poll that sees a change: logged, the poll stands.
    async fn keep_views(
        &self,
        target: &Target,
        observation: &diff_engine::Observation,
        result: &diff_engine::Diff,
        now: OffsetDateTime,
    ) {
        if observation.workflows.is_empty() && observation.deploy_requests.is_empty() {
            return;
        }
        let kept = async {
            let previous = self.store.views_of(target).await?;
            let changed = crate::service::views::changed_views(
                target,
                observation,
                &result.next,
                &result.events,
                &previous,
                now,
            );
            self.store.put_views(&changed).await?;
            let any = !changed.is_empty();
            // What the store now keeps of the target: the state metrics show it.
            self.board
                .fleet
                .saw(target, previous.into_iter().chain(changed));
            Ok::<_, StoreError>(any)
        };
        match kept.await {
            Ok(true) => self.board.views_changed(),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(target_db = %target, %error, "cannot keep what the poll saw for the API's reads and waits");
            }
        }
    }

    /// Reads the slower kinds `resources` asks for (backups, resizes, maintenance, schema
    /// recommendations) into `observation` when they are due: every `slow_interval`, and at
    /// every poll while a resize is under way. They come after workflows and deploy requests:
    /// they spend only what idle work may of the token's budget (never the reserve of
    /// databases in motion), wait for a later poll while that is nearly spent, and while
    /// other databases' polls wait for room spend at most a quarter of the budget; a resize
    /// under way is followed at the poll's own `priority`. One kind that cannot be read costs
    /// the others nothing, and is read again at the next reading. Gives the requests it made.
    async fn observe_slower(
        &self,
        target: &Target,
        previous: Option<&diff_engine::TargetState>,
        resources: crate::config::Resources,
        priority: Priority,
        observation: &mut diff_engine::Observation,
        now: OffsetDateTime,
    ) -> u64 {
        let wanted = resources.backups
            || resources.resizes
            || resources.maintenance
            || resources.schema_recommendations;
        let resizing = previous.is_some_and(|previous| {
            previous
                .resizes
                .values()
                .any(|resize| diff_engine::Resize::in_motion(&resize.state))
        });
        let due = resizing
            || previous
                .and_then(|previous| previous.slow_polled_at)
                .is_none_or(|at| {
                    std::time::Duration::try_from(now - at).unwrap_or_default()
                        >= self.config.poll.slow_interval
                });
        if !wanted || !due {
            return 0;
        }
        let client = self.clients.of(&target.organization);
        let budget = client.budget();
        // While polls wait for room, the slower kinds spend at most their share (a quarter) of
        // the budget: they are read less often than `slow_interval`, and never stopped.
        let slower = self.clients.slower(&target.organization);
        let spent_share = budget.is_short() && slower.room(Priority::High) < SLOW_READ_ROOM;
        if !resizing && (budget.room(Priority::Low) < SLOW_READ_ROOM || spent_share) {
            tracing::debug!(target_db = %target,
                "the slower kinds wait for a later poll: the budget has no room for them beside workflows and deploy requests");
            return 0;
        }
        let client = client.for_poll(if resizing { priority } else { Priority::Low });
        if resources.backups || resources.resizes {
            let read = match self.production_branches(&client, target).await {
                Ok(production) => {
                    let read = client
                        .observe_slow(target, &production, resources.backups, resources.resizes)
                        .await;
                    if read.is_err() {
                        // A branch deleted since it was listed: list them again next time.
                        self.forget_branches(target);
                    }
                    read
                }
                Err(error) => Err(error),
            };
            if let Some(read) = kept(target, "production branches' backups or resizes", read) {
                if let Some(backups) = read.backups {
                    observation.partial.backups = backups.partial;
                    observation.backups = Some(backups.items);
                }
                if let Some(resizes) = read.resizes {
                    observation.partial.resizes = resizes.partial;
                    observation.resizes = Some(resizes.items);
                }
            }
        }
        if resources.maintenance {
            let read = client.list_maintenance_schedules(target).await;
            if let Some(read) = kept(target, "maintenance schedules", read) {
                observation.partial.maintenance = read.partial;
                observation.maintenance = Some(read.items);
            }
        }
        if resources.schema_recommendations {
            let read = client.list_schema_recommendations(target).await;
            if let Some(read) = kept(target, "schema recommendations", read) {
                observation.partial.recommendations = read.partial;
                observation.recommendations = Some(read.items);
            }
        }
        slower.note_sent(u32::try_from(client.poll_requests()).unwrap_or(u32::MAX));
        client.poll_requests()
    }

    /// `target`'s production branches: listed at most once per [`BRANCHES_KEPT`] (as often as
    /// the watched databases are), kept in between.
    async fn production_branches(
        &self,
        client: &Client,
        target: &Target,
    ) -> Result<poller::Read<String>, PollError> {
        let now = tokio::time::Instant::now();
        let kept = self
            .branches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(target)
            .filter(|(listed, _)| now.duration_since(*listed) < BRANCHES_KEPT)
            .map(|(_, branches)| branches.clone());
        if let Some(branches) = kept {
            return Ok(branches);
        }
        let branches = client.production_branches(target).await?;
        self.branches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(target.clone(), (now, branches.clone()));
        Ok(branches)
    }

    fn forget_branches(&self, target: &Target) {
        self.branches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(target);
    }

    fn note_requests(&self, target: &Target, requests: u64) {
        self.update_status(target, |status| status.requests_per_poll = requests);
    }

    /// Changes what the status board shows of `target`.
    pub(crate) fn update_status(&self, target: &Target, change: impl FnOnce(&mut TargetStatus)) {
        self.board.status.update(target, change);
    }
}
