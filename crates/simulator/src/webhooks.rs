//! A database's webhooks, as `GET` and `POST …/databases/{db}/webhooks` serve them.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::admission::{admit_database, error, lock, not_found, page, Shared};

/// One of a database's webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimWebhook {
    /// Its id.
    pub id: String,
    /// Where it posts.
    pub url: String,
    /// The key of its signatures.
    pub secret: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Whether its last delivery succeeded; `None` before its first.
    pub last_sent_success: Option<bool>,
    /// Its events.
    pub events: Vec<String>,
}

impl SimWebhook {
    /// An enabled webhook to `url` with `secret`, subscribed to `events`, never sent yet.
    pub fn new(url: &str, secret: &str, events: &[&str]) -> Self {
        Self {
            id: format!("wh-{}", secret.len() + url.len()),
            url: url.into(),
            secret: secret.into(),
            enabled: true,
            last_sent_success: None,
            events: events.iter().map(|event| (*event).to_owned()).collect(),
        }
    }

    /// As the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "url": self.url,
            "secret": self.secret,
            "enabled": self.enabled,
            "last_sent_result": match self.last_sent_success {
                Some(true) => "200 OK",
                Some(false) => "500 Internal Server Error",
                None => "",
            },
            "last_sent_success": self.last_sent_success.unwrap_or(false),
            "last_sent_at": self.last_sent_success.map(|_| "2026-11-23T09:00:00.000Z"),
            "created_at": "2026-11-23T09:00:00.000Z",
            "updated_at": "2026-11-23T09:00:00.000Z",
            "events": self.events,
        })
    }
}

pub(crate) async fn list_webhooks(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(response) =
        admit_database(&shared, &headers, "webhooks", &organization, &database).await
    {
        return response;
    }
    let world = lock(&shared.world);
    let Some(database) = world.database(&organization, &database) else {
        return not_found();
    };
    let items = database.webhooks.iter().map(SimWebhook::to_json).collect();
    page(items, &query, false)
}

pub(crate) async fn create_webhook(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((organization, database)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    if let Err(response) = admit_database(
        &shared,
        &headers,
        "create_webhook",
        &organization,
        &database,
    )
    .await
    {
        return response;
    }
    let mut world = lock(&shared.world);
    let Some(database) = world.database_mut_if_exists(&organization, &database) else {
        return not_found();
    };
    if database.webhooks_read_only {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The service token does not have access to this resource",
        );
    }
    let Some(Json(body)) = body else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "a JSON body is required",
        );
    };
    let Some(url) = body["url"]
        .as_str()
        .filter(|url| url.starts_with("https://"))
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Url must be a valid HTTPS URL",
        );
    };
    if database.webhooks.len() >= 5 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "a database can have at most 5 webhooks",
        );
    }
    let events: Vec<&str> = body["events"]
        .as_array()
        .map(|events| events.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut webhook = SimWebhook::new(
        url,
        &format!("simulated-secret-{}", database.webhooks.len() + 1),
        &events,
    );
    webhook.id = format!("wh{}", database.webhooks.len() + 1);
    webhook.enabled = body["enabled"].as_bool().unwrap_or(true);
    let answer = webhook.to_json();
    database.webhooks.push(webhook);
    (StatusCode::CREATED, Json(answer)).into_response()
}
