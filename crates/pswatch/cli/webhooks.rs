//! `pswatch planetscale-webhooks list|install`: per watched database, PlanetScale's webhooks and
//! whether one points at `[receiver] public_url`; and creating the missing ones. Talks to the
//! API only (through a budget of its own), never the state directory, so it works while the
//! service runs.

use std::fmt::Write as _;

use anyhow::Context as _;
use diff_engine::{Target, EVENT_TYPES};
use poller::{PollError, Webhook, DEPLOY_REQUEST_EVENTS};

use crate::config::Config;
use crate::service::clients::{Budgets, Clients};
use crate::service::watched::Watched;

/// Every event a webhook to pswatch subscribes to: the deploy request events (which make it
/// poll) and PlanetScale's events it routes.
pub(crate) fn subscribed_events() -> Vec<&'static str> {
    DEPLOY_REQUEST_EVENTS
        .iter()
        .copied()
        .chain(
            EVENT_TYPES
                .iter()
                .filter_map(|name| name.strip_prefix("planetscale.")),
        )
        .collect()
}

/// The API clients of `config`, with budgets of their own (the command runs beside the
/// service).
pub(crate) fn clients(config: &Config) -> anyhow::Result<Clients> {
    Clients::new(config, &Budgets::default(), None)
}

/// The watched databases, listed as the service lists them; an organization that cannot be
/// listed is a line of `text`, and makes `all` false.
async fn watched(
    config: &Config,
    clients: &Clients,
    text: &mut String,
    all: &mut bool,
) -> Vec<Target> {
    let (targets, unlisted) = Watched::default().targets(config, clients).await;
    for (organization, error) in unlisted {
        *all = false;
        let _ = writeln!(
            text,
            "{organization}: its databases cannot be listed: {error}"
        );
    }
    targets
}

fn public_url(config: &Config) -> anyhow::Result<String> {
    config.public_url().context("set [receiver] listen and public_url (the https address PlanetScale posts to) first; see docs/push.md")
}

fn describe(webhook: &Webhook, public_url: &str) -> String {
    let last = if poller::last_delivery_failed(webhook) {
        "LAST DELIVERY FAILED"
    } else if webhook.last_sent_at.is_none() {
        "nothing sent yet"
    } else {
        "last delivery ok"
    };
    let deploy = DEPLOY_REQUEST_EVENTS
        .iter()
        .filter(|event| webhook.events.iter().any(|known| known == *event))
        .count();
    format!(
        "  {} {}{} {} {}; deploy_request events {deploy} of {}; {} events in all",
        webhook.id,
        webhook.url,
        if poller::same_url(&webhook.url, public_url) {
            " (pswatch)"
        } else {
            ""
        },
        if webhook.enabled {
            "enabled"
        } else {
            "DISABLED"
        },
        last,
        DEPLOY_REQUEST_EVENTS.len(),
        webhook.events.len()
    )
}

/// What `list` prints, and whether every database has a webhook that gives push.
pub(crate) async fn list(config: &Config) -> anyhow::Result<(String, bool)> {
    let public_url = public_url(config)?;
    let clients = clients(config)?;
    let mut text = String::new();
    let mut all = true;
    for target in watched(config, &clients, &mut text, &mut all).await {
        let client = clients.of(&target.organization);
        let webhooks = match client.list_webhooks(&target).await {
            Ok(webhooks) => webhooks,
            Err(error) => {
                all = false;
                let _ = writeln!(text, "{target}: cannot read its webhooks: {error}");
                continue;
            }
        };
        let gives = webhooks
            .iter()
            .any(|webhook| poller::gives_push(webhook, &public_url));
        all &= gives;
        let verdict = if gives {
            format!("push ready: a webhook posts every deploy_request event to {public_url}")
        } else if webhooks
            .iter()
            .any(|webhook| poller::same_url(&webhook.url, &public_url))
        {
            format!("a webhook points at {public_url} but is disabled, failing or misses deploy_request events; fix it in the dashboard (Settings > Webhooks)")
        } else {
            format!("no webhook points at {public_url}; `pswatch planetscale-webhooks install` creates one")
        };
        let _ = writeln!(text, "{target}: {verdict}");
        for webhook in &webhooks {
            let _ = writeln!(text, "{}", describe(webhook, &public_url));
        }
    }
    if text.is_empty() {
        text.push_str("no database is watched\n");
    }
    Ok((text, all))
}

/// What `install` prints, and whether every database ends with a webhook to `public_url`.
pub(crate) async fn install(config: &Config) -> anyhow::Result<(String, bool)> {
    let public_url = public_url(config)?;
    let clients = clients(config)?;
    let events = subscribed_events();
    let mut text = String::new();
    let mut all = true;
    for target in watched(config, &clients, &mut text, &mut all).await {
        let client = clients.of(&target.organization);
        let webhooks = match client.list_webhooks(&target).await {
            Ok(webhooks) => webhooks,
            Err(error) => {
                all = false;
                let _ = writeln!(text, "{target}: cannot read its webhooks: {error}");
                continue;
            }
        };
        if webhooks
            .iter()
            .any(|webhook| poller::same_url(&webhook.url, &public_url))
        {
            let _ = writeln!(
                text,
                "{target}: a webhook to {public_url} exists; left as it is"
            );
            continue;
        }
        match client.create_webhook(&target, &public_url, &events).await {
            Ok(webhook) => {
                let _ = writeln!(
                    text,
                    "{target}: created webhook {} to {public_url} ({} events); pswatch reads its secret from the API",
                    webhook.id,
                    webhook.events.len()
                );
            }
            Err(
                error @ (PollError::Forbidden { .. }
                | PollError::Unauthorized { .. }
                | PollError::NotFound { .. }),
            ) => {
                all = false;
                let _ = writeln!(
                    text,
                    "{target}: PlanetScale refused to create the webhook ({error}); the service token needs the write_database access on this database (and read_database to list webhooks)"
                );
            }
            Err(error) => {
                all = false;
                let _ = writeln!(text, "{target}: cannot create the webhook: {error}");
            }
        }
    }
    if text.is_empty() {
        text.push_str("no database is watched\n");
    }
    Ok((text, all))
}
