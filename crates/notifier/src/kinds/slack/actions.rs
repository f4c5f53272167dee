//! Acting from Slack: the buttons on a resource's thread (silence its database for an hour,
//! acknowledge the reminders of the current wait or stall, cut over a workflow or complete a
//! deploy request), the values pswatch signs into them, and the verification of the requests
//! Slack sends when one is clicked, as Slack specifies it: `X-Slack-Signature` is `v0=` and the
//! hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{body}` with the app's signing secret.

use diff_engine::{Event, EventKind, OperationPhase};
use hmac::{Hmac, Mac};
use model::{ResourceKey, ResourceKind};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::secret::Secret;

/// How far a request's timestamp may be from now, in seconds: Slack's own advice.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// The buttons of a Slack channel that has its app's signing secret.
#[derive(Debug, Clone)]
pub struct SlackActions {
    /// The Slack app's signing secret: verifies Slack's requests and keys pswatch's own
    /// signatures of the buttons' values.
    pub signing_secret: Secret,
    /// The changes to PlanetScale the channel offers (`actions = ["cutover", …]`).
    pub offered: Vec<Action>,
    /// The Slack users (`U…`) allowed to make them.
    pub allowed_users: Vec<String>,
}

impl SlackActions {
    /// Whether `user` may make `action` from this channel: it offers it, and `user` is among
    /// its allowed users. Silence and Acknowledge change nothing at PlanetScale: anyone may.
    pub fn allows(&self, action: Action, user: &str) -> bool {
        !action.writes()
            || (self.offered.contains(&action)
                && self.allowed_users.iter().any(|allowed| allowed == user))
    }
}

/// What a button asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Silence the resource's database for an hour.
    Silence,
    /// Stop the reminders of the resource's current wait or stall.
    Acknowledge,
    /// Cut over a workflow's traffic (`PATCH …/workflows/{n}/cutover`), or complete a gated
    /// deploy request (`complete_gated_deploy_request`).
    Cutover,
    /// Force the cutover of a deploy request stuck in `in_progress_cutover`
    /// (`force_cutover_deploy_request`).
    ForceCutover,
    /// Cancel a deploy request's deployment (`cancel_deploy_request`).
    Cancel,
    /// End a deployed request's revert window now (`skip_revert_period`).
    SkipRevert,
    /// Revert a deployed request's schema change (`complete_revert`).
    Revert,
    /// Retry a workflow in error (`workflow_retry`).
    WorkflowRetry,
}

impl Action {
    /// The changes to PlanetScale, by their name in `actions`.
    pub const WRITES: [(&'static str, Self); 6] = [
        ("cutover", Self::Cutover),
        ("force_cutover", Self::ForceCutover),
        ("cancel", Self::Cancel),
        ("skip_revert", Self::SkipRevert),
        ("revert", Self::Revert),
        ("workflow_retry", Self::WorkflowRetry),
    ];

    const ALL: [Self; 8] = [
        Self::Silence,
        Self::Acknowledge,
        Self::Cutover,
        Self::ForceCutover,
        Self::Cancel,
        Self::SkipRevert,
        Self::Revert,
        Self::WorkflowRetry,
    ];

    /// Its `action_id` in Slack, and its name in a button's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Silence => "pswatch_silence",
            Self::Acknowledge => "pswatch_acknowledge",
            Self::Cutover => "pswatch_cutover",
            Self::ForceCutover => "pswatch_force_cutover",
            Self::Cancel => "pswatch_cancel",
            Self::SkipRevert => "pswatch_skip_revert",
            Self::Revert => "pswatch_revert",
            Self::WorkflowRetry => "pswatch_workflow_retry",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }

    /// Whether it changes something at PlanetScale (everything but Silence and Acknowledge).
    pub fn writes(self) -> bool {
        !matches!(self, Self::Silence | Self::Acknowledge)
    }

    /// Whether PlanetScale takes it for a resource of `kind` in `state` (a workflow's `state`,
    /// a deploy request's `deployment_state`).
    pub fn applies(self, kind: ResourceKind, state: &str) -> bool {
        match (self, kind) {
            (Self::Cutover, ResourceKind::Workflow) => workflow_can_cut_over(state),
            (Self::Cutover, ResourceKind::DeployRequest) => deploy_request_can_cut_over(state),
            (Self::WorkflowRetry, ResourceKind::Workflow) => state == "error",
            (Self::ForceCutover, ResourceKind::DeployRequest) => state == "in_progress_cutover",
            (Self::Cancel, ResourceKind::DeployRequest) => {
                matches!(
                    state,
                    "queued" | "submitting" | "in_progress" | "pending_cutover"
                )
            }
            (Self::SkipRevert | Self::Revert, ResourceKind::DeployRequest) => {
                state == "complete_pending_revert"
            }
            _ => false,
        }
    }

    /// The button's text, its confirmation's title and button, and what the confirmation says
    /// PlanetScale will do to `what` (`deploy request #7 in acme/commerce`).
    fn words(
        self,
        kind: ResourceKind,
        what: &str,
    ) -> (&'static str, &'static str, &'static str, String) {
        match (self, kind) {
            (Self::Cutover, ResourceKind::Workflow) => ("Cut over now", "Cut over now?", "Cut over",
                format!("PlanetScale will switch the traffic of {what} to its target keyspace.")),
            (Self::Cutover, _) => ("Cut over now", "Cut over now?", "Cut over",
                format!("PlanetScale will complete {what}: its schema change goes live.")),
            (Self::ForceCutover, _) => ("Force cutover", "Force the cutover?", "Force cutover",
                format!("PlanetScale will force the cutover of {what}, stuck in in_progress_cutover: it stops waiting for what holds it back.")),
            (Self::Cancel, _) => ("Cancel deploy", "Cancel the deployment?", "Cancel deployment",
                format!("PlanetScale will cancel the deployment of {what}.")),
            (Self::SkipRevert, _) => ("End revert window", "End the revert window?", "End it",
                format!("PlanetScale will close the revert window of {what} now: its change can no longer be reverted.")),
            (Self::Revert, _) => ("Revert", "Revert the change?", "Revert",
                format!("PlanetScale will revert the schema change of {what}.")),
            (Self::WorkflowRetry, _) => ("Retry workflow", "Retry the workflow?", "Retry",
                format!("PlanetScale will retry {what}.")),
            (Self::Silence | Self::Acknowledge, _) => ("", "", "", String::new()),
        }
    }
}

/// What a button's value names, once its signature is checked: the pswatch channel it was
/// posted by, the action, the resource and, for an acknowledgement, the episode (when the
/// wait or stall began, unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionValue {
    /// The pswatch channel whose message carried the button.
    pub channel: String,
    /// What it asks.
    pub action: Action,
    /// The workflow or deploy request.
    pub resource: ResourceKey,
    /// The wait or stall it acknowledges.
    pub episode: Option<i64>,
}

/// The key pswatch signs buttons' values with: derived from the signing secret, so only one
/// who knows it can make a value pswatch takes.
fn value_key(secret: &Secret) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(b"pswatch slack button values v1");
    mac.finalize().into_bytes().to_vec()
}

fn value_mac(secret: &Secret, text: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&value_key(secret))
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(text.as_bytes());
    mac
}

impl ActionValue {
    /// The value for a button: its parts and pswatch's signature of them.
    pub fn sign(&self, secret: &Secret) -> String {
        let episode = self
            .episode
            .map_or_else(|| "-".to_owned(), |episode| episode.to_string());
        let text = format!(
            "v1|{}|{}|{}|{episode}",
            self.action.as_str(),
            self.channel,
            self.resource
        );
        let signature = hex::encode(&value_mac(secret, &text).finalize().into_bytes()[..16]);
        format!("{text}|{signature}")
    }

    /// The value a button carried, if pswatch signed it with `secret`; `None` for anything
    /// else (forged, altered, another app's).
    pub fn verify(secret: &Secret, value: &str) -> Option<Self> {
        if value.len() > 2000 {
            return None;
        }
        let (text, signature) = value.rsplit_once('|')?;
        let signature = hex::decode(signature).ok()?;
        value_mac(secret, text)
            .verify_truncated_left(&signature)
            .ok()?;
        if signature.len() != 16 {
            return None;
        }
        let mut parts = text.split('|');
        if parts.next()? != "v1" {
            return None;
        }
        let action = Action::parse(parts.next()?)?;
        let channel = parts.next()?.to_owned();
        let resource = ResourceKey::parse(parts.next()?)?;
        let episode = match parts.next()? {
            "-" => None,
            number => Some(number.parse().ok()?),
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            channel,
            action,
            resource,
            episode,
        })
    }
}

/// Why a request that claims to come from Slack is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    /// No timestamp or signature, or ones that cannot be read.
    #[error("the request is not signed the way Slack signs (X-Slack-Request-Timestamp and X-Slack-Signature)")]
    Unsigned,
    /// The timestamp is too far from now: a replay, or a clock far off.
    #[error("the request's timestamp is more than 5 minutes from now")]
    Stale,
    /// No configured signing secret makes the signature.
    #[error("the request's signature does not match the signing secret of any Slack channel")]
    Forged,
}

/// Checks a request Slack sent: its timestamp is within five minutes of `now` (unix seconds)
/// and its signature is one of `secrets`'s, compared in constant time. Gives the secret that
/// signed it.
pub fn verify_request<'a>(
    secrets: impl IntoIterator<Item = &'a Secret>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<&'a Secret, RequestRefusal> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(RequestRefusal::Unsigned);
    };
    let stamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| RequestRefusal::Unsigned)?;
    // Checked: a timestamp near i64::MIN must not wrap around into "just now".
    let skew = now.checked_sub(stamp).and_then(i64::checked_abs);
    if skew.is_none_or(|skew| skew > MAX_SKEW_SECONDS) {
        return Err(RequestRefusal::Stale);
    }
    let signature = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|hex_text| hex::decode(hex_text).ok())
        .ok_or(RequestRefusal::Unsigned)?;
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(b"v0:");
        mac.update(timestamp.trim().as_bytes());
        mac.update(b":");
        mac.update(body);
        if mac.verify_slice(&signature).is_ok() {
            return Ok(secret);
        }
    }
    Err(RequestRefusal::Forged)
}

/// Whether a workflow in `state` has its data copied and its traffic not yet switched.
fn workflow_can_cut_over(state: &str) -> bool {
    matches!(state, "running" | "verified_data" | "switched_replicas")
}

/// Whether a deploy request in `deployment_state` waits for its cutover.
fn deploy_request_can_cut_over(deployment_state: &str) -> bool {
    deployment_state == "pending_cutover"
}

/// The wait or stall a reminder is part of, as an acknowledgement names it: when a deploy
/// request began waiting for its cutover, since when an operation has not moved, or since
/// when a timer's resource has been in its state (unix seconds). `None` for an event that is
/// not a reminder.
pub fn episode_of(event: &Event) -> Option<i64> {
    match &event.kind {
        EventKind::TimerFired { since, .. } => Some(since.unix_timestamp()),
        EventKind::DeployRequestAwaitingCutover { waiting_since, .. } => {
            Some(waiting_since.unix_timestamp())
        }
        EventKind::DeployOperationStalled {
            stalled_since,
            phase: OperationPhase::Deploy | OperationPhase::Revert,
            ..
        } => Some(stalled_since.unix_timestamp()),
        _ => None,
    }
}

/// The wait or stall the latest reminder of `events` is part of.
fn episode(events: &[Event]) -> Option<i64> {
    events.iter().rev().find_map(episode_of)
}

/// The buttons of a resource's thread, given its events of this poll and its state: "Silence
/// 1h" always, "Acknowledge" while it waits or stalls and has been reminded of it, and "Cut
/// over now" (behind Slack's confirmation dialog) when the channel offers it and the resource
/// is ready for it. `None` for events of no workflow or deploy request.
pub(crate) fn actions_block(
    channel: &str,
    actions: &SlackActions,
    events: &[Event],
    state: Option<&str>,
) -> Option<Value> {
    let resource = events.iter().rev().find_map(ResourceKey::of)?;
    let button = |action: Action, text: &str, episode: Option<i64>| {
        let value = ActionValue {
            channel: channel.to_owned(),
            action,
            resource: resource.clone(),
            episode,
        };
        json!({
            "type": "button",
            "action_id": action.as_str(),
            "text": {"type": "plain_text", "text": text},
            "value": value.sign(&actions.signing_secret),
        })
    };
    let mut elements = vec![button(Action::Silence, "Silence 1h", None)];
    if let Some(episode) = episode(events) {
        elements.push(button(Action::Acknowledge, "Acknowledge", Some(episode)));
    }
    let what = format!(
        "{} #{} in {}/{}",
        match resource.kind {
            ResourceKind::Workflow => "workflow",
            ResourceKind::DeployRequest => "deploy request",
        },
        resource.number,
        resource.organization,
        resource.database
    );
    let state = if actions.allowed_users.is_empty() {
        None
    } else {
        state
    };
    for action in Action::WRITES.map(|(_, action)| action) {
        let offered = actions.offered.contains(&action)
            && state.is_some_and(|state| action.applies(resource.kind, state));
        if !offered {
            continue;
        }
        let (label, title, confirm, says) = action.words(resource.kind, &what);
        let mut element = button(action, label, None);
        element["style"] = json!("danger");
        element["confirm"] = json!({
            "title": {"type": "plain_text", "text": title},
            "text": {"type": "plain_text", "text": says},
            "confirm": {"type": "plain_text", "text": confirm},
            "deny": {"type": "plain_text", "text": "Not now"},
            "style": "danger",
        });
        elements.push(element);
    }
    Some(json!({"type": "actions", "block_id": "pswatch_actions", "elements": elements}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new("8f742231b10e8888abcd99yyyzzz85a5")
    }

    fn signed(body: &[u8], timestamp: i64, secret: &Secret) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("key");
        mac.update(format!("v0:{timestamp}:").as_bytes());
        mac.update(body);
        format!("v0={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// Slack's own example from its documentation of request signing.
    #[test]
    fn slack_s_documented_example_verifies() {
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let secret = secret();
        assert!(verify_request(
            [&secret],
            Some("1531420618"),
            Some("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
            body,
            1_531_420_618 + 60,
        )
        .is_ok());
    }

    #[test]
    fn forged_stale_and_unsigned_requests_are_refused() {
        let secret = secret();
        let body = b"payload=%7B%7D";
        let now = 1_800_000_000;
        let good = signed(body, now, &secret);
        assert!(verify_request([&secret], Some(&now.to_string()), Some(&good), body, now).is_ok());
        assert_eq!(
            verify_request(
                [&secret],
                Some(&now.to_string()),
                Some(&good),
                b"payload=%7Bx%7D",
                now
            ),
            Err(RequestRefusal::Forged)
        );
        let other = Secret::new("another-secret");
        assert_eq!(
            verify_request([&other], Some(&now.to_string()), Some(&good), body, now),
            Err(RequestRefusal::Forged)
        );
        // Too old, too new, and so far off that `now - stamp` would wrap around (now - 2^63,
        // and the extremes of i64): all stale, none a panic.
        let far_off = [
            now - MAX_SKEW_SECONDS - 1,
            now + MAX_SKEW_SECONDS + 1,
            now.wrapping_sub(i64::MIN),
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
        ];
        for old in far_off {
            assert_eq!(
                verify_request(
                    [&secret],
                    Some(&old.to_string()),
                    Some(&signed(body, old, &secret)),
                    body,
                    now
                ),
                Err(RequestRefusal::Stale),
                "{old}"
            );
        }
        assert_eq!(
            verify_request([&secret], None, Some(&good), body, now),
            Err(RequestRefusal::Unsigned)
        );
        assert_eq!(
            verify_request([&secret], Some("soon"), Some(&good), body, now),
            Err(RequestRefusal::Unsigned)
        );
        assert_eq!(
            verify_request([&secret], Some(&now.to_string()), Some("v1=00"), body, now),
            Err(RequestRefusal::Unsigned)
        );
    }

    #[test]
    fn button_values_are_signed_and_checked() {
        let secret = secret();
        let value = ActionValue {
            channel: "ops".into(),
            action: Action::Acknowledge,
            resource: ResourceKey::parse("acme/commerce/deploy_request/7").expect("key"),
            episode: Some(1_763_900_000),
        };
        let text = value.sign(&secret);
        assert_eq!(ActionValue::verify(&secret, &text), Some(value.clone()));
        // Another resource, action or episode under the same signature is refused.
        for (from, to) in [
            ("deploy_request/7", "deploy_request/8"),
            ("pswatch_acknowledge", "pswatch_cutover"),
            ("1763900000", "1763900001"),
            ("|ops|", "|oops|"),
        ] {
            let altered = text.replacen(from, to, 1);
            assert_ne!(altered, text);
            assert_eq!(ActionValue::verify(&secret, &altered), None, "{altered}");
        }
        assert_eq!(ActionValue::verify(&Secret::new("other"), &text), None);
        assert_eq!(ActionValue::verify(&secret, "v1|pswatch_silence"), None);
        assert_eq!(ActionValue::verify(&secret, &"x".repeat(5000)), None);
    }
}
