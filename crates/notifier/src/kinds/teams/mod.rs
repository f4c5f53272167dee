//! Microsoft Teams through a Workflows webhook: one Adaptive Card a poll.

pub(crate) mod render;
mod send;

use diff_engine::Event;
use model::Memos;

use super::{pretty, Kind};
use crate::secret::SecretUrl;
use crate::verdict::ChannelError;
use crate::words::Words;

/// A Teams Workflows webhook; its URL (which carries the Workflow's signature) is the secret.
#[derive(Debug, Clone)]
pub struct TeamsChannel {
    /// The Workflows webhook's URL.
    pub webhook_url: SecretUrl,
}

impl Kind for TeamsChannel {
    const TYPE: &'static str = "teams";
    type Sender = send::Teams;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::Teams {
            webhook_url: self.webhook_url.clone(),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, _memos: &Memos) -> String {
        format!("POST\n{}\n", pretty(&render::teams_message(events, words)))
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        part(self.webhook_url.expose().as_str().as_bytes());
    }
}
