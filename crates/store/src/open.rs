//! Opening a store: what is on disk checked before and after sled reads it (a store that
//! existed but lost its records is refused, never started over), open errors in words, and
//! the probe that tells whether the store writes again.

use std::path::Path;

use crate::backend::{Batch, SledBackend};
use crate::{Store, StoreError, FORMAT_VERSION};

/// A store made by pswatch holds [`MARKER_KEY`] from its first open. One that existed before
/// this open but holds nothing, not even that, lost its records (a damaged or missing `db` file,
/// which sled reads as an empty log): refused. A store of an earlier version that holds records
/// gets its marker now.
pub(crate) fn check_marker(
    sled: &SledBackend,
    path: &Path,
    existed: bool,
) -> Result<(), StoreError> {
    if sled.get_now(MARKER_KEY)?.is_some() {
        return Ok(());
    }
    if existed && sled.is_blank() {
        return Err(StoreError::Damaged {
            path: path.to_owned(),
            problem: "sled's files are there but hold no record, not even the one every pswatch store has from its start (its `db` file was truncated, overwritten or replaced)".into(),
        });
    }
    let record = format!(
        "{{\"v\":{FORMAT_VERSION},\"record\":{{\"created_at\":{}}}}}",
        time::OffsetDateTime::now_utc().unix_timestamp()
    );
    let mut batch = Batch::default();
    batch.put(MARKER_KEY, record.as_bytes());
    sled.apply_now(&batch)
}

impl Store {
    /// Writes a small record and flushes it: whether the store can write now (after a full
    /// disk, say).
    pub async fn probe(&self) -> Result<(), StoreError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // Never read back; versioned like every record all the same.
        let record = format!("{{\"v\":{FORMAT_VERSION},\"record\":{{\"probed_at\":{now}}}}}");
        let mut batch = Batch::default();
        batch.put(PROBE_KEY, record.as_bytes());
        self.backend.apply(batch).await
    }
}

/// The record every store holds from its first open: a store without it that existed held
/// nothing, or lost it.
const MARKER_KEY: &[u8] = b"meta\0store";

/// Whether `path` holds a store already (sled's `conf` or `db`), refusing what cannot be one: a
/// file where the directory should be, or a store whose `db` is gone.
pub(crate) fn existing_store(path: &Path) -> Result<bool, StoreError> {
    let open_error = |reason: String| StoreError::Open {
        path: path.to_owned(),
        reason,
    };
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_dir() => {
            return Err(open_error(
                "it is a file, not a directory; state.path names the directory pswatch keeps its store in".into(),
            ))
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(open_error(error.to_string())),
    }
    let (conf, db) = (path.join("conf"), path.join("db"));
    match (conf.exists(), db.exists()) {
        (true, false) => Err(StoreError::Damaged {
            path: path.to_owned(),
            problem: "its `db` file is missing".into(),
        }),
        (false, false) => Ok(false),
        _ => Ok(true),
    }
}

/// What an error of sled's when opening means, in words.
pub(crate) fn open_failure(error: &sled::Error) -> String {
    match error {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => format!(
            "another process holds it ({io}); only one pswatch process may use a state directory at a time"
        ),
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => format!(
            "permission denied ({io}): the user pswatch runs as must be able to write the directory and its files"
        ),
        sled::Error::Io(io) => format!("{io}"),
        sled::Error::Corruption { .. } => format!(
            "sled's files are damaged ({error}); restore the directory from a backup, or move it aside and start over with `pswatch state reset`"
        ),
        sled::Error::Unsupported(what) => format!(
            "sled cannot read it ({what}); a damaged or foreign `conf` file? restore it from a backup, or start over with `pswatch state reset`"
        ),
        other => other.to_string(),
    }
}

/// The record [`Store::probe`] writes.
const PROBE_KEY: &[u8] = b"meta\0probe";
