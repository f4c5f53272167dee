//! `pswatch template preview`: what each channel would send with a template, for a sample
//! event or the latest real one the store holds.

use std::fmt::Write as _;

use anyhow::Context as _;
use diff_engine::Event;
use notifier::{ChannelTemplates, Flavor, Memos};

use crate::config::Config;

/// What `--template NAME` would make each channel that lists it (or `--channel NAME`, listing
/// it or not) send for an event of `event_type` (the first type it matches by default): a
/// sample event, or with `from_store`, the latest of that type in the outbox or the dead
/// letters.
pub(crate) async fn preview(
    config: &Config,
    template: &str,
    event_type: Option<&str>,
    channel: Option<&str>,
    from_store: bool,
) -> anyhow::Result<String> {
    let templates = &config.templates;
    if !templates.names().any(|name| name == template) {
        let names: Vec<&str> = templates.names().collect();
        anyhow::bail!(
            "{template:?} is not a template of the configuration; its templates are: {}",
            if names.is_empty() {
                "(none)".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    let types = templates.event_types(template);
    let event_type = match event_type {
        Some(wanted) if types.contains(&wanted) => wanted,
        Some(wanted) => anyhow::bail!(
            "template {template:?} does not apply to {wanted:?}; it applies to {}",
            types.join(", ")
        ),
        None => types
            .first()
            .copied()
            .context("the template applies to no event type")?,
    };
    let (event, origin) = if from_store {
        let event = latest(config, event_type).await?;
        let origin = format!("the latest {event_type} event in the store ({})", event.id);
        (event, origin)
    } else {
        let event = notifier::sample_event(event_type)
            .with_context(|| format!("no sample of {event_type}"))?;
        (event, format!("a sample {event_type} event"))
    };
    let mut text = String::new();
    let _ = writeln!(text, "template {template}, rendered for {origin}");
    // Its fields alone first, with an error in full: a channel's preview would show the
    // built-in text instead.
    let wording = templates
        .render(template, &event, Flavor::Plain)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    if let Some(title) = &wording.title {
        let _ = writeln!(text, "title: {title}");
    }
    if let Some(own) = &wording.text {
        let _ = writeln!(text, "text:\n{own}");
    }
    let channels: Vec<&notifier::Channel> = match channel {
        Some(name) => vec![config
            .channels
            .iter()
            .find(|channel| channel.name == name)
            .with_context(|| format!("{name:?} is not a channel of the configuration"))?],
        None => config
            .channels
            .iter()
            .filter(|channel| {
                channel
                    .templates
                    .names()
                    .iter()
                    .any(|name| name == template)
            })
            .collect(),
    };
    if channels.is_empty() {
        let _ = writeln!(
            text,
            "\nno channel lists template {template}; give --channel NAME to see one send it"
        );
    }
    let names = [template.to_owned()];
    for channel in channels {
        let mut channel = channel.clone();
        channel.templates = ChannelTemplates::new(std::sync::Arc::clone(templates), &names);
        let _ = writeln!(
            text,
            "\n== channel {} ({}) ==\n{}",
            channel.name,
            channel.kind.type_name(),
            notifier::preview(&channel, std::slice::from_ref(&event), &Memos::new()).trim_end()
        );
    }
    Ok(text)
}

/// The latest event of `event_type` the store holds: in the outbox, among the dead letters,
/// or (while digests are configured) in the journal of polls' events.
async fn latest(config: &Config, event_type: &str) -> anyhow::Result<Event> {
    let store = crate::service::handles::open_store(config).await.context(
        "cannot open the store (the embedded store allows one process: stop the service, or \
         preview a sample event without --from-store)",
    )?;
    let pending = store.outbox().await?.into_iter().map(|entry| entry.event);
    let dead = store
        .dead_letters()
        .await?
        .into_iter()
        .map(|letter| letter.entry.event);
    let now = time::OffsetDateTime::now_utc();
    let journal = store
        .journal(now - crate::service::digests::JOURNAL_KEPT, now)
        .await?;
    pending
        .chain(dead)
        .chain(journal)
        .filter(|event| event.type_name() == event_type)
        .max_by_key(|event| event.observed_at)
        .with_context(|| {
            format!(
                "the store holds no {event_type} event (it keeps pending deliveries, dead \
                 letters and, while digests are configured, a week of polls' events)"
            )
        })
}
