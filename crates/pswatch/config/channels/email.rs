//! `type = "email"`: an SMTP relay (`smtp_url`, a secret), a sender and recipients.

use notifier::{EmailChannel, Mailbox, Secret};
use serde::Deserialize;

use super::super::{problem, Problem};
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawEmail {
    smtp_url: String,
    from: String,
    to: Vec<String>,
}

impl CheckKind for RawEmail {
    type Kind = EmailChannel;

    fn check(&self, key: &str, name: &str, problems: &mut Vec<Problem>) -> Option<EmailChannel> {
        let from = mailbox(&format!("{key}.from"), &self.from, problems);
        let to = if self.to.is_empty() {
            problem(
                problems,
                format!("{key}.to"),
                "is empty; name at least one recipient",
            );
            None
        } else {
            let before = problems.len();
            let mailboxes: Vec<Mailbox> = self
                .to
                .iter()
                .enumerate()
                .filter_map(|(position, address)| {
                    mailbox(&format!("{key}.to[{position}]"), address, problems)
                })
                .collect();
            (problems.len() == before).then_some(mailboxes)
        };
        let smtp_url = smtp(&format!("{key}.smtp_url"), name, &self.smtp_url, problems);
        Some(EmailChannel {
            smtp_url: smtp_url?,
            from: from?,
            to: to?,
        })
    }
}

fn mailbox(key: &str, text: &str, problems: &mut Vec<Problem>) -> Option<Mailbox> {
    text.parse::<Mailbox>()
        .map_err(|error| {
            problem(
                problems,
                key,
                format!("{text:?} is not an email address: {error}"),
            )
        })
        .ok()
}

/// Checks an SMTP URL by building the transport from it, as a run would.
fn smtp(key: &str, channel: &str, text: &str, problems: &mut Vec<Problem>) -> Option<Secret> {
    if !(text.starts_with("smtp://") || text.starts_with("smtps://")) {
        problem(
            problems,
            key,
            "must start with smtp:// (plain or, with ?tls=required, STARTTLS) or smtps:// (TLS)",
        );
        return None;
    }
    let secret = Secret::new(text);
    let email = EmailChannel {
        smtp_url: secret.clone(),
        from: "check@pswatch.invalid".parse().ok()?,
        to: Vec::new(),
    };
    match notifier::smtp_transport(channel, &email) {
        Ok(_) => Some(secret),
        Err(error) => {
            problem(problems, key, error.message);
            None
        }
    }
}
