//! Email over SMTP: one multipart message for a poll's events.

pub(crate) mod render;
pub(crate) mod send;

use diff_engine::Event;
use lettre::message::Mailbox;
use model::Memos;

use super::{line, Kind};
use crate::secret::Secret;
use crate::verdict::ChannelError;
use crate::words::Words;

/// An SMTP relay and the message's sender and recipients.
#[derive(Debug, Clone)]
pub struct EmailChannel {
    /// `smtp://`, `smtp://…?tls=required` or `smtps://`, maybe with `user:password@`.
    pub smtp_url: Secret,
    /// The sender.
    pub from: Mailbox,
    /// The recipients; at least one.
    pub to: Vec<Mailbox>,
}

impl Kind for EmailChannel {
    const TYPE: &'static str = "email";
    type Sender = send::Email;

    fn sender(&self, channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::Email {
            transport: send::smtp_transport(channel, self)?,
            from: self.from.clone(),
            to: self.to.clone(),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, _memos: &Memos) -> String {
        let content = render::email(events, words);
        let to: Vec<String> = self.to.iter().map(ToString::to_string).collect();
        let mut text = String::new();
        line(
            &mut text,
            format_args!(
                "To: {}\nSubject: {}\n\n{}",
                to.join(", "),
                content.subject,
                content.text
            ),
        );
        text
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        part(self.smtp_url.expose().as_bytes());
        for to in &self.to {
            part(to.to_string().as_bytes());
        }
    }
}
