//! What pswatch knows of PlanetScale's webhooks per database: their secrets (read from the API,
//! so deliveries can be verified without configuring each secret), whether push is healthy, and
//! how often an idle database with healthy push still lists its deploy requests.
//!
//! A database has healthy push when its webhook list shows an enabled webhook to
//! `[receiver] public_url` subscribed to every `deploy_request.*` event whose last delivery did
//! not fail, or when a signed delivery for it arrived within the last hour. Its idle polls then
//! list deploy requests only every [`SAFETY_NET`]th time; workflows, which PlanetScale never
//! pushes, are listed every time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use diff_engine::Target;
use notifier::Secret;
use poller::Webhook;
use serde::Serialize;
use tokio::time::Instant;

/// How often the webhook lists are read again.
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_secs(600);
/// How long a signed delivery keeps push healthy by itself.
pub(crate) const SIGNED_FRESH: Duration = Duration::from_secs(3600);
/// The least time between two reads of one database's webhooks on behalf of a delivery.
pub(crate) const FETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
/// An idle database with healthy push lists its deploy requests on every this-many-th poll.
pub(crate) const SAFETY_NET: u32 = 10;

#[derive(Debug, Default, Clone)]
struct PushState {
    /// The secrets of the database's webhooks, as last read.
    secrets: Vec<Secret>,
    /// When its webhooks were last read on behalf of a delivery (or tried).
    claimed_at: Option<Instant>,
    /// Whether the last read showed a webhook that gives push.
    listed: bool,
    /// When the last signed delivery for it arrived.
    last_signed: Option<Instant>,
    /// A signed deploy request delivery came since the last poll: the next lists them.
    pushed: bool,
    /// Idle polls since deploy requests were last listed.
    idle_polls: u32,
}

/// How push stands for one database, for `/api/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct PushView {
    pub(crate) healthy: bool,
    /// Whether its webhook list shows a webhook that gives push.
    pub(crate) webhook_listed: bool,
    /// Seconds since the last signed delivery, if one came.
    pub(crate) last_delivery_seconds_ago: Option<u64>,
}

/// Push, per database; shared by the receiver, the pipeline and the admin server.
#[derive(Debug, Default)]
pub(crate) struct PushBoard {
    states: Mutex<HashMap<Target, PushState>>,
    /// Whether the receiver is on; without it, push is not shown at all.
    enabled: std::sync::atomic::AtomicBool,
}

impl PushBoard {
    fn with<T>(&self, target: &Target, change: impl FnOnce(&mut PushState) -> T) -> T {
        let mut states = self
            .states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(states.entry(target.clone()).or_default())
    }

    /// Notes a read of `target`'s webhooks: their secrets, and whether one gives push to
    /// `public_url`.
    pub(crate) fn note_webhooks(
        &self,
        target: &Target,
        webhooks: &[Webhook],
        public_url: Option<&str>,
    ) {
        self.with(target, |state| {
            state.secrets = webhooks
                .iter()
                .filter_map(|webhook| webhook.secret.as_deref().map(Secret::new))
                .collect();
            state.listed = public_url.is_some_and(|public_url| {
                webhooks
                    .iter()
                    .any(|webhook| poller::gives_push(webhook, public_url))
            });
        });
    }

    /// Whether `target`'s webhooks may be read on behalf of a delivery now (at most once a
    /// [`FETCH_AT_MOST_EVERY`]); if so, the read is counted as done now.
    pub(crate) fn claim_fetch(&self, target: &Target, now: Instant) -> bool {
        self.with(target, |state| {
            let may = state
                .claimed_at
                .is_none_or(|at| now.saturating_duration_since(at) >= FETCH_AT_MOST_EVERY);
            if may {
                state.claimed_at = Some(now);
            }
            may
        })
    }

    /// The secrets read from `target`'s webhooks.
    pub(crate) fn secrets(&self, target: &Target) -> Vec<Secret> {
        self.with(target, |state| state.secrets.clone())
    }

    /// A signed delivery for `target` arrived; `deploy_request` if it was about a deploy
    /// request (the next poll lists them).
    pub(crate) fn note_signed(&self, target: &Target, deploy_request: bool, now: Instant) {
        self.with(target, |state| {
            state.last_signed = Some(now);
            state.pushed |= deploy_request;
        });
    }

    /// Whether `target` has healthy push.
    pub(crate) fn healthy(&self, target: &Target, now: Instant) -> bool {
        self.with(target, |state| is_healthy(state, now))
    }

    /// Whether this poll of `target` lists its deploy requests: always, unless it is `idle`
    /// with healthy push and no delivery asked for this poll, in which case every
    /// [`SAFETY_NET`]th idle poll does.
    pub(crate) fn lists_deploy_requests(&self, target: &Target, idle: bool, now: Instant) -> bool {
        self.with(target, |state| {
            let pushed = std::mem::take(&mut state.pushed);
            if pushed || !idle || !is_healthy(state, now) {
                state.idle_polls = 0;
                return true;
            }
            state.idle_polls += 1;
            if state.idle_polls >= SAFETY_NET {
                state.idle_polls = 0;
                true
            } else {
                false
            }
        })
    }

    /// Forgets a database no longer watched.
    pub(crate) fn forget(&self, target: &Target) {
        self.states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(target);
    }

    /// Notes whether the receiver is on (from the configuration, at start and on reload).
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled
            .store(enabled, std::sync::atomic::Ordering::Relaxed);
    }

    /// How push stands for each database pswatch heard of; nothing while the receiver is off.
    pub(crate) fn snapshot(&self, now: Instant) -> BTreeMap<String, PushView> {
        if !self.enabled.load(std::sync::atomic::Ordering::Relaxed) {
            return BTreeMap::new();
        }
        self.states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(target, state)| {
                (
                    target.to_string(),
                    PushView {
                        healthy: is_healthy(state, now),
                        webhook_listed: state.listed,
                        last_delivery_seconds_ago: state
                            .last_signed
                            .map(|at| now.saturating_duration_since(at).as_secs()),
                    },
                )
            })
            .collect()
    }
}

fn is_healthy(state: &PushState, now: Instant) -> bool {
    state.listed
        || state
            .last_signed
            .is_some_and(|at| now.saturating_duration_since(at) < SIGNED_FRESH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(url: &str, events: &[&str], last_sent_success: Option<bool>) -> Webhook {
        Webhook {
            id: "wh1".into(),
            url: url.into(),
            secret: Some("s3cret".into()),
            enabled: true,
            last_sent_success,
            last_sent_at: None,
            events: events.iter().map(|event| (*event).to_owned()).collect(),
        }
    }

    const URL: &str = "https://pswatch.example.com/planetscale";

    #[tokio::test(start_paused = true)]
    async fn push_is_healthy_by_the_webhook_list_or_a_recent_delivery() {
        let board = PushBoard::default();
        board.set_enabled(true);
        let target = Target::new("acme", "commerce");
        let now = Instant::now();
        assert!(!board.healthy(&target, now));
        let all = poller::DEPLOY_REQUEST_EVENTS;
        for (webhooks, healthy) in [
            (vec![webhook(URL, all, Some(true))], true),
            (vec![webhook(&format!("{URL}/"), all, None)], true),
            (
                vec![Webhook {
                    last_sent_at: Some("2026-11-23T09:00:00.000Z".into()),
                    ..webhook(URL, all, Some(false))
                }],
                false,
            ),
            // Never sent: the API says false, with no time.
            (vec![webhook(URL, all, Some(false))], true),
            (vec![webhook(URL, &all[..3], Some(true))], false),
            (
                vec![webhook("https://elsewhere.example.com/", all, Some(true))],
                false,
            ),
            (
                vec![Webhook {
                    enabled: false,
                    ..webhook(URL, all, Some(true))
                }],
                false,
            ),
        ] {
            board.note_webhooks(&target, &webhooks, Some(URL));
            assert_eq!(board.healthy(&target, now), healthy, "{webhooks:?}");
        }
        assert_eq!(board.secrets(&target).len(), 1);
        // A signed delivery makes it healthy for an hour.
        board.note_signed(&target, false, now);
        assert!(board.healthy(&target, now + Duration::from_secs(3599)));
        assert!(!board.healthy(&target, now + SIGNED_FRESH));
        let view = board.snapshot(now + Duration::from_secs(5));
        assert_eq!(view["acme/commerce"].last_delivery_seconds_ago, Some(5));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_polls_with_healthy_push_list_deploy_requests_every_tenth_time() {
        let board = PushBoard::default();
        let target = Target::new("acme", "commerce");
        let now = Instant::now();
        // Without push, every poll lists them.
        assert!((0..20).all(|_| board.lists_deploy_requests(&target, true, now)));
        board.note_webhooks(
            &target,
            &[webhook(URL, poller::DEPLOY_REQUEST_EVENTS, Some(true))],
            Some(URL),
        );
        let listed: Vec<bool> = (0..20)
            .map(|_| board.lists_deploy_requests(&target, true, now))
            .collect();
        assert_eq!(listed.iter().filter(|listed| **listed).count(), 2);
        assert!(listed[9] && listed[19]);
        // A database in motion lists them every time; a push asks the next poll to.
        assert!(board.lists_deploy_requests(&target, false, now));
        board.note_signed(&target, true, now);
        assert!(board.lists_deploy_requests(&target, true, now));
        assert!(!board.lists_deploy_requests(&target, true, now));
    }

    #[tokio::test(start_paused = true)]
    async fn reads_for_deliveries_are_at_most_once_a_minute() {
        let board = PushBoard::default();
        let target = Target::new("acme", "commerce");
        let now = Instant::now();
        assert!(board.claim_fetch(&target, now));
        assert!(!board.claim_fetch(&target, now + Duration::from_secs(59)));
        assert!(board.claim_fetch(&target, now + FETCH_AT_MOST_EVERY));
    }
}
