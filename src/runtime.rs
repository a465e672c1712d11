//! The one tokio runtime, created on first use and sized to the machine:
//! one worker per core but one, which is left to the JavaScript thread
//! (measured on 2 cores: one worker against two gave 1.4x the
//! request/response rate and 1.4x the server-to-client bulk rate, with
//! handshakes/s unchanged). `RUSTLS_TLS_THREADS` overrides it.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// The runtime every connection task runs on, or why it could not start.
pub fn get() -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let threads = std::env::var("RUSTLS_TLS_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| {
                    std::thread::available_parallelism()
                        .map_or(1, |n| n.get().saturating_sub(1).max(1))
                });
            Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("rustls-tls")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the TLS runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}
