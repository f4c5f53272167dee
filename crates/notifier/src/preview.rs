//! What a channel would send for a poll's events, as text, without sending it: for
//! `pswatch once --dry-run`. Each kind shows the message it would build, secrets left out.

use std::fmt::Write as _;

use diff_engine::Event;
use serde_json::Value;

use crate::channel::{Channel, ChannelKind, SlackChannel};
use crate::render::{self, pagerduty};
use model::{Memos, ResourceKey};

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// What `channel` would send for `events` (of one target and poll), given what it remembers
/// (`memos`: its Slack threads and open incidents).
pub fn preview(channel: &Channel, events: &[Event], memos: &Memos) -> String {
    let mut text = String::new();
    match &channel.kind {
        ChannelKind::Console => {
            for event in events {
                let _ = writeln!(text, "{}", render::console_line(event));
            }
        }
        ChannelKind::Slack(SlackChannel::Webhook { .. }) => {
            let _ = writeln!(
                text,
                "POST (incoming webhook)\n{}",
                pretty(&render::slack_message(events))
            );
        }
        ChannelKind::Slack(SlackChannel::Api(api)) => {
            for (key, mine) in ResourceKey::group(events) {
                let thread = key
                    .as_ref()
                    .and_then(|key| memos.get(key))
                    .and_then(|memo| memo.thread.as_ref())
                    .filter(|thread| thread.channel == api.channel);
                match (key, thread) {
                    (Some(_), Some(thread)) => {
                        let _ = writeln!(
                            text,
                            "chat.postMessage in thread {} of {}\n{}\nchat.update of {}\n{}",
                            thread.ts,
                            api.channel,
                            pretty(&render::slack_message(&mine)),
                            thread.ts,
                            pretty(&render::slack_thread_head(&mine, thread.state.as_deref()))
                        );
                    }
                    (Some(_), None) => {
                        let _ = writeln!(
                            text,
                            "chat.postMessage to {} (a new thread)\n{}",
                            api.channel,
                            pretty(&render::slack_thread_head(&mine, None))
                        );
                    }
                    (None, _) => {
                        let _ = writeln!(
                            text,
                            "chat.postMessage to {}\n{}",
                            api.channel,
                            pretty(&render::slack_message(&mine))
                        );
                    }
                }
            }
        }
        ChannelKind::Email(email) => {
            let content = render::email(events);
            let to: Vec<String> = email.to.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                text,
                "To: {}\nSubject: {}\n\n{}",
                to.join(", "),
                content.subject,
                content.text
            );
        }
        ChannelKind::Webhook { .. } => {
            for event in events {
                let body: Value =
                    serde_json::from_slice(&render::webhook_body(event)).unwrap_or_default();
                let _ = writeln!(text, "POST webhook-id: {}\n{}", event.id, pretty(&body));
            }
        }
        ChannelKind::Teams { .. } => {
            let _ = writeln!(text, "POST\n{}", pretty(&render::teams_message(events)));
        }
        ChannelKind::PagerDuty(pagerduty_channel) => {
            for (key, mine) in ResourceKey::group(events) {
                let open = key
                    .as_ref()
                    .and_then(|key| memos.get(key))
                    .is_some_and(|memo| memo.incident.is_some());
                let pages = pagerduty::plan(&mine, open, pagerduty_channel.page_on_warning);
                if pages.is_empty() {
                    let _ = writeln!(text, "nothing: {} pages nobody", render::headline(&mine[0]));
                }
                for page in pages {
                    let body = match page {
                        pagerduty::Page::Trigger(event) => pagerduty::trigger(event),
                        pagerduty::Page::Resolve(event) => pagerduty::resolve(event),
                    };
                    let _ = writeln!(
                        text,
                        "POST /v2/enqueue (routing key left out)\n{}",
                        pretty(&body)
                    );
                }
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{PagerDutyChannel, SlackApi};
    use crate::secret::Secret;
    use crate::testing::sample_events;
    use model::{Memo, SlackThread};

    #[test]
    fn previews_show_what_each_kind_would_send_and_no_secret() {
        let events = sample_events();
        let slack = Channel::new(
            "threads",
            ChannelKind::Slack(SlackChannel::Api(SlackApi {
                bot_token: Secret::new("xoxb-S3CR3T"),
                channel: "C0123456789".into(),
                api_url: "https://slack.com/api".parse().expect("url"),
            })),
        );
        let pager = Channel::new(
            "pager",
            ChannelKind::PagerDuty(PagerDutyChannel {
                routing_key: Secret::new("R0UT1NGK3Y"),
                api_url: "https://events.pagerduty.com".parse().expect("url"),
                page_on_warning: false,
            }),
        );
        let mut memos = Memos::new();
        let text = preview(&slack, &events, &memos);
        assert_eq!(text.matches("(a new thread)").count(), 2, "{text}");
        let key = ResourceKey::of(&events[0]).expect("a workflow");
        memos.load(
            key,
            Memo {
                thread: Some(SlackThread {
                    channel: "C0123456789".into(),
                    ts: "1.000100".into(),
                    state: Some("running".into()),
                    head_current: true,
                }),
                ..Memo::default()
            },
        );
        let text = preview(&slack, &events, &memos);
        assert!(
            text.contains("chat.postMessage in thread 1.000100"),
            "{text}"
        );
        assert!(text.contains("chat.update of 1.000100"), "{text}");
        let text = preview(&pager, &events, &memos);
        assert!(text.contains("\"event_action\": \"trigger\""), "{text}");
        for secret in ["S3CR3T", "R0UT1NGK3Y"] {
            assert!(!preview(&slack, &events, &memos).contains(secret));
            assert!(!text.contains(secret));
        }
    }
}
