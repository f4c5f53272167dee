//! pswatch's domain types beyond the diff, shared by the notifier, the store and the binary:
//! [`Silence`] (a [`Matcher`] and a [`Window`]; [`silenced_by`] finds the one that holds an
//! event back), what a channel remembers of a resource between deliveries ([`Memo`], keyed by
//! [`ResourceKey`]; [`Memos`] for one delivery), what pswatch last saw of a workflow or deploy
//! request ([`ResourceView`]), globs ([`glob_set`]) and how instants are
//! written ([`rfc3339()`]). Plain values: no I/O, no clock (the time is passed in).
//!
//! The crates stand in one line, each depending only on those before it: `diff-engine`,
//! `model`, then `store` and `notifier` (with `http-util` and `poller` for HTTP), then the
//! binary.

mod alert;
mod glob;
mod memo;
mod rfc3339;
mod silence;
mod view;

pub use alert::FiringAlert;
pub use glob::{glob_set, GlobError};
pub use memo::{Incident, Memo, Memos, ResourceKey, ResourceKind, SlackThread};
pub use rfc3339::rfc3339;
pub use silence::{silenced_by, Matcher, Silence, SilenceError, Window};
pub use view::{LastEvent, OperationView, ResourceView};
