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

/// The same `-c FILE` (or `PSWATCH_CONFIG`), for the commands that can do without it.
#[derive(Debug, clap::Args)]
pub(crate) struct OptionalConfigArg {
    /// The configuration file.
    #[arg(
        short = 'c',
        long = "config",
        env = "PSWATCH_CONFIG",
        value_name = "FILE"
    )]
    pub(crate) config: Option<PathBuf>,
}
