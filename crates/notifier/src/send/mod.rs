//! Senders, one module a channel kind: what each sends and how its receiver's answer becomes a
//! [`DeliveryError`](crate::DeliveryError). They share the [`Payload`] and the time limit.

use std::time::Duration;

use diff_engine::Event;

pub(crate) mod console;
pub(crate) mod email;
pub(crate) mod http;
pub(crate) mod pagerduty;
pub(crate) mod slack;
pub(crate) mod teams;
pub(crate) mod webhook;

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// What one send carries.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// Events of one target and poll (one event for a webhook).
    Events(&'a [Event]),
    /// The marked message of `pswatch test-notify`.
    Test,
}
