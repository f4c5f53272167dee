//! `pswatch once --dry-run`: poll every target, diff, and print per channel what it would send,
//! rendered; send nothing, write no state and no outbox entry. The state directory is read
//! when it exists (stop a running service first: the store allows one process).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use diff_engine::{diff, Event};
use notifier::Memos;
use time::OffsetDateTime;

use crate::cli::webhooks::clients;
use crate::config::Config;
use crate::service::watched::Watched;

/// Runs the dry run and prints its report; exit 1 when a target could not be polled.
pub(crate) async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    // A store that does not exist is not created: every target is then a first poll.
    let store = if config.state_database.is_some() || config.state_path.exists() {
        Some(crate::service::handles::open_store(config).await?)
    } else {
        None
    };
    let clients = clients(config)?;
    let silences = match &store {
        Some(store) => store.all_silences(&config.silences).await?,
        None => config.silences.clone(),
    };
    let now = OffsetDateTime::now_utc();
    let mut failed = false;
    let mut by_channel: BTreeMap<String, Vec<Vec<Event>>> = BTreeMap::new();
    let mut text = String::new();
    // Exactly what `once` polls: the same listing, an organization that cannot be listed
    // reported and the others polled.
    let (targets, unlisted) = Watched::default().targets(config, &clients).await;
    for (organization, error) in unlisted {
        failed = true;
        let _ = writeln!(
            text,
            "{organization}: its databases cannot be listed: {error}"
        );
    }
    for target in targets {
        let previous = match &store {
            Some(store) => store.target_state(&target).await?,
            None => None,
        };
        let client = clients.of(&target.organization);
        let observation = match client.observe(&target, previous.as_ref()).await {
            Ok(observation) => observation,
            Err(error) => {
                failed = true;
                let _ = writeln!(text, "{target}: cannot be polled: {error}");
                continue;
            }
        };
        let result = diff(
            &target,
            previous.as_ref(),
            &observation,
            now,
            config.diff_options(),
        );
        if previous.is_none() {
            let _ = writeln!(
                text,
                "{target}: first poll: a baseline would be recorded ({} workflows, {} open deploy requests)",
                result.next.workflows.len(),
                result.next.deploy_requests.len()
            );
        }
        let _ = writeln!(text, "{target}: {} events", result.events.len());
        let mut polled: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for event in &result.events {
            if let Some(silence) = notifier::silenced_by(&silences, event, now) {
                let _ = writeln!(
                    text,
                    "{target}: {} would be held back by silence {} ({})",
                    notifier::render::headline(event),
                    silence.id,
                    silence.comment
                );
                continue;
            }
            for channel in config.router.channels_for(event) {
                polled.entry(channel).or_default().push(event.clone());
            }
        }
        for (channel, events) in polled {
            by_channel.entry(channel).or_default().push(events);
        }
    }
    for channel in &config.channels {
        let Some(polls) = by_channel.get(&channel.name) else {
            continue;
        };
        let _ = writeln!(
            text,
            "\n== {} ({}) would send ==",
            channel.name,
            channel.kind.type_name()
        );
        for events in polls {
            let mut memos = match &store {
                Some(store) => store.memos_for(&channel.name, events).await?,
                None => Memos::new(),
            };
            // What an Alertmanager channel has firing: what the events would resolve.
            if let (Some(store), true) = (&store, channel.kind.fires_alerts()) {
                for alert in store.firing_alerts(&channel.name).await? {
                    memos.load_alert(alert);
                }
            }
            text.push_str(&notifier::preview(channel, events, &memos));
        }
    }
    if by_channel.is_empty() {
        text.push_str("\nnothing would be sent\n");
    }
    text.push_str("\ndry run: nothing was sent, no state or outbox entry was written\n");
    print!("{}", notifier::render::printable_lines(&text));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
