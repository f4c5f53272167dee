//! Slack, two ways: an incoming webhook takes one Block Kit message a poll; the Web API (a bot
//! token) keeps a thread per resource whose first message stays current.

pub mod actions;
pub(crate) mod render;
mod send;

use std::time::Duration;

use diff_engine::Event;
use model::{Memos, ResourceKey};

use super::{line, pretty, Deliver, Kind};
use crate::secret::Secret;
use crate::send::Payload;
use crate::verdict::{ChannelError, DeliveryError};
use crate::words::{Flavor, Words};

/// Slack's Web API, where a Slack channel with a bot token posts.
pub const SLACK_API_URL: &str = "https://slack.com/api";

/// How a Slack channel reaches Slack.
#[derive(Debug, Clone)]
pub enum SlackChannel {
    /// An incoming webhook: one message per poll; the URL is the secret.
    Webhook {
        /// The incoming webhook's URL.
        webhook_url: Secret,
    },
    /// The Web API with a bot token: a thread per resource whose first message stays current.
    Api(SlackApi),
}

/// A Slack app's bot token and the channel it posts to.
#[derive(Debug, Clone)]
pub struct SlackApi {
    /// The `xoxb-` bot token.
    pub bot_token: Secret,
    /// The channel's id, like `C0123456789`.
    pub channel: String,
    /// The Web API's base address, `https://slack.com/api` unless set.
    pub api_url: url::Url,
    /// The buttons on its threads, when the app's signing secret is set.
    pub actions: Option<actions::SlackActions>,
}

/// A Slack channel's sender, by how it reaches Slack.
pub(crate) enum SlackSender {
    Webhook(send::SlackWebhook),
    Api(send::SlackWebApi),
}

impl Deliver for SlackSender {
    async fn send(
        &self,
        http: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        match self {
            Self::Webhook(slack) => slack.send(http, channel, payload).await,
            Self::Api(slack) => slack.send(http, channel, payload, memos).await,
        }
    }
}

impl Kind for SlackChannel {
    const TYPE: &'static str = "slack";
    type Sender = SlackSender;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(match self {
            Self::Webhook { webhook_url } => SlackSender::Webhook(send::SlackWebhook {
                webhook_url: webhook_url.clone(),
            }),
            Self::Api(api) => SlackSender::Api(send::SlackWebApi { api: api.clone() }),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, memos: &Memos) -> String {
        let mut text = String::new();
        let api = match self {
            Self::Webhook { .. } => {
                line(
                    &mut text,
                    format_args!(
                        "POST (incoming webhook)\n{}",
                        pretty(&render::slack_message(events, words))
                    ),
                );
                return text;
            }
            Self::Api(api) => api,
        };
        for (key, mine) in ResourceKey::group(events) {
            let thread = key
                .as_ref()
                .and_then(|key| memos.get(key))
                .and_then(|memo| memo.thread.as_ref())
                .filter(|thread| thread.channel == api.channel);
            let shown = match (key, thread) {
                (Some(_), Some(thread)) => format!(
                    "chat.postMessage in thread {} of {}\n{}\nchat.update of {}\n{}",
                    thread.ts,
                    api.channel,
                    pretty(&render::slack_message(&mine, words)),
                    thread.ts,
                    pretty(&render::slack_thread_head(
                        &mine,
                        thread.state.as_deref(),
                        words
                    ))
                ),
                (Some(_), None) => format!(
                    "chat.postMessage to {} (a new thread)\n{}",
                    api.channel,
                    pretty(&render::slack_thread_head(&mine, None, words))
                ),
                (None, _) => format!(
                    "chat.postMessage to {}\n{}",
                    api.channel,
                    pretty(&render::slack_message(&mine, words))
                ),
            };
            line(&mut text, shown);
        }
        text
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        match self {
            Self::Webhook { webhook_url } => part(webhook_url.expose().as_bytes()),
            Self::Api(api) => {
                part(api.api_url.as_str().as_bytes());
                part(api.bot_token.expose().as_bytes());
                part(api.channel.as_bytes());
            }
        }
    }

    /// Slack asks for at most one message a second to a webhook or a channel.
    fn min_interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn pace_key(&self, _channel: &str) -> String {
        match self {
            Self::Webhook { webhook_url } => format!("slack {}", webhook_url.expose()),
            Self::Api(api) => format!("slack-api {} {}", api.api_url, api.channel),
        }
    }

    /// Values in a template are escaped for mrkdwn.
    fn flavor(&self) -> Flavor {
        Flavor::Slack
    }

    fn remembers(&self) -> bool {
        matches!(self, Self::Api(_))
    }
}
