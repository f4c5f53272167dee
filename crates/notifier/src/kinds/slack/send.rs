//! Slack, two ways. An incoming webhook takes one Block Kit message a poll. The Web API (a bot
//! token) keeps a thread per resource: the resource's first event posts a message that shows
//! where it stands, every later one is a reply in its thread (critical ones also shown in the
//! channel), and the first message is updated to the resource's current state.

use diff_engine::{Event, Severity};
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

use super::render;
use super::SlackApi;
use crate::secret::Secret;
use crate::send::{http, Payload};
use crate::verdict::{DeliveryError, Verdict};
use crate::words::Words;
use model::{Memos, ResourceKey, SlackThread};

/// A Slack incoming webhook; its URL is the secret.
pub(crate) struct SlackWebhook {
    pub(crate) webhook_url: Secret,
}

impl SlackWebhook {
    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
    ) -> Result<(), DeliveryError> {
        let body = match payload {
            Payload::Events(events, words) => render::slack_message(events, words),
            Payload::Test { .. } => render::test_slack(channel, time::OffsetDateTime::now_utc()),
        };
        let request = client.post(self.webhook_url.expose()).json(&body);
        http::send(
            channel,
            "Slack webhook",
            request,
            &[self.webhook_url.expose()],
        )
        .await
        .map(drop)
    }
}

/// What Slack's `"error"` means for the next attempt. Slack answers most failures with HTTP 200
/// and `{"ok": false, "error": …}`; these codes may pass, the rest will not by themselves.
pub(crate) fn slack_error_verdict(code: &str) -> Verdict {
    match code {
        "ratelimited"
        | "rate_limited"
        | "internal_error"
        | "fatal_error"
        | "service_unavailable"
        | "request_timeout"
        | "team_added_to_org" => Verdict::Transient,
        _ => Verdict::Permanent,
    }
}

/// What a person should do about a permanent Slack error.
fn slack_error_hint(code: &str) -> &'static str {
    match code {
        "invalid_auth" | "not_authed" => "; the bot_token is not valid",
        "account_inactive" | "token_revoked" | "token_expired" => {
            "; the bot_token was revoked, or its app or workspace removed"
        }
        "channel_not_found" => {
            "; check the channel id (like C0123456789) and that the app can see the channel"
        }
        "not_in_channel" => "; invite the app to the channel (/invite @app)",
        "is_archived" => "; the channel is archived",
        "missing_scope" => "; the app needs the chat:write scope",
        "msg_too_long" => "; the message is longer than Slack takes",
        "invalid_blocks" | "invalid_blocks_format" => "; Slack refused the message's blocks",
        _ => "",
    }
}

/// The first message of a thread can no longer be updated: start a new thread next time.
fn head_is_gone(code: &str) -> bool {
    matches!(
        code,
        "message_not_found" | "cant_update_message" | "edit_window_closed"
    )
}

/// The thread a reply was for is gone: post the resource's message at the top level instead.
fn thread_is_gone(code: &str) -> bool {
    matches!(code, "thread_not_found" | "invalid_thread_ts")
}

/// What a Web API call gave: the message's `ts`, or Slack's error code.
enum Answer {
    Ok { ts: String },
    Refused { code: String },
}

/// The most characters of a note in a thread.
const SLACK_SECTION_NOTE: usize = 2900;

/// A Slack app posting through the Web API.
pub(crate) struct SlackWebApi {
    pub(crate) api: SlackApi,
}

impl SlackWebApi {
    /// `POST {api_url}/{method}` with the bot token. A transport failure, an HTTP error
    /// (429 with its `Retry-After`) or an answer that is not Slack's is a [`DeliveryError`];
    /// `{"ok": false}` is an [`Answer::Refused`] for the caller to judge.
    async fn call(
        &self,
        client: &reqwest::Client,
        channel: &str,
        method: &str,
        body: &Value,
    ) -> Result<Answer, DeliveryError> {
        let url = format!(
            "{}/{method}",
            self.api.api_url.as_str().trim_end_matches('/')
        );
        let request = client
            .post(url)
            .bearer_auth(self.api.bot_token.expose())
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .json(body);
        let what = format!("Slack {method}");
        let answer = http::send(channel, &what, request, &[self.api.bot_token.expose()]).await?;
        let answer: Value = serde_json::from_str(&answer).map_err(|_| {
            DeliveryError::new(
                Verdict::Transient,
                format!(
                    "channel {channel:?}: {what} answered something that is not Slack's JSON: {}",
                    crate::text::truncate(
                        &http::redacted(answer.trim(), &[self.api.bot_token.expose()]),
                        200
                    )
                ),
            )
        })?;
        if answer["ok"].as_bool() == Some(true) {
            return Ok(Answer::Ok {
                ts: answer["ts"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(Answer::Refused {
            code: answer["error"]
                .as_str()
                .unwrap_or("unknown_error")
                .to_owned(),
        })
    }

    fn refused(channel: &str, method: &str, code: &str) -> DeliveryError {
        DeliveryError::new(
            slack_error_verdict(code),
            format!(
                "channel {channel:?}: Slack {method} answered {code}{}",
                slack_error_hint(code)
            ),
        )
    }

    /// Posts `text` (mrkdwn, its values escaped by the caller) in the thread `thread_ts`, or in
    /// the channel without one: what an action from Slack did, or why it did nothing.
    pub(crate) async fn note(
        &self,
        client: &reqwest::Client,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> Result<(), DeliveryError> {
        let message = json!({
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": crate::text::truncate(text, SLACK_SECTION_NOTE)}}],
        });
        match self
            .post(client, channel, message, thread_ts.map(|ts| (ts, false)))
            .await?
        {
            Ok(_) => Ok(()),
            Err(code) => Err(Self::refused(channel, "chat.postMessage", &code)),
        }
    }

    /// Posts a message; its `ts`.
    async fn post(
        &self,
        client: &reqwest::Client,
        channel: &str,
        mut message: Value,
        thread_ts: Option<(&str, bool)>,
    ) -> Result<Result<String, String>, DeliveryError> {
        message["channel"] = json!(self.api.channel);
        message["unfurl_links"] = json!(false);
        message["unfurl_media"] = json!(false);
        if let Some((ts, broadcast)) = thread_ts {
            message["thread_ts"] = json!(ts);
            if broadcast {
                message["reply_broadcast"] = json!(true);
            }
        }
        match self
            .call(client, channel, "chat.postMessage", &message)
            .await?
        {
            Answer::Ok { ts } if !ts.is_empty() => Ok(Ok(ts)),
            Answer::Ok { .. } => Err(DeliveryError::new(
                Verdict::Transient,
                format!("channel {channel:?}: Slack chat.postMessage answered ok without a ts"),
            )),
            Answer::Refused { code } => Ok(Err(code)),
        }
    }

    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let (events, words) = match payload {
            Payload::Events(events, words) => (events, words),
            Payload::Test { .. } => {
                let message = render::test_slack(channel, time::OffsetDateTime::now_utc());
                return match self.post(client, channel, message, None).await? {
                    Ok(_) => Ok(()),
                    Err(code) => Err(Self::refused(channel, "chat.postMessage", &code)),
                };
            }
        };
        for (key, mine) in ResourceKey::group(events) {
            match key {
                Some(key) => {
                    self.send_resource(client, channel, &key, &mine, words, memos)
                        .await?;
                }
                // PlanetScale's own events (a branch, a keyspace) have no thread: each is a
                // message of its own.
                None => {
                    let message = render::slack_message(&mine, words);
                    if let Err(code) = self.post(client, channel, message, None).await? {
                        return Err(Self::refused(channel, "chat.postMessage", &code));
                    }
                }
            }
        }
        Ok(())
    }

    /// One resource's events of one poll: one message (the thread's first, or a reply and an
    /// update of the first). What went out is noted in `memos` at once, so a retry after a
    /// later failure does not send it again.
    async fn send_resource(
        &self,
        client: &reqwest::Client,
        channel: &str,
        key: &ResourceKey,
        events: &[Event],
        words: &Words,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let memo = memos.get(key).cloned().unwrap_or_default();
        let sent = memo.last_event.as_deref() == Some(last.id.as_str());
        // A thread in another Slack channel (the configuration changed) is not continued.
        let thread = memo
            .thread
            .filter(|thread| thread.channel == self.api.channel);
        let remembered_state = thread.as_ref().and_then(|thread| thread.state.clone());
        let state = render::resource_state(events).or(remembered_state);
        let mut head = render::slack_thread_head(events, state.as_deref(), words);
        // With the app's signing secret, the thread's first message carries the buttons.
        if let Some(actions) = &self.api.actions {
            let block = super::actions::actions_block(channel, actions, events, state.as_deref());
            if let (Some(block), Some(blocks)) = (block, head["blocks"].as_array_mut()) {
                blocks.push(block);
            }
        }
        let Some(mut thread) = thread else {
            if sent {
                return Ok(());
            }
            return self
                .start_thread(client, channel, key, last, head, state, memos)
                .await;
        };
        if !sent {
            let broadcast = events
                .iter()
                .any(|event| event.severity == Severity::Critical);
            let reply = render::slack_message(events, words);
            match self
                .post(client, channel, reply, Some((&thread.ts, broadcast)))
                .await?
            {
                Ok(_) => {}
                Err(code) if thread_is_gone(&code) => {
                    tracing::warn!(channel, resource = %key, code,
                        "the Slack thread is gone; the resource starts a new one");
                    return self
                        .start_thread(client, channel, key, last, head, state, memos)
                        .await;
                }
                Err(code) => return Err(Self::refused(channel, "chat.postMessage", &code)),
            }
            thread.state.clone_from(&state);
            thread.head_current = false;
            let noted = thread.clone();
            memos.update(key, |memo| {
                memo.last_event = Some(last.id.clone());
                memo.thread = Some(noted);
            });
        }
        if thread.head_current {
            return Ok(());
        }
        let mut update = head;
        update["channel"] = json!(self.api.channel);
        update["ts"] = json!(thread.ts);
        match self.call(client, channel, "chat.update", &update).await? {
            Answer::Ok { .. } => memos.update(key, |memo| {
                if let Some(thread) = &mut memo.thread {
                    thread.head_current = true;
                }
            }),
            Answer::Refused { code } if head_is_gone(&code) => {
                tracing::warn!(channel, resource = %key, code,
                    "the first message of the Slack thread cannot be updated; the resource's next change starts a new thread");
                memos.update(key, |memo| memo.thread = None);
            }
            Answer::Refused { code } => return Err(Self::refused(channel, "chat.update", &code)),
        }
        Ok(())
    }

    /// Posts the resource's first message and remembers its thread.
    #[allow(clippy::too_many_arguments)]
    async fn start_thread(
        &self,
        client: &reqwest::Client,
        channel: &str,
        key: &ResourceKey,
        last: &Event,
        head: Value,
        state: Option<String>,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let ts = match self.post(client, channel, head, None).await? {
            Ok(ts) => ts,
            Err(code) => return Err(Self::refused(channel, "chat.postMessage", &code)),
        };
        let thread = SlackThread {
            channel: self.api.channel.clone(),
            ts,
            state,
            head_current: true,
        };
        memos.update(key, |memo| {
            memo.thread = Some(thread);
            memo.last_event = Some(last.id.clone());
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict for every error code Slack documents for these methods, pinned.
    #[test]
    fn every_slack_error_has_a_verdict() {
        for code in [
            "ratelimited",
            "internal_error",
            "fatal_error",
            "service_unavailable",
            "request_timeout",
        ] {
            assert_eq!(slack_error_verdict(code), Verdict::Transient, "{code}");
        }
        for code in [
            "invalid_auth",
            "account_inactive",
            "token_revoked",
            "channel_not_found",
            "not_in_channel",
            "is_archived",
            "msg_too_long",
            "invalid_blocks",
            "missing_scope",
            "no_text",
            "something_new",
        ] {
            assert_eq!(slack_error_verdict(code), Verdict::Permanent, "{code}");
        }
        let error = SlackWebApi::refused("ops", "chat.postMessage", "not_in_channel");
        assert_eq!(
            error.message,
            "channel \"ops\": Slack chat.postMessage answered not_in_channel; invite the app to the channel (/invite @app)"
        );
    }
}
