//! Moving a store's records between backends: everything it holds (state, outbox, dead letters,
//! silences, memos, receipts, keys) written as JSON lines, and read into an empty store of
//! either backend, so an install moves to PostgreSQL and back without a new baseline and
//! without losing or repeating a pending delivery.
//!
//! The first line names the format; each next one is a record: `{"key": HEX, "value": JSON}`,
//! or `"value_hex"` for bytes that are not JSON (a quarantined record, kept as it was).
//!
//! An import checks every record as the store would read it (its kind from its key, its
//! format version, its fields) and refuses the whole input, naming the line, before it writes
//! anything: a record the store would quarantine, a key of no kind, a key given twice, a line
//! longer than [`MAX_LINE`].

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::actions::{AckRecord, TakenClick};
use crate::backend::Batch;
use crate::keys::{
    split_alert_key, split_memo_key, split_queue_key, split_target, ACK_PREFIX, ACTION_PREFIX,
    ALERT_PREFIX, CHANNEL_PREFIX, CLICK_PREFIX, DEAD_PREFIX, DIGEST_PREFIX, FINGERPRINT_KEY,
    JOURNAL_PREFIX, MEMO_PREFIX, OLD_OUTBOX_PREFIX, POKE_PREFIX, QUARANTINE_PREFIX, QUEUE_PREFIX,
    RECEIPT_PREFIX, SILENCE_PREFIX, STATE_PREFIX, VIEW_PREFIX, WAKE_PREFIX,
};
use crate::records::{
    DigestMark, FingerprintKey, JournalRecord, MemoRecord, ReceiptRecord, Record, SilenceRecord,
    StateRecord,
};
use crate::{decode, DeadLetter, DisabledChannel, OutboxEntry, PendingAction, Store, StoreError};

/// The longest line an import reads: far above any record pswatch writes (a database's state
/// with hundreds of deploy requests is well under a megabyte), and an end to reading a line
/// without end into memory.
pub(crate) const MAX_LINE: usize = 16 * 1024 * 1024;

/// The first line of an export.
const HEADER: &str = r#"{"format":"pswatch-store-export","version":1}"#;

/// Keys that belong to the store that holds them, not to what it remembers: its marker, its
/// write probe and the leader's report.
const OWN_KEYS: &[&[u8]] = &[b"meta\0store", b"meta\0probe", crate::keys::REPORT_KEY];

#[derive(Serialize)]
struct Line<'a> {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_hex: Option<String>,
}

#[derive(Deserialize)]
struct ReadLine {
    key: String,
    value: Option<Box<RawValue>>,
    value_hex: Option<String>,
}

impl Store {
    /// Writes every record to `out` as JSON lines; returns how many.
    pub async fn export(&self, out: &mut dyn Write) -> Result<usize, StoreError> {
        let io =
            |error: std::io::Error| StoreError::Io(format!("cannot write the export: {error}"));
        writeln!(out, "{HEADER}").map_err(io)?;
        let mut count = 0;
        for (key, value) in self.backend.scan(b"").await? {
            if OWN_KEYS.contains(&key.as_slice()) {
                continue;
            }
            let text = std::str::from_utf8(&value)
                .ok()
                .and_then(|text| serde_json::from_str::<&RawValue>(text).ok());
            let line = Line {
                key: hex::encode(&key),
                value: text,
                value_hex: text.is_none().then(|| hex::encode(&value)),
            };
            let line =
                serde_json::to_string(&line).map_err(|source| StoreError::Encode { source })?;
            writeln!(out, "{line}").map_err(io)?;
            count += 1;
        }
        out.flush().map_err(io)?;
        Ok(count)
    }

    /// Reads an export into this store, which must hold nothing yet; returns how many records.
    /// The ids of new outbox entries start after the highest imported one.
    pub async fn import(&self, input: &mut dyn BufRead) -> Result<usize, StoreError> {
        let held = self
            .backend
            .keys(b"")
            .await?
            .into_iter()
            .filter(|key| !OWN_KEYS.contains(&key.as_slice()))
            .count();
        if held > 0 {
            return Err(StoreError::Invalid(format!(
                "the store is not empty ({held} records); import into a new store, so nothing it holds is overwritten or mixed"
            )));
        }
        let mut lines = Lines { input, number: 0 };
        let header = lines.next()?;
        if header.as_deref().map(str::trim) != Some(HEADER) {
            return Err(StoreError::Invalid(
                "the input is not a pswatch store export (its first line names the format); make one with `pswatch state export`".into(),
            ));
        }
        let mut batch = Batch::default();
        let mut count = 0;
        let mut highest_id: Option<u64> = None;
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
        while let Some(line) = lines.next()? {
            let number = lines.number;
            if line.trim().is_empty() {
                continue;
            }
            let invalid = |what: String| StoreError::Invalid(format!("line {number}: {what}"));
            let read: ReadLine = serde_json::from_str(&line)
                .map_err(|error| invalid(format!("not a record: {error}")))?;
            let key = hex::decode(&read.key).map_err(|_| invalid("its key is not hex".into()))?;
            let value = match (read.value, read.value_hex) {
                (Some(value), None) => value.get().as_bytes().to_vec(),
                (None, Some(bytes)) => {
                    hex::decode(bytes).map_err(|_| invalid("its value_hex is not hex".into()))?
                }
                _ => return Err(invalid("needs one of value and value_hex".into())),
            };
            if let Some(first) = seen.insert(key.clone(), number) {
                return Err(invalid(format!(
                    "the key of line {first} again ({}); an export holds each key once",
                    crate::keys::describe_key(&key)
                )));
            }
            if OWN_KEYS.contains(&key.as_slice()) {
                return Err(invalid(format!(
                    "{} belongs to the store that wrote it and is never exported",
                    String::from_utf8_lossy(&key).replace('\0', "/")
                )));
            }
            check_record(&key, &value).map_err(invalid)?;
            let id = if key.starts_with(QUEUE_PREFIX) {
                split_queue_key(&key).map(|(_, id)| id)
            } else {
                key.strip_prefix(DEAD_PREFIX)
                    .and_then(|rest| <[u8; 8]>::try_from(rest).ok())
                    .map(u64::from_be_bytes)
            };
            highest_id = highest_id.max(id);
            batch.put(key, value);
            count += 1;
        }
        if let Some(highest) = highest_id {
            self.backend.ids_after(highest).await?;
        }
        self.backend.apply(batch).await?;
        Ok(count)
    }
}

/// The lines of an import, each at most [`MAX_LINE`] bytes, numbered from 1.
struct Lines<'a> {
    input: &'a mut dyn BufRead,
    number: usize,
}

impl Lines<'_> {
    fn next(&mut self) -> Result<Option<String>, StoreError> {
        let mut bytes = Vec::new();
        let limit = u64::try_from(MAX_LINE)
            .unwrap_or(u64::MAX)
            .saturating_add(2);
        let read = (&mut *self.input)
            .take(limit)
            .read_until(b'\n', &mut bytes)
            .map_err(|error| StoreError::Io(format!("cannot read the export: {error}")))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let number = self.number;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if bytes.len() > MAX_LINE {
            return Err(StoreError::Invalid(format!(
                "line {number} is longer than {} MiB; no record pswatch writes is that long",
                MAX_LINE / (1024 * 1024)
            )));
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::Invalid(format!("line {number} is not UTF-8 text")))
    }
}

/// Whether `value` is a record the store reads under `key`: the key names a kind of record
/// (with what follows the kind well formed) and the value is that kind's record, of this
/// format version. Says what is wrong.
fn check_record(key: &[u8], value: &[u8]) -> Result<(), String> {
    fn record<T: Record>(value: &[u8]) -> Result<(), String> {
        decode::<T>(value)
            .map(drop)
            .map_err(|error| error.to_string())
    }
    let kind_end = key.iter().position(|&byte| byte == 0).map(|end| end + 1);
    let Some(kind_end) = kind_end else {
        return Err(format!(
            "its key {:?} names no kind of record",
            String::from_utf8_lossy(key)
        ));
    };
    let (kind, rest) = key.split_at(kind_end);
    let kind_name = String::from_utf8_lossy(&kind[..kind.len() - 1]).into_owned();
    let well_formed = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!("its key is not a well-formed {kind_name} key"))
        }
    };
    let text = |bytes: &[u8]| !bytes.is_empty() && std::str::from_utf8(bytes).is_ok();
    let sequence = |bytes: &[u8]| bytes.len() == 8;
    match kind {
        STATE_PREFIX => {
            well_formed(split_target(rest).is_some_and(|target| {
                !target.organization.is_empty() && !target.database.is_empty()
            }))?;
            record::<StateRecord>(value)
        }
        QUEUE_PREFIX => {
            well_formed(split_queue_key(key).is_some())?;
            record::<OutboxEntry>(value)
        }
        OLD_OUTBOX_PREFIX => {
            well_formed(sequence(rest))?;
            record::<OutboxEntry>(value)
        }
        DEAD_PREFIX => {
            well_formed(sequence(rest))?;
            record::<DeadLetter>(value)
        }
        CHANNEL_PREFIX => {
            well_formed(text(rest))?;
            record::<DisabledChannel>(value)
        }
        QUARANTINE_PREFIX => well_formed(!rest.is_empty()),
        MEMO_PREFIX => {
            well_formed(split_memo_key(key).is_some_and(|(channel, resource)| {
                !channel.is_empty() && model::ResourceKey::parse(&resource).is_some()
            }))?;
            record::<MemoRecord>(value)
        }
        SILENCE_PREFIX => {
            well_formed(text(rest))?;
            record::<SilenceRecord>(value)
        }
        ALERT_PREFIX => {
            well_formed(
                split_alert_key(key)
                    .is_some_and(|(channel, alert)| !channel.is_empty() && !alert.is_empty()),
            )?;
            record::<crate::records::AlertRecord>(value)
        }
        RECEIPT_PREFIX => {
            well_formed(rest.len() == 32)?;
            record::<ReceiptRecord>(value)
        }
        JOURNAL_PREFIX => {
            well_formed(rest.len() > 8)?;
            record::<JournalRecord>(value)
        }
        DIGEST_PREFIX => {
            well_formed(
                rest.len() > 9 && rest[rest.len() - 9] == 0 && text(&rest[..rest.len() - 9]),
            )?;
            record::<DigestMark>(value)
        }
        ACTION_PREFIX => {
            well_formed(text(rest))?;
            record::<PendingAction>(value)
        }
        CLICK_PREFIX => {
            well_formed(text(rest))?;
            record::<TakenClick>(value)
        }
        ACK_PREFIX => {
            well_formed(text(rest))?;
            record::<AckRecord>(value)
        }
        VIEW_PREFIX => {
            well_formed(crate::keys::split_view_key(key).is_some())?;
            record::<crate::records::ViewRecord>(value)
        }
        POKE_PREFIX | WAKE_PREFIX => {
            well_formed(text(rest))?;
            let version: crate::VersionOnly =
                serde_json::from_slice(value).map_err(|error| error.to_string())?;
            if version.v == crate::FORMAT_VERSION {
                Ok(())
            } else {
                Err(format!("format version {} is not this build's", version.v))
            }
        }
        _ if key == FINGERPRINT_KEY => record::<FingerprintKey>(value),
        _ => Err(format!(
            "its key is of no kind of record this build knows ({:?})",
            kind_name
        )),
    }
}
