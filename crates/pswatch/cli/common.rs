//! What the commands share: the configuration loaded and warned about, the store and the
//! pipeline opened.

use std::path::Path;
use std::sync::Arc;

use crate::service::pipeline::Pipeline;

pub(super) fn load(path: &Path) -> anyhow::Result<crate::config::Config> {
    let config = crate::config::load(path, &crate::config::process_environment)?;
    warn_about(&config);
    Ok(config)
}

/// Logs what is valid in a configuration but probably not meant.
pub(super) fn warn_about(config: &crate::config::Config) {
    for warning in &config.warnings {
        tracing::warn!(key = %warning.key, "{}", warning.message);
    }
}

pub(super) async fn open_pipeline(path: &Path) -> anyhow::Result<Arc<Pipeline>> {
    let config = load(path)?;
    let store = crate::service::handles::open_store(&config).await?;
    let handles = crate::service::handles::Handles::new(store, &config).await?;
    Ok(Arc::new(Pipeline::new(config, &handles)?))
}

pub(super) async fn open_store(path: &Path) -> anyhow::Result<store::Store> {
    crate::service::handles::open_store(&load(path)?).await
}
