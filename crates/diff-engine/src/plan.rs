//! What a poll must fetch beyond the lists, decided from what was seen before.

use crate::model::{DeployRequest, SeenDeployRequest};

/// Whether the operations of `request` must be fetched from `…/operations` in this poll, for a
/// response that did not carry `deployment.deploy_operations` (PlanetScale's current responses
/// always do, so this is the fallback for older or trimmed shapes): while it is deploying, and
/// once more in the poll that sees it stop deploying, so the final operation states and their
/// errors are seen. Operations of requests that are not deploying do not move and cost a
/// request each, so they are not fetched.
pub fn needs_operations(seen: Option<&SeenDeployRequest>, request: &DeployRequest) -> bool {
    request.deployment_state.is_deploying()
        || seen.is_some_and(|seen| seen.deployment_state.is_deploying())
}
