//! The layout of the store's keys: which record lives under which key.

use diff_engine::Target;

pub(crate) const STATE_PREFIX: &[u8] = b"state\0";
/// Pending entries: `queue\0`, the channel name's length (u32, big-endian), the name, and the
/// sequence (u64, big-endian). The length keeps one channel's keys apart from another's whose
/// name starts with the first's.
pub(crate) const QUEUE_PREFIX: &[u8] = b"queue\0";
/// Pending entries as stores before per-channel keys wrote them: `outbox\0` and the sequence.
pub(crate) const OLD_OUTBOX_PREFIX: &[u8] = b"outbox\0";
pub(crate) const DEAD_PREFIX: &[u8] = b"dead\0";
pub(crate) const CHANNEL_PREFIX: &[u8] = b"channel\0";
pub(crate) const QUARANTINE_PREFIX: &[u8] = b"quarantine\0";
/// What a channel remembers of a resource: `memo\0`, the channel name's length (u32,
/// big-endian), the name, and the resource (`acme/commerce/workflow/3`).
pub(crate) const MEMO_PREFIX: &[u8] = b"memo\0";
/// An alert a channel keeps firing: `alert\0`, the channel name's length (u32, big-endian), the
/// name, and the alert's key (its labels, [`model::FiringAlert::key`]).
pub(crate) const ALERT_PREFIX: &[u8] = b"alert\0";
pub(crate) const FINGERPRINT_KEY: &[u8] = b"meta\0fingerprint-key";
/// The leader's report of its work, for the other replicas' status pages.
pub(crate) const REPORT_KEY: &[u8] = b"meta\0report";
/// `silence/{id}`.
pub(crate) const SILENCE_PREFIX: &[u8] = b"silence\0";
/// `receipt/{digest}`: a webhook delivery acted on.
pub(crate) const RECEIPT_PREFIX: &[u8] = b"receipt\0";

/// `journal/{observed_at}{event id}`: the events of polls, kept for digests; the time is the
/// unix time in nanoseconds (u64, big-endian), so the keys sort by time.
pub(crate) const JOURNAL_PREFIX: &[u8] = b"journal\0";

/// `digest/{name}\0{period_end}`: a digest's period done; the time is unix seconds (u64,
/// big-endian), so a digest's marks sort by period.
pub(crate) const DIGEST_PREFIX: &[u8] = b"digest\0";

/// The key of an event in the journal.
pub(crate) fn journal_key(at: time::OffsetDateTime, id: &str) -> Vec<u8> {
    let nanos = u64::try_from(at.unix_timestamp_nanos()).unwrap_or(0);
    [JOURNAL_PREFIX, &nanos.to_be_bytes(), id.as_bytes()].concat()
}

/// The journal's keys before `at` sort before this.
pub(crate) fn journal_bound(at: time::OffsetDateTime) -> Vec<u8> {
    let nanos = u64::try_from(at.unix_timestamp_nanos()).unwrap_or(0);
    [JOURNAL_PREFIX, &nanos.to_be_bytes()].concat()
}

/// The prefix of a digest's marks.
pub(crate) fn digest_prefix(name: &str) -> Vec<u8> {
    [DIGEST_PREFIX, name.as_bytes(), b"\0"].concat()
}

/// The key of a digest's period.
pub(crate) fn digest_key(name: &str, period_end: time::OffsetDateTime) -> Vec<u8> {
    let seconds = u64::try_from(period_end.unix_timestamp()).unwrap_or(0);
    [digest_prefix(name).as_slice(), &seconds.to_be_bytes()].concat()
}

/// `action/{id}`: a click on a Slack button, recorded before it is acted on.
pub(crate) const ACTION_PREFIX: &[u8] = b"action\0";

/// `click/{id}`: a Slack click taken up, so that a copy of it is not acted on again.
pub(crate) const CLICK_PREFIX: &[u8] = b"click\0";

/// `ack/{resource}\0{since}`: a resource's wait or stall acknowledged from Slack.
pub(crate) const ACK_PREFIX: &[u8] = b"ack\0";

/// `poke/{organization}\0{database}`: a database PlanetScale pushed a change of, for the leader
/// to poll now (written by whichever replica received the push).
pub(crate) const POKE_PREFIX: &[u8] = b"poke\0";

/// `wake/{channel}`: a channel whose outbox another replica added to (`*`: every channel), for
/// the leader to wake its worker.
pub(crate) const WAKE_PREFIX: &[u8] = b"wake\0";

pub(crate) fn wake_key(channel: &str) -> Vec<u8> {
    [WAKE_PREFIX, channel.as_bytes()].concat()
}

pub(crate) fn poke_key(target: &Target) -> Vec<u8> {
    let mut key = POKE_PREFIX.to_vec();
    key.extend_from_slice(target.organization.as_bytes());
    key.push(0);
    key.extend_from_slice(target.database.as_bytes());
    key
}

/// The target of a poke's key.
pub(crate) fn split_poke_key(key: &[u8]) -> Option<Target> {
    split_target(key.strip_prefix(POKE_PREFIX)?)
}

/// The target a key names after its kind (`{organization}\0{database}`, as state and poke keys
/// do).
pub(crate) fn split_target(rest: &[u8]) -> Option<Target> {
    let rest = std::str::from_utf8(rest).ok()?;
    let (organization, database) = rest.split_once('\0')?;
    Some(Target::new(organization, database))
}

pub(crate) fn receipt_key(digest: &[u8; 32]) -> Vec<u8> {
    [RECEIPT_PREFIX, &digest[..]].concat()
}

pub(crate) fn state_key(target: &Target) -> Vec<u8> {
    let mut key = STATE_PREFIX.to_vec();
    key.extend_from_slice(target.organization.as_bytes());
    key.push(0);
    key.extend_from_slice(target.database.as_bytes());
    key
}

/// `prefix` and the big-endian id, so that keys sort in id order.
pub(crate) fn key(prefix: &[u8], id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The prefix of `channel`'s pending entries.
pub(crate) fn queue_prefix(channel: &str) -> Vec<u8> {
    channel_prefix(QUEUE_PREFIX, channel)
}

/// The prefix of `channel`'s memos.
pub(crate) fn memo_prefix(channel: &str) -> Vec<u8> {
    channel_prefix(MEMO_PREFIX, channel)
}

/// The key of what `channel` remembers of `resource`.
pub(crate) fn memo_key(channel: &str, resource: &model::ResourceKey) -> Vec<u8> {
    let mut key = memo_prefix(channel);
    key.extend_from_slice(resource.to_string().as_bytes());
    key
}

/// The channel and resource of a memo's key, as text.
pub(crate) fn split_memo_key(key: &[u8]) -> Option<(&str, String)> {
    let rest = key.strip_prefix(MEMO_PREFIX)?;
    let (length, rest) = rest.split_first_chunk::<4>()?;
    let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
    let (channel, resource) = (rest.get(..length)?, rest.get(length..)?);
    Some((
        std::str::from_utf8(channel).ok()?,
        String::from_utf8_lossy(resource).into_owned(),
    ))
}

/// The prefix of `channel`'s firing alerts.
pub(crate) fn alert_prefix(channel: &str) -> Vec<u8> {
    channel_prefix(ALERT_PREFIX, channel)
}

/// The key of `channel`'s firing alert whose key is `alert`.
pub(crate) fn alert_key(channel: &str, alert: &str) -> Vec<u8> {
    let mut key = alert_prefix(channel);
    key.extend_from_slice(alert.as_bytes());
    key
}

/// The channel and alert key of a firing alert's key.
pub(crate) fn split_alert_key(key: &[u8]) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(ALERT_PREFIX)?;
    let (length, rest) = rest.split_first_chunk::<4>()?;
    let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
    let (channel, alert) = (rest.get(..length)?, rest.get(length..)?);
    Some((
        std::str::from_utf8(channel).ok()?,
        std::str::from_utf8(alert).ok()?,
    ))
}

/// `prefix`, then `channel` with its length, so one channel's keys stay apart from another's
/// whose name starts with the first's.
fn channel_prefix(prefix: &[u8], channel: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 4 + channel.len() + 8);
    key.extend_from_slice(prefix);
    // Channel names are short; one over 4 GiB could not have been configured.
    key.extend_from_slice(
        &u32::try_from(channel.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    key.extend_from_slice(channel.as_bytes());
    key
}

/// The key of `channel`'s pending entry `id`.
pub(crate) fn queue_key(channel: &str, id: u64) -> Vec<u8> {
    let mut key = queue_prefix(channel);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The channel and sequence of a pending entry's key.
pub(crate) fn split_queue_key(key: &[u8]) -> Option<(&str, u64)> {
    let rest = key.strip_prefix(QUEUE_PREFIX)?;
    let (length, rest) = rest.split_first_chunk::<4>()?;
    let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
    let (channel, sequence) = (rest.get(..length)?, rest.get(length..)?);
    let sequence: [u8; 8] = sequence.try_into().ok()?;
    Some((
        std::str::from_utf8(channel).ok()?,
        u64::from_be_bytes(sequence),
    ))
}

/// What a record's key names, for people: `state of acme/commerce`, `outbox entry 42 of
/// channel audit`, ….
pub(crate) fn describe_key(key: &[u8]) -> String {
    let id_of = |rest: &[u8]| rest.try_into().map(u64::from_be_bytes).ok();
    if let Some((channel, id)) = split_queue_key(key) {
        format!("outbox entry {id} of channel {channel}")
    } else if let Some((channel, resource)) = split_memo_key(key) {
        format!("memo of {resource} for channel {channel}")
    } else if let Some((channel, alert)) = split_alert_key(key) {
        let name = alert
            .lines()
            .find_map(|line| line.strip_prefix("alertname="))
            .unwrap_or("?");
        format!("firing alert {name} of channel {channel}")
    } else if let Some(id) = key.strip_prefix(DEAD_PREFIX).and_then(id_of) {
        format!("dead letter {id}")
    } else if let Some(id) = key.strip_prefix(OLD_OUTBOX_PREFIX).and_then(id_of) {
        format!("outbox entry {id}")
    } else if let Some(rest) = key.strip_prefix(STATE_PREFIX) {
        format!(
            "state of {}",
            String::from_utf8_lossy(rest).replace('\0', "/")
        )
    } else if key == FINGERPRINT_KEY {
        "the channels' fingerprint key".into()
    } else if let Some(rest) = key.strip_prefix(SILENCE_PREFIX) {
        format!("silence {}", String::from_utf8_lossy(rest))
    } else if let Some(rest) = key.strip_prefix(CHANNEL_PREFIX) {
        format!(
            "the disabled-channel record of {}",
            String::from_utf8_lossy(rest)
        )
    } else {
        format!("record {}", String::from_utf8_lossy(key).replace('\0', "/"))
    }
}

pub(crate) fn channel_key(name: &str) -> Vec<u8> {
    let mut key = CHANNEL_PREFIX.to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

pub(crate) fn silence_key(id: &str) -> Vec<u8> {
    let mut key = SILENCE_PREFIX.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

/// `view/{organization}\0{database}\0{kind}\0{number}`: what pswatch last saw of a workflow or
/// deploy request.
pub(crate) const VIEW_PREFIX: &[u8] = b"view\0";

/// The prefix of `target`'s views.
pub(crate) fn views_prefix(target: &Target) -> Vec<u8> {
    let mut key = VIEW_PREFIX.to_vec();
    key.extend_from_slice(target.organization.as_bytes());
    key.push(0);
    key.extend_from_slice(target.database.as_bytes());
    key.push(0);
    key
}

pub(crate) fn view_key(target: &Target, kind: model::ResourceKind, number: u64) -> Vec<u8> {
    let mut key = views_prefix(target);
    key.extend_from_slice(kind.as_str().as_bytes());
    key.push(0);
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// What a view's key names: its target, kind and number.
pub(crate) fn split_view_key(key: &[u8]) -> Option<(Target, model::ResourceKind, u64)> {
    let rest = key.strip_prefix(VIEW_PREFIX)?;
    let (names, number) = rest.split_at(rest.len().checked_sub(8)?);
    let names = std::str::from_utf8(names.strip_suffix(b"\0")?).ok()?;
    let mut parts = names.split('\0');
    let (organization, database, kind) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || organization.is_empty() || database.is_empty() {
        return None;
    }
    Some((
        Target::new(organization, database),
        model::ResourceKind::parse(kind)?,
        u64::from_be_bytes(number.try_into().ok()?),
    ))
}
