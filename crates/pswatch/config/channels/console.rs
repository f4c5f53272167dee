//! `type = "console"`: one line an event on standard output; no keys of its own.

use notifier::ConsoleChannel;
use serde::Deserialize;

use super::super::Problem;
use super::CheckKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawConsole {}

impl CheckKind for RawConsole {
    type Kind = ConsoleChannel;

    fn check(
        &self,
        _key: &str,
        _name: &str,
        _problems: &mut Vec<Problem>,
    ) -> Option<ConsoleChannel> {
        Some(ConsoleChannel)
    }
}
