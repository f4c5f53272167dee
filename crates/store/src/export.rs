//! Moving a store's records between backends: everything it holds (state, outbox, dead letters,
//! silences, memos, receipts, keys) written as JSON lines, and read into an empty store of
//! either backend, so an install moves to PostgreSQL and back without a new baseline and
//! without losing or repeating a pending delivery.
//!
//! The first line names the format; each next one is a record: `{"key": HEX, "value": JSON}`,
//! or `"value_hex"` for bytes that are not JSON (a quarantined record, kept as it was).

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::backend::Batch;
use crate::keys::{split_queue_key, DEAD_PREFIX, QUEUE_PREFIX};
use crate::{Store, StoreError};

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
        let mut lines = input.lines();
        let header = lines
            .next()
            .transpose()
            .map_err(|error| StoreError::Io(format!("cannot read the export: {error}")))?;
        if header.as_deref().map(str::trim) != Some(HEADER) {
            return Err(StoreError::Invalid(
                "the input is not a pswatch store export (its first line names the format); make one with `pswatch state export`".into(),
            ));
        }
        let mut batch = Batch::default();
        let mut count = 0;
        let mut highest_id: Option<u64> = None;
        for (number, line) in lines.enumerate() {
            let number = number + 2;
            let line =
                line.map_err(|error| StoreError::Io(format!("cannot read the export: {error}")))?;
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
