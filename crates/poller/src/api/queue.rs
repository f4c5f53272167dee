//! The deploy queue (`get_deploy_queue`), read for the places of queued deploy requests.

use serde_json::Value;

use super::{lenient_number, DecodeError, Fields};

/// A deployment of the deploy queue: its deploy request's number and its place in the queue
/// (1 for the first: one more than the deployments `preceding_deployments` lists).
pub(crate) fn queued_deployment(value: &Value) -> Result<(u64, u64), DecodeError> {
    let fields = Fields::of(value)?;
    let number = fields
        .get("deploy_request_number")
        .and_then(lenient_number)
        .ok_or_else(|| DecodeError("no `deploy_request_number`".into()))?;
    let preceding = fields
        .get("preceding_deployments")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    Ok((
        number,
        u64::try_from(preceding)
            .unwrap_or(u64::MAX)
            .saturating_add(1),
    ))
}
