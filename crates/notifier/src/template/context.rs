//! What a template sees: `event`, the event's webhook payload (its `data`, with `type` and
//! `timestamp`) and the fields every type shares, spelled the same for every type.

use diff_engine::{Event, EventKind};
use serde_json::{json, Map, Value};

use crate::payload::WebhookPayload;
use crate::text::{change, dashboard_url, details, headline, resource_name};

/// The variables of a template rendered for `event`: `{"event": {...}}`.
///
/// `event` holds every field of the webhook's `data` (`id`, `organization`, `database`,
/// `severity`, `observed_at`, `previous_state`, `state`, `workflow`, `deploy_request`,
/// `operation`, …, as the type has them), and:
/// - `type` and `timestamp`, as the webhook frames them;
/// - `resource`: what the event is about, e.g. `workflow #3 move-customers` (for PlanetScale's
///   own events, PlanetScale's resource object is `planetscale`);
/// - `from` and `to`: the state before and after (for an errors change, the error text before
///   and after); `none` where there is none;
/// - `errors`: the error text the event carries, or `none`;
/// - `change`, `headline` and `dashboard_url`: what the built-in messages show;
/// - `facts`: the built-in facts, a list of `{label, value}`.
pub(crate) fn context(event: &Event) -> Value {
    let payload = serde_json::to_value(WebhookPayload::new(event)).unwrap_or_default();
    let mut fields = match payload.get("data") {
        Some(Value::Object(data)) => data.clone(),
        _ => Map::new(),
    };
    if let EventKind::PlanetScale { resource, .. } = &event.kind {
        fields.insert("planetscale".into(), resource.clone());
    }
    let [before, after] = event.kind.before_after();
    let (from, to) = (
        json!(before),
        json!(after.filter(|after| !after.is_empty())),
    );
    let facts: Vec<Value> = details(event)
        .into_iter()
        .map(|(label, value)| json!({"label": label, "value": value}))
        .collect();
    for (key, value) in [
        ("type", json!(event.type_name())),
        ("timestamp", payload["timestamp"].clone()),
        ("resource", json!(resource_name(event))),
        ("from", from),
        ("to", to),
        ("errors", json!(event.kind.errors())),
        ("change", json!(change(event))),
        ("headline", json!(headline(event))),
        ("dashboard_url", json!(dashboard_url(event))),
        ("facts", Value::Array(facts)),
    ] {
        fields.insert(key.into(), value);
    }
    json!({ "event": fields })
}
