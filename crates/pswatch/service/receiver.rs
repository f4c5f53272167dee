//! The receiver of PlanetScale's webhook deliveries, `POST /planetscale`, and of Slack's button
//! clicks, `POST /slack/interactions` (in `receiver/slack.rs`), nothing else, on its
//! own address (`[receiver] listen`), apart from the admin server.
//!
//! Everything that reaches it is treated as hostile: the body is bounded (1 MiB, 413), the
//! `X-PlanetScale-Signature` (hex HMAC-SHA256 of the raw body, keyed with a webhook's secret)
//! is checked in constant time before anything else is looked at (401, no side effect), the
//! body must be a PlanetScale delivery (400), its `timestamp` within ten minutes of now (400),
//! a delivery already acted on is answered 200 and ignored, and requests past a rate are
//! answered 429. It answers at once: a `deploy_request.*` delivery only asks the scheduler to
//! poll that database soon; the poll, not the payload, decides what changed.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use diff_engine::{PlanetScaleEvent, Target};
use hmac::{Hmac, Mac};
use notifier::Secret;
use serde_json::Value;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

mod admission;
mod slack;

use crate::service::board::Board;
use crate::service::handles::Handles;
use crate::service::health::StoreHealth;
use crate::service::metrics::Metrics;
use crate::service::pipeline::Pipeline;
pub(crate) use admission::digest;
use admission::{bucket, Bucket, Claim, Claimed, RefusalLog, Replays};
use poller::Priority;

/// The largest body accepted.
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// How far a delivery's `timestamp` may be from now, either way.
pub(crate) const MAX_SKEW: i64 = 10 * 60;
/// Signed deliveries accepted per second, on average, with bursts of [`BURST`].
const RATE: NonZeroU32 = NonZeroU32::new(20).expect("not zero");
const BURST: NonZeroU32 = NonZeroU32::new(100).expect("not zero");
/// Unsigned requests answered 401 per second, with bursts of [`UNSIGNED_BURST`]; past that
/// they are answered 429. Counted apart, so strangers cannot spend PlanetScale's rate.
const UNSIGNED_RATE: NonZeroU32 = NonZeroU32::new(20).expect("not zero");
const UNSIGNED_BURST: NonZeroU32 = NonZeroU32::new(100).expect("not zero");
/// How long a delivery is remembered against replays (in memory and in the store): past it,
/// the timestamp check refuses a replay anyway.
pub(crate) const REMEMBER_FOR: i64 = MAX_SKEW * 2;
/// The most deliveries remembered against replays (each for [`REMEMBER_FOR`] seconds).
const REMEMBERED: usize = 10_000;

/// A delivery, as far as pswatch reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Delivery {
    /// The event, e.g. `deploy_request.queued`.
    pub(crate) event: String,
    /// The organization and database it is about.
    pub(crate) target: Target,
    /// Unix seconds, as PlanetScale signed it.
    pub(crate) timestamp: i64,
    /// PlanetScale's `resource`.
    pub(crate) resource: Value,
}

/// What the receiver asks of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// Poll this database now: PlanetScale says one of its deploy requests changed.
    Poll(Target),
}

/// Why a request is refused; each is answered with its status and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No signature, or one no secret produces.
    Unsigned,
    /// Not a PlanetScale delivery.
    Malformed(String),
    /// Its timestamp is too old or in the future.
    Stale,
    /// Too many requests.
    Busy,
}

impl Refusal {
    fn answer(&self) -> (StatusCode, String) {
        match self {
            Self::Unsigned => (
                StatusCode::UNAUTHORIZED,
                "the X-PlanetScale-Signature header is missing or wrong\n".into(),
            ),
            Self::Malformed(why) => (
                StatusCode::BAD_REQUEST,
                format!("not a PlanetScale webhook delivery: {why}\n"),
            ),
            Self::Stale => (
                StatusCode::BAD_REQUEST,
                "the delivery's timestamp is more than 10 minutes from now\n".into(),
            ),
            Self::Busy => (StatusCode::TOO_MANY_REQUESTS, "too many requests\n".into()),
        }
    }
}

/// Whether `signature` (hex) is the HMAC-SHA256 of `body` with one of `secrets`, compared in
/// constant time.
pub(crate) fn verify(body: &[u8], signature: Option<&str>, secrets: &[Secret]) -> bool {
    let Some(signature) = signature.map(str::trim) else {
        return false;
    };
    let Ok(expected) = hex::decode(signature) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// Reads a delivery: `{timestamp, event, organization, database, resource}`.
pub(crate) fn parse(body: &[u8]) -> Result<Delivery, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))?;
    let text = |key: &str| {
        value[key]
            .as_str()
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("`{key}` is missing or not a string"))
    };
    let timestamp = value["timestamp"]
        .as_i64()
        .ok_or("`timestamp` is missing or not a whole number of seconds")?;
    if !value["resource"].is_object() {
        return Err("`resource` is missing or not an object".into());
    }
    Ok(Delivery {
        event: text("event")?,
        target: Target::new(&text("organization")?, &text("database")?),
        timestamp,
        resource: value["resource"].clone(),
    })
}

struct Receiver {
    /// The webhooks' secrets the configuration gives.
    secrets: watch::Receiver<Vec<Secret>>,
    /// The secrets read from PlanetScale, and push per database.
    board: Arc<Board>,
    /// Receipts and pushed events.
    outbox: crate::service::outbox::Outbox,
    /// Pokes for the leader, Slack clicks, the receipts read at start.
    store: store::Store,
    leadership: store::Leadership,
    health: Arc<StoreHealth>,
    metrics: Arc<Metrics>,
    /// The current pipeline: which databases are watched, and the API client that reads a
    /// database's webhooks.
    pipeline: watch::Receiver<Arc<Pipeline>>,
    replays: Mutex<Replays>,
    /// Signed deliveries.
    bucket: Bucket,
    /// Refusals of unsigned requests: past it they are answered 429 without looking further.
    unsigned: Bucket,
    refusals: Mutex<RefusalLog>,
    /// When the store's receipts were last pruned.
    pruned: Mutex<Instant>,
    /// Polls and wakes for the service.
    inbound: mpsc::Sender<Inbound>,
}

/// How often receipts older than the timestamp check's window are removed from the store.
const PRUNE_RECEIPTS_EVERY: Duration = Duration::from_secs(600);

/// How long a delivery may wait for its database's webhooks to be read (PlanetScale waits 2 s
/// for the answer).
const FETCH_TIMEOUT: Duration = Duration::from_millis(1500);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Receiver {
    /// Whether `body` is signed by a configured secret or one of `target`'s webhooks.
    fn signed(&self, body: &[u8], signature: Option<&str>, target: Option<&Target>) -> bool {
        let mut secrets = self.secrets.borrow().clone();
        if let Some(target) = target {
            secrets.extend(self.board.push.secrets(target));
        }
        verify(body, signature, &secrets)
    }

    /// Reads the webhooks (and so the secrets) of a watched database the delivery names, at
    /// most once a minute per database, waiting at most [`FETCH_TIMEOUT`].
    async fn fetch_secrets(&self, target: &Target) {
        let pipeline = Arc::clone(&self.pipeline.borrow());
        if !pipeline.watches(target)
            || !self
                .board
                .push
                .claim_fetch(target, tokio::time::Instant::now())
        {
            return;
        }
        let client = pipeline
            .clients
            .of(&target.organization)
            .for_poll(Priority::High);
        match tokio::time::timeout(FETCH_TIMEOUT, client.list_webhooks(target)).await {
            Ok(Ok(webhooks)) => {
                let public_url = pipeline.config.public_url();
                self.board
                    .push
                    .note_webhooks(target, &webhooks, public_url.as_deref());
            }
            Ok(Err(error)) => {
                tracing::warn!(target_db = %target, %error, "cannot read the database's webhooks (their secrets verify deliveries)");
            }
            Err(_) => {
                tracing::warn!(target_db = %target, "reading the database's webhooks took too long; the delivery is refused");
            }
        }
    }

    /// An unsigned request is refused: 401, or 429 once unsigned requests come too fast.
    fn unsigned(&self) -> Refusal {
        if self.unsigned.check().is_ok() {
            Refusal::Unsigned
        } else {
            Refusal::Busy
        }
    }

    /// Checks a request: the signature first (cheap, and what tells PlanetScale from anyone),
    /// then the rate of signed deliveries, the body and its timestamp.
    async fn receive(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Delivery, Refusal> {
        let signature = headers
            .get("x-planetscale-signature")
            .and_then(|value| value.to_str().ok());
        if signature.is_none() {
            return Err(self.unsigned());
        }
        // Which database the body claims is read only to choose the secrets to try; nothing
        // of it is acted on before the signature holds.
        let parsed = parse(body);
        let claimed = parsed.as_ref().ok().map(|delivery| delivery.target.clone());
        if !self.signed(body, signature, claimed.as_ref()) {
            let Some(target) = &claimed else {
                return Err(self.unsigned());
            };
            // Unsigned floods are limited before they can make pswatch read webhooks.
            if self.unsigned.check().is_err() {
                return Err(Refusal::Busy);
            }
            self.fetch_secrets(target).await;
            if !self.signed(body, signature, Some(target)) {
                return Err(Refusal::Unsigned);
            }
        }
        if self.bucket.check().is_err() {
            return Err(Refusal::Busy);
        }
        let delivery = parsed.map_err(Refusal::Malformed)?;
        // Checked: a timestamp near i64::MIN must not wrap around into "just now".
        let skew = delivery
            .timestamp
            .checked_sub(now)
            .and_then(i64::checked_abs);
        if skew.is_none_or(|skew| skew > MAX_SKEW) {
            return Err(Refusal::Stale);
        }
        Ok(delivery)
    }

    fn refused(&self, status: StatusCode, reason: &str) {
        self.metrics
            .webhook_refusals
            .with_label_values(&[status.as_str()])
            .inc();
        lock(&self.refusals).note(status, reason, Instant::now());
    }

    /// Acts on a signed delivery once: asks for a poll of a deploy request's database, or
    /// routes one of PlanetScale's other events through the outbox. It counts as received
    /// only once that is done, so one refused here (503) is acted on when sent again.
    async fn act(
        &self,
        delivery: Delivery,
        digest: store::Digest,
        now: i64,
    ) -> (StatusCode, String) {
        // After a failed write nothing is acknowledged until the store is known good again
        // (sled's: never in this process): PlanetScale sends it again later.
        if let Some((_, error)) = self.health.failing() {
            tracing::warn!(%error, "a webhook delivery refused: the state store cannot write");
            self.refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "the state store cannot write",
            );
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the state store cannot write now; send it again later\n".into(),
            );
        }
        let claim = match lock(&self.replays).claim(digest, now) {
            Claim::New => Claimed {
                replays: &self.replays,
                digest,
                received: false,
            },
            Claim::Received => {
                tracing::debug!("a webhook delivery arrived again; acted on once");
                return (StatusCode::OK, "already received\n".into());
            }
            Claim::InFlight => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the same delivery is being received; send it again later\n".into(),
                );
            }
        };
        tracing::info!(event = %delivery.event, target_db = %delivery.target, "webhook delivery received");
        let deploy_request = delivery.event.starts_with("deploy_request.");
        self.board.push.note_signed(
            &delivery.target,
            deploy_request,
            tokio::time::Instant::now(),
        );
        self.metrics
            .push_healthy
            .with_label_values(&[delivery.target.to_string().as_str()])
            .set(1);
        let answer = if deploy_request {
            // Full means polls are already asked for; they coalesce anyway.
            // With replicas, whichever leads polls it: the store carries the push to it.
            if self.leadership.is_elected() {
                if let Err(error) = self.store.poke(&delivery.target).await {
                    tracing::warn!(%error, "cannot pass a pushed change on to the leader; it polls on its schedule");
                }
            }
            match self.inbound.try_send(Inbound::Poll(delivery.target)) {
                Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
                _ => {
                    // The receipt only spares a repeated poll after a restart.
                    let written = self.outbox.keep_receipt(digest).await;
                    match written {
                        Ok(()) | Err(store::StoreError::Duplicate) => {}
                        Err(error) => {
                            tracing::warn!(%error, "cannot keep the receipt of a webhook delivery");
                            self.health.failed(&error);
                        }
                    }
                    Ok((StatusCode::OK, "received\n".into()))
                }
            }
        } else {
            self.route(delivery, digest).await
        };
        if answer.is_ok() {
            claim.received(now);
        } else {
            drop(claim);
        }
        self.prune_receipts().await;
        match answer {
            Ok(answer) => answer,
            Err(()) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot record the event now\n".into(),
            ),
        }
    }

    /// Removes, every [`PRUNE_RECEIPTS_EVERY`], the receipts the timestamp check makes useless.
    async fn prune_receipts(&self) {
        {
            let mut pruned = lock(&self.pruned);
            if pruned.elapsed() < PRUNE_RECEIPTS_EVERY {
                return;
            }
            *pruned = Instant::now();
        }
        let before = time::OffsetDateTime::now_utc() - time::Duration::seconds(REMEMBER_FOR);
        if let Err(error) = self.store.receipts(before).await {
            tracing::warn!(%error, "cannot remove old receipts of webhook deliveries");
        }
    }

    /// Routes one of PlanetScale's own events of a watched database through the outbox (the
    /// entries and the delivery's receipt written, flushed, before the answer), and wakes its
    /// channels.
    async fn route(
        &self,
        delivery: Delivery,
        digest: store::Digest,
    ) -> Result<(StatusCode, String), ()> {
        let Some(event) = PlanetScaleEvent::parse(&delivery.event) else {
            tracing::info!(event = %delivery.event, "a PlanetScale event pswatch does not route; ignored");
            return Ok((StatusCode::OK, "received; not routed\n".into()));
        };
        let pipeline = Arc::clone(&self.pipeline.borrow());
        if !pipeline.watches(&delivery.target) {
            tracing::info!(target_db = %delivery.target, "a PlanetScale event of a database that is not watched; ignored");
            return Ok((StatusCode::OK, "received; not watched\n".into()));
        }
        let event = diff_engine::Event::from_planetscale(
            &delivery.target.organization,
            &delivery.target.database,
            event,
            delivery.timestamp,
            delivery.resource,
            time::OffsetDateTime::now_utc(),
        );
        match pipeline.route_pushed(&event, digest).await {
            Ok(()) => Ok((StatusCode::OK, "received\n".into())),
            // Another replica received the same delivery first.
            Err(store::StoreError::Duplicate) => Ok((StatusCode::OK, "already received\n".into())),
            Err(error) => {
                // PlanetScale may send it again; nothing was half written.
                tracing::error!(%error, "cannot record a PlanetScale event in the outbox");
                self.health.failed(&error);
                Err(())
            }
        }
    }
}

impl Receiver {
    /// The request's body, or the refusal of one over [`MAX_BODY`] (413) or that broke off,
    /// counted.
    fn body(&self, body: Result<Bytes, BytesRejection>) -> Result<Bytes, (StatusCode, String)> {
        body.map_err(|rejection| {
            let status = rejection.status();
            let reason = rejection.body_text();
            self.refused(status, &reason);
            (status, format!("{reason}\n"))
        })
    }
}

async fn planetscale(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (StatusCode, String) {
    let body = match receiver.body(body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match receiver.receive(&headers, &body, now).await {
        Err(refusal) => {
            let (status, reason) = refusal.answer();
            receiver.refused(status, reason.trim_end());
            (status, reason)
        }
        Ok(delivery) => receiver.act(delivery, digest(&body), now).await,
    }
}

/// How long a client may take to send a request's headers, and an idle connection stays open:
/// PlanetScale gives its whole delivery 2 s, and Slack 3 s.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take, body and answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 256;
/// Connections one client address holds at once: slow clients keep their hands off the
/// slots PlanetScale's deliveries need (a proxy in front passes every client through one).
const PER_CLIENT: usize = 32;

/// Serves `POST /planetscale` on `listener` until `shutdown`, sending the databases whose
/// deploy requests PlanetScale says changed to `pushes`.
pub(crate) async fn serve(
    listener: TcpListener,
    secrets: watch::Receiver<Vec<Secret>>,
    handles: Handles,
    pipeline: watch::Receiver<Arc<Pipeline>>,
    inbound: mpsc::Sender<Inbound>,
    shutdown: CancellationToken,
) {
    let mut replays = Replays::default();
    let since = time::OffsetDateTime::now_utc() - time::Duration::seconds(REMEMBER_FOR);
    match handles.store.receipts(since).await {
        Ok(receipts) => {
            for (digest, at) in receipts {
                replays.remember(digest, at.unix_timestamp());
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read the receipts of webhook deliveries; a delivery sent again may be acted on twice");
        }
    }
    let receiver = Arc::new(Receiver {
        secrets,
        board: Arc::clone(&handles.board),
        outbox: handles.outbox.clone(),
        store: handles.store.clone(),
        leadership: handles.leadership.clone(),
        health: Arc::clone(&handles.health),
        metrics: Arc::clone(&handles.metrics),
        pipeline,
        replays: Mutex::new(replays),
        bucket: bucket(RATE, BURST),
        unsigned: bucket(UNSIGNED_RATE, UNSIGNED_BURST),
        refusals: Mutex::default(),
        pruned: Mutex::new(Instant::now()),
        inbound,
    });
    let app = Router::new()
        .route("/planetscale", post(planetscale))
        .route("/slack/interactions", post(slack::interactions))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(receiver);
    crate::service::serve::serve(
        "the webhook receiver",
        listener,
        app,
        crate::service::serve::Limits {
            header_timeout: HEADER_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            per_client: PER_CLIENT,
        },
        shutdown,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(body: &[u8], secret: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(body);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    #[test]
    fn signatures_are_checked_against_every_secret() {
        let body = br#"{"timestamp": 1, "event": "webhook.test"}"#;
        let secrets = [Secret::new("first"), Secret::new("second")];
        assert!(verify(body, Some(&sign(body, "second")), &secrets));
        assert!(verify(
            body,
            Some(&sign(body, "first").to_uppercase()),
            &secrets
        ));
        assert!(!verify(body, Some(&sign(body, "third")), &secrets));
        assert!(!verify(b"tampered", Some(&sign(body, "first")), &secrets));
        assert!(!verify(body, None, &secrets));
        assert!(!verify(body, Some("zz"), &secrets));
        assert!(!verify(body, Some(""), &secrets));
        assert!(!verify(body, Some(&sign(body, "first")), &[]));
    }

    #[test]
    fn deliveries_are_read_and_anything_else_refused() {
        let delivery = parse(
            br#"{"timestamp": 1698252879, "event": "deploy_request.queued", "organization": "acme", "database": "commerce", "resource": {"number": 7}}"#,
        )
        .expect("a delivery");
        assert_eq!(delivery.event, "deploy_request.queued");
        assert_eq!(delivery.target, Target::new("acme", "commerce"));
        for (body, why) in [
            (&b"not json"[..], "not JSON"),
            (br#"[]"#, "`timestamp`"),
            (br#"{"timestamp": "soon", "event": "x", "organization": "a", "database": "b", "resource": {}}"#, "`timestamp`"),
            (br#"{"timestamp": 1, "organization": "a", "database": "b", "resource": {}}"#, "`event`"),
            (br#"{"timestamp": 1, "event": "x", "database": "b", "resource": {}}"#, "`organization`"),
            (br#"{"timestamp": 1, "event": "x", "organization": "a", "database": "", "resource": {}}"#, "`database`"),
            (br#"{"timestamp": 1, "event": "x", "organization": "a", "database": "b"}"#, "`resource`"),
        ] {
            let error = parse(body).expect_err("refused");
            assert!(error.contains(why), "{error}");
        }
    }
}
