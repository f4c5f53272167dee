//! `pswatch check`: the configuration validated, every problem with its key.

use std::path::Path;
use std::process::ExitCode;

/// Validates the file: exit 0 with a summary when it is valid, 1 with every problem otherwise.
pub(super) fn check(path: &Path) -> anyhow::Result<ExitCode> {
    match crate::config::load(path, &crate::config::process_environment) {
        Ok(config) => {
            println!(
                "{} is valid: {} watch entr{}, {} channel{}; state in {}",
                path.display(),
                config.watches.len(),
                if config.watches.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                config.channels.len(),
                if config.channels.len() == 1 { "" } else { "s" },
                match &config.state_database {
                    Some(database) => format!("PostgreSQL (schema {})", database.schema),
                    None => config.state_path.display().to_string(),
                }
            );
            for warning in &config.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{error}");
            Ok(ExitCode::FAILURE)
        }
    }
}
