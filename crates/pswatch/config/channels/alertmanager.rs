//! `type = "alertmanager"`: one or more Alertmanagers' base URLs (`urls`), maybe a
//! `bearer_token` or a `basic_auth` (`username`, `password`), both secrets, and how often a
//! firing alert is sent again (`resend`).

use std::time::Duration;

use notifier::{AlertmanagerAuth, AlertmanagerChannel, Secret};
use serde::Deserialize;

use super::super::{http_url, problem, Problem};
use super::CheckKind;

/// At most this many Alertmanagers in one channel.
const MOST_URLS: usize = 16;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawAlertmanager {
    urls: Vec<String>,
    bearer_token: Option<String>,
    basic_auth: Option<RawBasicAuth>,
    #[serde(default, with = "humantime_serde")]
    resend: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasicAuth {
    username: String,
    password: String,
}

/// `text` as a secret: not empty, no whitespace; never quoted.
fn secret(key: &str, text: &str, what: &str, problems: &mut Vec<Problem>) -> Option<Secret> {
    let text = text.trim();
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        problem(
            problems,
            key,
            format!("is empty or holds whitespace; give the {what}"),
        );
        return None;
    }
    Some(Secret::new(text))
}

impl CheckKind for RawAlertmanager {
    type Kind = AlertmanagerChannel;

    fn check(
        &self,
        key: &str,
        _name: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<AlertmanagerChannel> {
        let mut valid = true;
        if self.urls.is_empty() || self.urls.len() > MOST_URLS {
            problem(
                problems,
                format!("{key}.urls"),
                format!("give from 1 to {MOST_URLS} Alertmanager base URLs, like \"http://alertmanager:9093\""),
            );
            valid = false;
        }
        let mut urls = Vec::new();
        for (position, text) in self.urls.iter().enumerate() {
            let at = format!("{key}.urls[{position}]");
            let Some(url) = http_url(&at, text, false, problems) else {
                valid = false;
                continue;
            };
            if !url.username().is_empty() || url.password().is_some() {
                problem(
                    problems,
                    at,
                    "holds credentials; give them in basic_auth instead",
                );
                valid = false;
            } else if url.query().is_some() || url.fragment().is_some() {
                problem(
                    problems,
                    at,
                    "is the Alertmanager's base URL: no query or fragment (pswatch adds /api/v2/alerts)",
                );
                valid = false;
            } else if urls.contains(&url) {
                problem(problems, at, "is given twice");
                valid = false;
            } else {
                urls.push(url);
            }
        }
        let auth = match (&self.bearer_token, &self.basic_auth) {
            (Some(_), Some(_)) => {
                problem(
                    problems,
                    format!("{key}.bearer_token"),
                    "and basic_auth are exclusive; give one",
                );
                None
            }
            (Some(token), None) => secret(
                &format!("{key}.bearer_token"),
                token,
                "token the Alertmanager (or its proxy) expects",
                problems,
            )
            .map(AlertmanagerAuth::Bearer),
            (None, Some(basic)) => {
                let username = basic.username.trim();
                if username.is_empty() || username.contains(':') {
                    problem(
                        problems,
                        format!("{key}.basic_auth.username"),
                        "is empty or holds a colon",
                    );
                    valid = false;
                }
                secret(
                    &format!("{key}.basic_auth.password"),
                    &basic.password,
                    "password",
                    problems,
                )
                .map(|password| AlertmanagerAuth::Basic {
                    username: username.to_owned(),
                    password,
                })
            }
            (None, None) => Some(AlertmanagerAuth::None),
        };
        let resend = match self.resend {
            None => notifier::kinds::alertmanager::DEFAULT_RESEND,
            Some(resend)
                if (Duration::from_secs(10)..=Duration::from_secs(3600)).contains(&resend) =>
            {
                resend
            }
            Some(_) => {
                problem(
                    problems,
                    format!("{key}.resend"),
                    "must be from 10s to 1h: a firing alert is sent again this often, valid four times as long",
                );
                valid = false;
                Duration::ZERO
            }
        };
        let auth = auth?;
        valid.then_some(AlertmanagerChannel { urls, auth, resend })
    }
}
