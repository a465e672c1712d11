//! The one tokio runtime, created on first use and sized to the machine.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// The runtime every connection task runs on, or why it could not start.
pub fn get() -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
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
