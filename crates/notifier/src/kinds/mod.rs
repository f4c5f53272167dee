//! Channel kinds, one module each: a kind's configured values, its rendering, its sending (and
//! what its receiver's answers mean), its preview and what of it is secret sit together in
//! `kinds/<kind>/`. The list below is the one place that names them all; adding a kind is
//! writing its module and adding its line (and the line of its configuration in pswatch's
//! `config/channels/`).

use std::fmt::Write as _;
use std::future::Future;
use std::time::Duration;

use diff_engine::Event;
use model::Memos;

use crate::send::Payload;
use crate::verdict::{ChannelError, DeliveryError};
use crate::words::{Flavor, Words};

pub mod alertmanager;
pub mod console;
pub mod discord;
pub mod email;
pub mod github;
pub mod google_chat;
pub mod pagerduty;
pub mod slack;
pub mod teams;
pub mod webhook;

/// What every channel kind provides. `Self` is the kind's configured values, as
/// [`ChannelKind`] holds them.
pub(crate) trait Kind: Sized {
    /// Its `type` in the configuration.
    const TYPE: &'static str;

    /// What a configured channel keeps to send with (a transport, an address).
    type Sender: Deliver;

    /// Builds the sender; fails on values that pass the configuration's checks but not the
    /// transport's, naming the channel.
    fn sender(&self, channel: &str) -> Result<Self::Sender, ChannelError>;

    /// What it would send, as text with no secret in it (`pswatch once --dry-run`), with
    /// `words` from its templates.
    fn preview(&self, events: &[Event], words: &Words, memos: &Memos) -> String;

    /// Feeds `part` every value that decides where the channel sends, secrets included (they
    /// only ever reach a keyed digest).
    fn fingerprint(&self, part: &mut dyn FnMut(&[u8]));

    /// The least time between two messages to one receiver unless the channel sets it.
    fn min_interval(&self) -> Duration {
        Duration::ZERO
    }

    /// Which receiver the pace applies to: channels with the same key share one pace (Slack's
    /// one message a second per webhook URL, whichever channel uses it).
    fn pace_key(&self, channel: &str) -> String {
        format!("channel {channel}")
    }

    /// Whether the events of one poll go out together rather than one request each.
    fn groups_events(&self) -> bool {
        true
    }

    /// Whether deliveries read and change what the channel remembers of a resource.
    fn remembers(&self) -> bool {
        false
    }

    /// Whether deliveries read and change the channel's firing alerts, which are sent again
    /// while they last.
    fn fires_alerts(&self) -> bool {
        false
    }

    /// How its templates' values are escaped.
    fn flavor(&self) -> Flavor {
        Flavor::Plain
    }
}

/// A kind's sender.
pub(crate) trait Deliver: Send + Sync {
    /// Sends one payload through `channel`; `memos` are what the channel remembers of the
    /// payload's resources, changed as parts go out.
    fn send(
        &self,
        http: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        memos: &mut Memos,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// Appends a line to a preview.
pub(crate) fn line(text: &mut String, line: impl std::fmt::Display) {
    let _ = writeln!(text, "{line}");
}

/// Pretty JSON for previews.
pub(crate) fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Writes [`ChannelKind`] and the notifier's sender from the list of kinds: one variant each,
/// every method a `match` over them.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($config:ty), )*) => {
        /// Where a channel sends, and how: one variant a kind, holding its configured values.
        #[derive(Debug, Clone)]
        pub enum ChannelKind {
            $( $(#[$doc])* $variant($config), )*
        }

        $(
            impl From<$config> for ChannelKind {
                fn from(kind: $config) -> Self {
                    Self::$variant(kind)
                }
            }
        )*

        /// A configured channel's sender, of its kind.
        pub(crate) enum Sender {
            $( $variant(<$config as Kind>::Sender), )*
        }

        impl ChannelKind {
            /// Every kind's `type`, as the configuration writes it.
            pub const TYPES: &'static [&'static str] = &[$( <$config as Kind>::TYPE, )*];

            /// Its `type`, as the configuration writes it.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => <$config as Kind>::TYPE, )*
                }
            }

            /// Whether the events of one poll are delivered together (one message for Slack,
            /// email, Teams and the console; one message or page per resource for Slack's Web
            /// API and PagerDuty) rather than one request each (webhooks, where each event keeps
            /// its own `webhook-id`).
            pub fn groups_events(&self) -> bool {
                match self {
                    $( Self::$variant(kind) => kind.groups_events(), )*
                }
            }

            /// Whether deliveries read and change what the channel remembers of a resource
            /// ([`Memos`]): a Slack thread, a PagerDuty incident.
            pub fn remembers(&self) -> bool {
                match self {
                    $( Self::$variant(kind) => kind.remembers(), )*
                }
            }

            /// Whether deliveries read and change the channel's firing alerts (Alertmanager's):
            /// load them into the [`Memos`] first, keep the changed ones after, and send them
            /// again while they last.
            pub fn fires_alerts(&self) -> bool {
                match self {
                    $( Self::$variant(kind) => kind.fires_alerts(), )*
                }
            }

            pub(crate) fn min_interval(&self) -> Duration {
                match self {
                    $( Self::$variant(kind) => kind.min_interval(), )*
                }
            }

            pub(crate) fn pace_key(&self, channel: &str) -> String {
                match self {
                    $( Self::$variant(kind) => kind.pace_key(channel), )*
                }
            }

            pub(crate) fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
                match self {
                    $( Self::$variant(kind) => kind.fingerprint(part), )*
                }
            }

            pub(crate) fn preview(&self, events: &[Event], words: &Words, memos: &Memos) -> String {
                match self {
                    $( Self::$variant(kind) => kind.preview(events, words, memos), )*
                }
            }

            /// How its templates' values are escaped: for Slack's mrkdwn, or not at all.
            pub fn flavor(&self) -> Flavor {
                match self {
                    $( Self::$variant(kind) => kind.flavor(), )*
                }
            }

            pub(crate) fn sender(&self, channel: &str) -> Result<Sender, ChannelError> {
                Ok(match self {
                    $( Self::$variant(kind) => Sender::$variant(kind.sender(channel)?), )*
                })
            }
        }

        impl Sender {
            pub(crate) async fn send(
                &self,
                http: &reqwest::Client,
                channel: &str,
                payload: Payload<'_>,
                memos: &mut Memos,
            ) -> Result<(), DeliveryError> {
                match self {
                    $( Self::$variant(sender) => sender.send(http, channel, payload, memos).await, )*
                }
            }
        }
    };
}

kinds! {
    /// Slack, through an incoming webhook or the Web API.
    Slack(slack::SlackChannel),
    /// Email over SMTP.
    Email(email::EmailChannel),
    /// A Standard Webhooks receiver.
    Webhook(webhook::WebhookChannel),
    /// A Microsoft Teams Workflows webhook, sent Adaptive Cards.
    Teams(teams::TeamsChannel),
    /// PagerDuty's Events API v2: incidents that open on errors and resolve on recovery.
    PagerDuty(pagerduty::PagerDutyChannel),
    /// One line per event on standard output.
    Console(console::ConsoleChannel),
    /// A Discord channel's webhook: embeds.
    Discord(discord::DiscordChannel),
    /// A Google Chat space's webhook: a card an event, a thread per resource.
    GoogleChat(google_chat::GoogleChatChannel),
    /// A GitHub repository's commit statuses: a deploy request's state on its branch's head.
    GitHub(github::GitHubChannel),
    /// Alertmanager's API v2: alerts that fire while a resource is in trouble.
    Alertmanager(alertmanager::AlertmanagerChannel),
}
