//! The console: a line an event on standard output.

use std::io::Write as _;

use super::render;
use crate::kinds::Deliver;
use crate::send::Payload;
use crate::verdict::{DeliveryError, Verdict};
use model::Memos;

/// Standard output.
pub(crate) struct Console;

impl Deliver for Console {
    async fn send(
        &self,
        _http: &reqwest::Client,
        channel: &str,
        payload: Payload<'_>,
        _memos: &mut Memos,
    ) -> Result<(), DeliveryError> {
        send(channel, payload)
    }
}

fn send(channel: &str, payload: Payload<'_>) -> Result<(), DeliveryError> {
    let lines: Vec<String> = match payload {
        Payload::Events(events, words) => events
            .iter()
            .map(|event| render::console_line(event, words))
            .collect(),
        Payload::Test { .. } => vec![render::test_console(
            channel,
            time::OffsetDateTime::now_utc(),
        )],
    };
    let mut stdout = std::io::stdout().lock();
    lines
        .iter()
        .try_for_each(|line| writeln!(stdout, "{line}"))
        .and_then(|()| stdout.flush())
        .map_err(|error| {
            DeliveryError::new(
                Verdict::Transient,
                format!("channel {channel:?}: cannot write to stdout: {error}"),
            )
        })
}
