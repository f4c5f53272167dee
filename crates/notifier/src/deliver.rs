//! The notifier: sends events through the configured channels, each receiver paced.

use std::collections::HashMap;

use diff_engine::Event;

use crate::channel::Channel;
use crate::kinds::Sender;
use crate::pacer::Pacer;
use crate::send::{Payload, DELIVERY_TIMEOUT};
use crate::template::{ErrorHook, TemplateError};
use crate::verdict::{ChannelError, DeliveryError, Verdict};
use crate::words::Words;
use model::Memos;

struct Configured {
    channel: Channel,
    sender: Sender,
    pacer: Pacer,
}

/// Sends events through the configured channels.
pub struct Notifier {
    http: reqwest::Client,
    senders: HashMap<String, Configured>,
    template_failed: Option<ErrorHook>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Notifier")
            .field("channels", &self.senders.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Notifier {
    /// Builds a sender for each channel. Fails on a channel that cannot be built (an SMTP URL
    /// lettre refuses), naming it.
    pub fn new(channels: &[Channel]) -> Result<Self, ChannelError> {
        let http = http_util::client(DELIVERY_TIMEOUT).map_err(|error| ChannelError {
            channel: String::new(),
            message: format!("cannot build the HTTP client: {error}"),
        })?;
        let mut senders = HashMap::new();
        // Slack's one message a second applies per webhook URL or Slack channel, and
        // PagerDuty's rate per routing key, whichever pswatch channel uses them.
        let mut pacers: HashMap<String, Pacer> = HashMap::new();
        for channel in channels {
            let pacer = pacers
                .entry(channel.kind.pace_key(&channel.name))
                .or_default()
                .clone();
            let sender = channel.kind.sender(&channel.name)?;
            senders.insert(
                channel.name.clone(),
                Configured {
                    channel: channel.clone(),
                    sender,
                    pacer,
                },
            );
        }
        Ok(Self {
            http,
            senders,
            template_failed: None,
        })
    }

    /// Calls `hook` for each template that fails at run time (after logging it), so that the
    /// service can count the failures; the built-in text is sent instead.
    #[must_use]
    pub fn on_template_error(mut self, hook: ErrorHook) -> Self {
        self.template_failed = Some(hook);
        self
    }

    /// The channel's templates' text for `events`; a template that fails is logged and
    /// reported, and its events get the built-in text.
    fn words(&self, configured: &Configured, channel: &str, events: &[Event]) -> Words {
        let mut failed = |error: &TemplateError| {
            tracing::warn!(channel, %error, "a template failed; the built-in text is sent instead");
            if let Some(hook) = &self.template_failed {
                hook(error);
            }
        };
        let flavor = configured.channel.kind.flavor();
        let words = configured
            .channel
            .templates
            .words(events, flavor, &mut failed);
        crate::digest::with_digests(words, events, flavor)
            .naming(configured.channel.people.clone())
            .linking(configured.channel.status_page.clone())
    }

    /// The configured channel of that name.
    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.senders.get(name).map(|configured| &configured.channel)
    }

    /// The names of the configured channels.
    pub fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.senders.keys().map(String::as_str)
    }

    /// Sends `events` (of one target and poll) through `channel`: as one message (Slack's
    /// webhook, email, Teams, console), a message or page per resource (Slack's Web API,
    /// PagerDuty) or one request each (webhook). `Ok` means the receiver accepted all of them.
    /// Waits first if the channel's `min_interval` has not passed since the last message to the
    /// same receiver.
    ///
    /// `memos` holds what the channel remembers of the events' resources (load them first
    /// when [`ChannelKind::remembers`](crate::ChannelKind::remembers)); the delivery changes them as it goes, and the changed
    /// ones are to be kept whether it succeeds or fails, since part of it may have gone out.
    pub async fn deliver(
        &self,
        channel: &str,
        events: &[Event],
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let configured = self.configured(channel)?;
        let words = self.words(configured, channel, events);
        if !configured.channel.kind.groups_events() {
            for event in events {
                self.paced(
                    configured,
                    channel,
                    Payload::Events(std::slice::from_ref(event), &words),
                    memos,
                )
                .await?;
            }
            return Ok(());
        }
        self.paced(configured, channel, Payload::Events(events, &words), memos)
            .await
    }

    /// Sends a clearly marked test message through `channel`, paced like any other. It starts
    /// no thread and leaves no incident open.
    pub async fn deliver_test(&self, channel: &str) -> Result<(), DeliveryError> {
        self.deliver_test_at(channel, None).await
    }

    /// [`Notifier::deliver_test`], a GitHub channel's status on the head of `git_ref` (other
    /// kinds have no ref and send their test as ever).
    pub async fn deliver_test_at(
        &self,
        channel: &str,
        git_ref: Option<&str>,
    ) -> Result<(), DeliveryError> {
        let configured = self.configured(channel)?;
        self.paced(
            configured,
            channel,
            Payload::Test { git_ref },
            &mut Memos::new(),
        )
        .await
    }

    /// Posts `text` (Slack mrkdwn) through the Slack channel `channel` (Web API), in the thread
    /// `thread_ts` when given: what was done from one of its buttons. Paced like any message.
    pub async fn note_in_slack(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> Result<(), DeliveryError> {
        let configured = self.configured(channel)?;
        let Sender::Slack(crate::kinds::slack::SlackSender::Api(api)) = &configured.sender else {
            return Err(DeliveryError::new(
                Verdict::Permanent,
                format!("channel {channel:?} is not a Slack channel of the Web API"),
            ));
        };
        let note = api.note(&self.http, channel, thread_ts, text);
        configured
            .pacer
            .pace(configured.channel.min_interval, note)
            .await
    }

    /// Sends the firing alerts `alerts` of the Alertmanager channel `channel` again, valid for
    /// another four of its `resend`s, or, when `ending`, resolved. Paced like any message.
    pub async fn resend_alerts(
        &self,
        channel: &str,
        alerts: &[model::FiringAlert],
        ending: bool,
    ) -> Result<(), DeliveryError> {
        let configured = self.configured(channel)?;
        let Sender::Alertmanager(alertmanager) = &configured.sender else {
            return Err(DeliveryError::new(
                Verdict::Permanent,
                format!("channel {channel:?} is not an Alertmanager channel"),
            ));
        };
        let resend = alertmanager.resend(&self.http, channel, alerts, ending);
        configured
            .pacer
            .pace(configured.channel.min_interval, resend)
            .await
    }

    fn configured(&self, channel: &str) -> Result<&Configured, DeliveryError> {
        self.senders.get(channel).ok_or_else(|| {
            DeliveryError::new(
                Verdict::Permanent,
                format!("channel {channel:?} is not configured (any more)"),
            )
        })
    }

    async fn paced(
        &self,
        configured: &Configured,
        channel: &str,
        payload: Payload<'_>,
        memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        let send = configured.sender.send(&self.http, channel, payload, memos);
        configured
            .pacer
            .pace(configured.channel.min_interval, send)
            .await
    }
}
