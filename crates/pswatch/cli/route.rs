//! `pswatch route`: where an event would go, and why, before it fires.

use std::fmt::Write as _;

use diff_engine::EVENT_TYPES;
use notifier::Subject;

use crate::config::Config;

/// One line per channel an event of `event_type` (in `state`, of `database` = `org/db`) would
/// reach: the channel's name, then the routes that select it and the filters not checked
/// because the question left them open. `None` when no channel would get it.
pub(crate) fn explain(
    config: &Config,
    event_type: &str,
    state: Option<&str>,
    database: Option<&str>,
    timer: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if !EVENT_TYPES.contains(&event_type) {
        anyhow::bail!(
            "{event_type:?} is not an event type; the types are {}",
            EVENT_TYPES.join(", ")
        );
    }
    let (organization, database) = match database {
        Some(text) => {
            let (organization, database) = text
                .split_once('/')
                .filter(|(organization, database)| !organization.is_empty() && !database.is_empty())
                .ok_or_else(|| {
                    anyhow::anyhow!("--database takes ORGANIZATION/DATABASE, not {text:?}")
                })?;
            (Some(organization), Some(database))
        }
        None => (None, None),
    };
    let reaches = config.router.explain(&Subject {
        event_type,
        state,
        organization,
        database,
        timer,
    });
    if reaches.is_empty() {
        return Ok(None);
    }
    let width = reaches
        .iter()
        .map(|reach| reach.channel.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for reach in reaches {
        let routes: Vec<String> = reach
            .routes
            .iter()
            .map(|(route, unchecked)| {
                if unchecked.is_empty() {
                    route.clone()
                } else {
                    format!(
                        "{route} (its {} filter{} not checked: give {})",
                        unchecked.join(" and "),
                        if unchecked.len() == 1 {
                            " was"
                        } else {
                            "s were"
                        },
                        unchecked
                            .iter()
                            .map(|filter| match *filter {
                                "states" => "--state",
                                "timer" => "--timer",
                                _ => "--database",
                            })
                            .collect::<std::collections::BTreeSet<_>>()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(" and ")
                    )
                }
            })
            .collect();
        let _ = writeln!(
            text,
            "{:width$}  selected by {}",
            reach.channel,
            routes.join(", ")
        );
    }
    Ok(Some(text))
}
