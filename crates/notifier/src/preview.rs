//! What a channel would send for a poll's events, as text, without sending it: for
//! `pswatch once --dry-run`. Each kind shows the message it would build, secrets left out.

use diff_engine::Event;

use crate::channel::Channel;
use model::Memos;

/// What `channel` would send for `events` (of one target and poll), given what it remembers
/// (`memos`: its Slack threads and open incidents).
/// A template that fails gives way to the built-in text, as in a delivery.
pub fn preview(channel: &Channel, events: &[Event], memos: &Memos) -> String {
    let flavor = channel.kind.flavor();
    let words = channel.templates.words(events, flavor, &mut |_| {});
    let words = crate::digest::with_digests(words, events, flavor);
    channel.kind.preview(events, &words, memos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::pagerduty::PagerDutyChannel;
    use crate::kinds::slack::{SlackApi, SlackChannel};
    use crate::kinds::ChannelKind;
    use crate::secret::Secret;
    use crate::testing::sample_events;
    use model::ResourceKey;
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
                actions: None,
            })),
        );
        let pager = Channel::new(
            "pager",
            ChannelKind::PagerDuty(PagerDutyChannel {
                routing_key: Secret::new("R0UT1NGK3Y"),
                api_url: "https://events.pagerduty.com".parse().expect("url"),
                page_on_warning: false,
                change_events: false,
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
