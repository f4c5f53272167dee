//! `pswatch test-notify`: a marked test message through each channel, or one.

use std::path::Path;
use std::process::ExitCode;

use super::common::load;

/// Sends a test message through each channel (or one) and reports each result; exits 1 if any
/// failed.
pub(super) async fn test_notify(
    path: &Path,
    only: Option<&str>,
    git_ref: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let config = load(path)?;
    let notifier = notifier::Notifier::new(&config.channels)?;
    let mut names: Vec<&str> = config
        .channels
        .iter()
        .map(|channel| channel.name.as_str())
        .collect();
    if let Some(only) = only {
        if !names.contains(&only) {
            anyhow::bail!(
                "there is no channel named {only:?}; the channels are {}",
                names.join(", ")
            );
        }
        names.retain(|name| *name == only);
    }
    let mut failed = 0;
    for name in names {
        match notifier.deliver_test_at(name, git_ref).await {
            Ok(()) => eprintln!("{name}: ok, the receiver accepted the test message"),
            Err(error) => {
                failed += 1;
                eprintln!("{name}: FAILED: {error}");
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
