//! Alertmanager's API v2: an error, a wait or a stall becomes a firing alert, sent again every
//! `resend` while it lasts and resolved when its resource moves on, posted to each configured
//! Alertmanager as Prometheus does.

pub mod render;
mod send;

use std::time::Duration;

use diff_engine::Event;
use model::Memos;

use super::{line, pretty, Kind};
use crate::secret::Secret;
use crate::verdict::ChannelError;
use crate::words::Words;

/// How often a firing alert is sent again unless `resend` says otherwise.
pub const DEFAULT_RESEND: Duration = Duration::from_secs(60);

/// How an Alertmanager is authenticated.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertmanagerAuth {
    /// Not at all.
    None,
    /// `Authorization: Bearer …`.
    Bearer(Secret),
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
}

/// One or more Alertmanagers (of one cluster, or several): every alert goes to each.
#[derive(Debug, Clone)]
pub struct AlertmanagerChannel {
    /// The Alertmanagers' base URLs (`http://alertmanager:9093`).
    pub urls: Vec<url::Url>,
    /// How to authenticate.
    pub auth: AlertmanagerAuth,
    /// How often a firing alert is sent again while it lasts; it is sent valid for four times
    /// as long, so that Alertmanager resolves it on its own when pswatch stops sending.
    pub resend: Duration,
}

impl AlertmanagerChannel {
    /// The secrets to cut out of anything an Alertmanager answers.
    fn secrets(&self) -> Vec<&str> {
        match &self.auth {
            AlertmanagerAuth::None => Vec::new(),
            AlertmanagerAuth::Bearer(token) => vec![token.expose()],
            AlertmanagerAuth::Basic { password, .. } => vec![password.expose()],
        }
    }

    /// How long a firing alert stays valid after it is sent.
    pub fn valid_for(&self) -> time::Duration {
        time::Duration::try_from(self.resend * 4).unwrap_or(time::Duration::HOUR)
    }
}

impl Kind for AlertmanagerChannel {
    const TYPE: &'static str = "alertmanager";
    type Sender = send::Alertmanager;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::Alertmanager {
            channel: self.clone(),
        })
    }

    fn preview(&self, events: &[Event], words: &Words, memos: &Memos) -> String {
        let Some(first) = events.first() else {
            return String::new();
        };
        let plan = send::plan(events, words, memos);
        if plan.is_empty() {
            return format!(
                "nothing: {} fires or ends no alert\n",
                crate::text::headline(first)
            );
        }
        let bodies = send::bodies(&plan, first.observed_at, self.valid_for());
        let mut text = String::new();
        line(
            &mut text,
            format_args!(
                "POST /api/v2/alerts to {} Alertmanager(s) (credentials left out)\n{}",
                self.urls.len(),
                pretty(&serde_json::Value::Array(bodies))
            ),
        );
        text
    }

    fn fingerprint(&self, part: &mut dyn FnMut(&[u8])) {
        for url in &self.urls {
            part(url.as_str().as_bytes());
        }
        match &self.auth {
            AlertmanagerAuth::None => part(b"none"),
            AlertmanagerAuth::Bearer(token) => part(token.expose().as_bytes()),
            AlertmanagerAuth::Basic { username, password } => {
                part(username.as_bytes());
                part(password.expose().as_bytes());
            }
        }
    }

    fn fires_alerts(&self) -> bool {
        true
    }
}
