//! What the benchmarks share: their command line, the lock they take, the percentiles they
//! report, the loopback server their webhook receiver runs on and free loopback ports.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Mutex, MutexGuard};

/// `--sizes 100,500 --scale 80 --seconds 45`.
pub struct Options {
    /// Fleet sizes to run.
    pub sizes: Vec<usize>,
    /// How many times faster than real time.
    pub scale: f64,
    /// Wall-clock seconds per run.
    pub seconds: f64,
}

impl Options {
    /// The command line's options, `defaults` where it gives none; unknown arguments (cargo's
    /// `--bench`) are skipped.
    pub fn parse(defaults: Options) -> Options {
        let mut options = defaults;
        let arguments: Vec<String> = std::env::args().collect();
        let mut index = 1;
        while index + 1 < arguments.len() {
            let value = &arguments[index + 1];
            match arguments[index].as_str() {
                "--sizes" => {
                    options.sizes = value
                        .split(',')
                        .filter_map(|size| size.parse().ok())
                        .collect()
                }
                "--scale" => options.scale = value.parse().unwrap_or(options.scale),
                "--seconds" => options.seconds = value.parse().unwrap_or(options.seconds),
                _ => {
                    index += 1;
                    continue;
                }
            }
            index += 2;
        }
        options
    }
}

/// A lock that a panic elsewhere does not poison.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The `share` percentile of `values` (NaN when there are none).
pub fn percentile(values: &[f64], share: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * share).round() as usize]
}

/// Serves `app` on an ephemeral loopback port in the background; its base URL.
pub async fn serve_on_loopback(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// A loopback port nothing listens on now, for a server the benchmark names before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}
