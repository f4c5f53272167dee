//! What the commands' arguments share.

use std::path::PathBuf;

/// `-c FILE`: the configuration file (or `PSWATCH_CONFIG`).
#[derive(Debug, clap::Args)]
pub(crate) struct ConfigArg {
    /// The configuration file.
    #[arg(
        short = 'c',
        long = "config",
        env = "PSWATCH_CONFIG",
        value_name = "FILE"
    )]
    pub(crate) config: PathBuf,
}
