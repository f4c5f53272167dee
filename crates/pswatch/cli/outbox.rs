//! `pswatch outbox`: shows pending deliveries and dead letters, puts dead letters back, drops
//! entries.

use std::fmt::Write as _;

use anyhow::Context as _;
use store::{DeadLetter, OutboxEntry, Quarantined, Store};
use time::OffsetDateTime;

fn when(time: Option<OffsetDateTime>) -> String {
    time.map_or_else(|| "now".into(), notifier::render::rfc3339)
}

fn one_line(text: Option<&str>, limit: usize) -> String {
    let text = text.unwrap_or("-").replace(['\n', '\r'], " ");
    notifier::render::printable(&notifier::render::truncate(&text, limit)).into_owned()
}

/// The listing of `pswatch outbox list`: pending entries, dead letters, then the records set
/// aside because they could not be read.
pub(crate) fn render_list(
    pending: &[OutboxEntry],
    dead: &[DeadLetter],
    quarantined: &[Quarantined],
) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "pending deliveries: {}", pending.len());
    if !pending.is_empty() {
        let _ = writeln!(
            text,
            "{:<8} {:<16} {:<40} {:>8}  {:<25} LAST ERROR",
            "ID", "CHANNEL", "EVENT", "ATTEMPTS", "NEXT ATTEMPT"
        );
    }
    for entry in pending {
        let _ = writeln!(
            text,
            "{:<8} {:<16} {:<40} {:>8}  {:<25} {}",
            entry.id,
            entry.channel,
            entry.event.id,
            entry.attempts,
            when(entry.next_attempt_at),
            one_line(entry.last_error.as_deref(), 160)
        );
        let _ = writeln!(
            text,
            "         {}",
            notifier::render::printable(&notifier::render::headline(&entry.event))
        );
    }
    let _ = writeln!(text, "dead letters: {}", dead.len());
    if !dead.is_empty() {
        let _ = writeln!(
            text,
            "{:<8} {:<16} {:<40} {:>8}  {:<25} REASON: LAST ERROR",
            "ID", "CHANNEL", "EVENT", "ATTEMPTS", "GIVEN UP"
        );
    }
    for letter in dead {
        let entry = &letter.entry;
        let _ = writeln!(
            text,
            "{:<8} {:<16} {:<40} {:>8}  {:<25} {}: {}",
            entry.id,
            entry.channel,
            entry.event.id,
            entry.attempts,
            when(Some(letter.died_at)),
            notifier::render::printable(&letter.reason),
            one_line(entry.last_error.as_deref(), 160)
        );
        let _ = writeln!(
            text,
            "         {}",
            notifier::render::printable(&notifier::render::headline(&entry.event))
        );
    }
    if !quarantined.is_empty() {
        let _ = writeln!(
            text,
            "quarantined records: {} (they could not be read; their bytes are kept in the state store, set aside)",
            quarantined.len()
        );
        for record in quarantined {
            let _ = writeln!(
                text,
                "  {} ({} bytes): {}",
                record.record,
                record.bytes,
                one_line(Some(&record.problem), 200)
            );
        }
    }
    text
}

pub(crate) async fn list(store: &Store) -> anyhow::Result<String> {
    // Reading the outbox and the dead letters is what quarantines an unreadable one, so the
    // quarantine is listed after them.
    let pending = store.outbox().await?;
    let dead = store.dead_letters().await?;
    Ok(render_list(&pending, &dead, &store.quarantined().await?))
}

/// Puts one dead letter, or all, back into the outbox. With a store that replicas share, the
/// leader running meanwhile is told to look (its workers wait for news, not for a timer).
pub(crate) async fn retry(store: &Store, id: Option<u64>) -> anyhow::Result<String> {
    let revived = crate::service::outbox::Outbox::new(store.clone())
        .put_back(id)
        .await?;
    if let Some(error) = revived.untold {
        return Err(anyhow::Error::new(error)).context("the dead letters are back in the outbox, but the running leader could not be told; it delivers them at its next start or event");
    }
    let count = revived.count;
    Ok(format!(
        "{count} dead letter{} put back into the outbox; a running or the next pswatch delivers {}",
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them" }
    ))
}

/// Removes one entry, pending or dead, for good.
pub(crate) async fn drop(store: &Store, id: u64) -> anyhow::Result<String> {
    store.drop_entry(id).await?;
    Ok(format!("entry {id} dropped"))
}
