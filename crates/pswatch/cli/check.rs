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
            // With several service tokens, how the organizations share them.
            let tokens = config.tokens();
            if tokens.len() > 1 {
                for (token, organizations) in &tokens {
                    println!(
                        "service token {} ({}): {} requests a minute for {}",
                        token.name,
                        token.token.id(),
                        token.requests_per_minute,
                        if organizations.is_empty() {
                            "no watched organization".to_owned()
                        } else {
                            organizations.join(", ")
                        }
                    );
                }
            }
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
