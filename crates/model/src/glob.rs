//! Globs as pswatch's routes and silences take them.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// A glob that does not compile; names the pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pattern:?} is not a valid glob: {message}")]
pub struct GlobError {
    /// The pattern.
    pub pattern: String,
    /// What is wrong with it.
    pub message: String,
}

/// Compiles a list of globs into one matcher.
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, GlobError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|error| GlobError {
            pattern: pattern.clone(),
            message: error.kind().to_string(),
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|error| GlobError {
        pattern: patterns.join(", "),
        message: error.to_string(),
    })
}
