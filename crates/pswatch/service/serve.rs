//! Serving an axum router to whoever connects, with the bounds every server reachable from
//! outside needs: a client has [`Limits::header_timeout`] to send a request's headers (an idle
//! kept-alive connection too), a request [`Limits::request_timeout`] to be answered, and at most
//! [`Limits::max_connections`] are served at once (more wait in the kernel's backlog), at most
//! [`Limits::per_client`] of them for one client address (one past that is closed at once), so
//! slow or idle clients cannot hold every descriptor, nor every slot that others need. Requests
//! carry the client's address as [`ConnectInfo`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse as _;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// The bounds of one server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_connections: usize,
    /// The most connections one client address holds at once.
    pub(crate) per_client: usize,
}

/// The connections each client address holds.
#[derive(Default)]
struct Clients(Mutex<HashMap<IpAddr, usize>>);

impl Clients {
    /// A slot for a connection of `client`, if it holds fewer than `most`.
    fn take(self: &Arc<Self>, client: IpAddr, most: usize) -> Option<ClientSlot> {
        let mut held = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = held.entry(client).or_insert(0);
        if *count >= most {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            clients: Arc::clone(self),
            client,
        })
    }
}

/// One connection of a client, given back when it closes.
struct ClientSlot {
    clients: Arc<Clients>,
    client: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self
            .clients
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

/// How long connections still open at shutdown are given to finish their request.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` within `limits` until `shutdown`; `name` names the server in the
/// log.
pub(crate) async fn serve(
    name: &'static str,
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(Clients::default());
    let connections = TaskTracker::new();
    let mut full = false;
    loop {
        // A connection is accepted only with a permit: past the limit, clients wait.
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        if permits.available_permits() == 0 && !full {
            tracing::warn!(
                server = name,
                limit = limits.max_connections,
                "every connection is taken; new ones wait until one closes"
            );
        }
        full = permits.available_permits() == 0;
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(server = name, %error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // One client past its share is closed at once, its slot left to others.
        let Some(slot) = clients.take(peer.ip(), limits.per_client) else {
            tracing::debug!(server = name, client = %peer.ip(), limit = limits.per_client,
                "a client holds as many connections as it may; its new one is closed");
            drop(stream);
            continue;
        };
        let app = app.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _held = (permit, slot);
            serve_connection(stream, peer, app, limits, shutdown).await;
        });
    }
    connections.close();
    if tokio::time::timeout(CLOSE_GRACE, connections.wait())
        .await
        .is_err()
    {
        tracing::debug!(
            server = name,
            "connections still open at shutdown are closed"
        );
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let answered = tokio::time::timeout(
                limits.request_timeout,
                app.oneshot(request.map(axum::body::Body::new)),
            )
            .await;
            Ok::<_, std::convert::Infallible>(match answered {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    (StatusCode::REQUEST_TIMEOUT, "the request took too long\n").into_response()
                }
            })
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(CLOSE_GRACE, connection).await;
        }
    }
}
