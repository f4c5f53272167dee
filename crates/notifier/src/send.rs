//! What every kind's sender shares: the [`Payload`], the time limit and one HTTP request
//! ([`http`]) whose answer becomes a [`DeliveryError`](crate::DeliveryError).

use std::time::Duration;

use diff_engine::Event;

use crate::words::Words;

pub(crate) mod http;

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// What one send carries.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// Events of one target and poll (one event for a webhook), and the channel's templates'
    /// text for those a template applies to.
    Events(&'a [Event], &'a Words),
    /// The marked message of `pswatch test-notify`; for GitHub, on the head of `git_ref` (the
    /// repository's default branch without one).
    Test { git_ref: Option<&'a str> },
}
