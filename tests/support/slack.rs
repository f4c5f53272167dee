//! A Slack Web API stand-in: `chat.postMessage` and `chat.update` with a bot token, answering
//! as Slack does (HTTP 200, `{"ok": …}`), each message a new `ts`, every call recorded.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// One call as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `chat.postMessage` or `chat.update`.
    pub method: String,
    /// The JSON body.
    pub body: Value,
    /// The `ts` answered: the new message's, or the updated one's.
    pub ts: String,
}

impl Call {
    pub fn thread_ts(&self) -> Option<&str> {
        self.body["thread_ts"].as_str()
    }

    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    next: u64,
}

#[derive(Clone)]
struct Shared {
    token: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct SlackApi {
    /// The `api_url` to configure.
    pub url: String,
    shared: Shared,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn call(
    State(shared): State<Shared>,
    Path(method): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let authorized = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(format!("Bearer {}", shared.token).as_str());
    if !authorized {
        return Json(json!({"ok": false, "error": "invalid_auth"}));
    }
    let Some(channel) = body["channel"].as_str().map(str::to_owned) else {
        return Json(json!({"ok": false, "error": "channel_not_found"}));
    };
    let mut inner = shared
        .inner
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let ts = match method.as_str() {
        "chat.postMessage" => {
            inner.next += 1;
            format!("1763899200.{:06}", inner.next)
        }
        "chat.update" => {
            let ts = body["ts"].as_str().unwrap_or_default().to_owned();
            let known = inner
                .calls
                .iter()
                .any(|call| call.method == "chat.postMessage" && call.ts == ts);
            if !known {
                return Json(json!({"ok": false, "error": "message_not_found"}));
            }
            ts
        }
        _ => return Json(json!({"ok": false, "error": "unknown_method"})),
    };
    inner.calls.push(Call {
        method,
        body,
        ts: ts.clone(),
    });
    Json(json!({"ok": true, "channel": channel, "ts": ts}))
}

impl SlackApi {
    /// Serves on a loopback port, accepting `token` only.
    pub async fn start(token: &str) -> Self {
        let shared = Shared {
            token: token.to_owned(),
            inner: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/api", listener.local_addr().expect("addr"));
        let app = Router::new()
            .route("/api/{method}", post(call))
            .with_state(shared.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            url,
            shared,
            _shutdown: shutdown,
        }
    }

    /// Every accepted call, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .calls
            .clone()
    }
}
