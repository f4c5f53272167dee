//! `POST /slack/interactions`: Slack's requests when someone clicks one of pswatch's buttons
//! (the Slack app's Interactivity Request URL). Treated like every request to the receiver:
//! the signature is checked first, as Slack specifies (`v0=` and the hex HMAC-SHA256 of
//! `v0:{timestamp}:{body}` with a Slack channel's signing secret, in constant time, its
//! timestamp within five minutes), and a forged or stale request is 401 and changes nothing.
//! Of the payload only Slack's word on who clicked is taken; what to act on is the button's
//! value, which pswatch signed. The click is recorded before Slack is answered (well within
//! its 3 seconds), then done.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use notifier::{ActionValue, ChannelKind, RequestRefusal, Secret, SlackChannel};
use serde_json::Value;
use store::{PendingAction, StoreError};

use super::Receiver;

/// The signing secrets of the Slack channels that take actions.
fn signing_secrets(receiver: &Receiver) -> Vec<Secret> {
    let pipeline = Arc::clone(&receiver.pipeline.borrow());
    pipeline
        .config
        .channels
        .iter()
        .filter_map(|channel| match &channel.kind {
            ChannelKind::Slack(SlackChannel::Api(api)) => api
                .actions
                .as_ref()
                .map(|actions| actions.signing_secret.clone()),
            _ => None,
        })
        .collect()
}

/// What the receiver takes of a click, from the `payload` form field of a `block_actions`
/// request.
struct Click {
    /// The button's value.
    value: String,
    /// The Slack user who clicked, and their name.
    user_id: String,
    user_name: String,
    /// The `ts` of the message whose button it was (`-` when Slack gave none).
    message: String,
}

impl Click {
    /// The click's id: the button's value and the message it was on, so that every copy of one
    /// click (Slack's retries, a double click, a replay) has the same id and is done once.
    fn id(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(self.value.as_bytes())
            .chain_update(b"\0")
            .chain_update(self.message.as_bytes())
            .finalize();
        hex::encode(&digest[..16])
    }
}

fn click(body: &[u8]) -> Result<Click, String> {
    let payload = url::form_urlencoded::parse(body)
        .find(|(key, _)| key == "payload")
        .map(|(_, value)| value.into_owned())
        .ok_or("no `payload` field")?;
    let payload: Value = serde_json::from_str(&payload)
        .map_err(|error| format!("`payload` is not JSON: {error}"))?;
    if payload["type"] != "block_actions" {
        return Err(format!("`type` is {}, not block_actions", payload["type"]));
    }
    let value = payload["actions"][0]["value"]
        .as_str()
        .ok_or("no action with a value")?
        .to_owned();
    let user = payload["user"]["id"]
        .as_str()
        .filter(|id| id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or("no user id")?
        .to_owned();
    let name = payload["user"]["username"]
        .as_str()
        .or_else(|| payload["user"]["name"].as_str())
        .unwrap_or(&user)
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    let message = payload["container"]["message_ts"]
        .as_str()
        .or_else(|| payload["message"]["ts"].as_str())
        .filter(|ts| ts.len() <= 32 && ts.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.'))
        .unwrap_or("-")
        .to_owned();
    Ok(Click {
        value,
        user_id: user,
        user_name: name,
        message,
    })
}

pub(super) async fn interactions(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (StatusCode, String) {
    let body = match receiver.body(body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let secrets = signing_secrets(&receiver);
    if secrets.is_empty() {
        receiver.refused(StatusCode::NOT_FOUND, "no Slack channel takes actions");
        return (
            StatusCode::NOT_FOUND,
            "no Slack channel takes actions (set signing_secret)\n".into(),
        );
    }
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let now = time::OffsetDateTime::now_utc();
    let signer = match notifier::verify_slack_request(
        &secrets,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        &body,
        now.unix_timestamp(),
    ) {
        Ok(signer) => signer,
        Err(refusal) => {
            // Unsigned floods are answered 429 past a rate, without looking further.
            let status = if refusal != RequestRefusal::Stale && receiver.unsigned.check().is_err() {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            receiver.refused(status, &refusal.to_string());
            return (status, format!("{refusal}\n"));
        }
    };
    if receiver.bucket.check().is_err() {
        receiver.refused(StatusCode::TOO_MANY_REQUESTS, "too many requests");
        return (StatusCode::TOO_MANY_REQUESTS, "too many requests\n".into());
    }
    let click = match click(&body) {
        Ok(click) => click,
        Err(why) => {
            receiver.refused(StatusCode::BAD_REQUEST, &why);
            return (
                StatusCode::BAD_REQUEST,
                format!("not a button click: {why}\n"),
            );
        }
    };
    // The value must be one pswatch signed with the secret that signed the request.
    if ActionValue::verify(signer, &click.value).is_none() {
        receiver.refused(
            StatusCode::UNAUTHORIZED,
            "a button value pswatch did not sign",
        );
        tracing::warn!(slack_user = %click.user_id, "a Slack click with a button value pswatch did not sign; refused");
        return (
            StatusCode::UNAUTHORIZED,
            "the button's value is not one pswatch signed\n".into(),
        );
    }
    if receiver.health.failing().is_some() {
        receiver.refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "the state store cannot write",
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot record the click now\n".into(),
        );
    }
    let action = PendingAction {
        id: click.id(),
        value: click.value,
        user_id: click.user_id,
        user_name: click.user_name,
        received_at: now,
    };
    // Recorded first: a click Slack was told of is done even if pswatch stops now.
    match receiver.store.record_action(&action).await {
        Ok(()) => {}
        Err(StoreError::Duplicate) => {
            // A copy of a click still being done (Slack's retry, a double click): Slack is
            // answered, nothing is done twice.
            tracing::info!(slack_user = %action.user_id, "a copy of a Slack click already received; not done again");
            return (StatusCode::OK, String::new());
        }
        Err(error) => {
            tracing::error!(%error, "cannot record a Slack click; Slack is told it failed");
            receiver.health.failed(&error);
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot record the click now\n".into(),
            );
        }
    }
    tracing::info!(slack_user = %action.user_id, slack_name = %action.user_name, "a Slack click was received");
    let pipeline = Arc::clone(&receiver.pipeline.borrow());
    tokio::spawn(async move {
        if let Err(error) = crate::service::slack_actions::act(&pipeline, &action).await {
            tracing::warn!(%error, "a Slack click could not be done now; the leader does it later");
        }
    });
    (StatusCode::OK, String::new())
}
