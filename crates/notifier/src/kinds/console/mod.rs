//! The console: one line an event on standard output.

pub(crate) mod render;
mod send;

use diff_engine::Event;
use model::Memos;

use super::{line, Kind};
use crate::verdict::ChannelError;
use crate::words::Words;

/// Standard output; nothing to configure.
#[derive(Debug, Clone, Default)]
pub struct ConsoleChannel;

impl Kind for ConsoleChannel {
    const TYPE: &'static str = "console";
    type Sender = send::Console;

    fn sender(&self, _channel: &str) -> Result<Self::Sender, ChannelError> {
        Ok(send::Console)
    }

    fn preview(&self, events: &[Event], words: &Words, _memos: &Memos) -> String {
        let mut text = String::new();
        for event in events {
            line(&mut text, render::console_line(event, words));
        }
        text
    }

    fn fingerprint(&self, _part: &mut dyn FnMut(&[u8])) {}
}
