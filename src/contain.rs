//! No panic reaches Node. A connection's task that panics is reported as
//! that socket's `'error'` (`ERR_INTERNAL_ASSERTION`, Node's code for an
//! internal bug) and `'close'`; the TLS thread, its other connections and
//! the process carry on. A server's handshake that panics is that client's
//! `'tlsClientError'`. Calls from JavaScript are wrapped by napi-rs
//! (`#[napi(catch_unwind)]`) and throw instead of aborting the process.
//!
//! Builds for tests (`cargo test`, or the `fault-injection` feature) can
//! make a connection task panic on purpose: [`inject`] panics when the
//! plaintext it is about to deliver contains [`FAULT_MARKER`].

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use crate::conn::{Event, Shared, Sink};
use crate::error::NodeError;

/// Plaintext that makes a test build's connection task panic mid-stream.
#[cfg(any(test, feature = "fault-injection"))]
pub const FAULT_MARKER: &[u8] = b"\0rustls-tls:fault-injection:panic\0";

/// Test builds: panics when `plaintext` carries [`FAULT_MARKER`].
#[cfg(any(test, feature = "fault-injection"))]
pub fn inject(plaintext: &[u8]) {
    let hit = plaintext
        .windows(FAULT_MARKER.len())
        .any(|w| w == FAULT_MARKER);
    assert!(!hit, "fault injection: connection task panics");
}

/// Release builds: no fault can be injected.
#[cfg(not(any(test, feature = "fault-injection")))]
#[inline(always)]
pub fn inject(_plaintext: &[u8]) {}

/// The error a panic becomes.
pub fn panic_error(payload: &(dyn Any + Send)) -> NodeError {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    NodeError::new(
        "ERR_INTERNAL_ASSERTION",
        format!(
            "rustls-tls: a connection task failed ({what}). This is a bug in rustls-tls; \
             please report it"
        ),
    )
}

// These two are combinators, not `async fn`s: an `async fn` keeps its
// argument (the whole task's state machine) and the future made from it side
// by side, so wrapping a task that way doubled what every connection holds
// (+5.5 KiB a server connection, +13.7 KiB a client's; STRESS.md).

/// Runs `work`, turning a panic in it into an error.
pub fn catching<T>(
    work: impl Future<Output = Result<T, NodeError>>,
) -> impl Future<Output = Result<T, NodeError>> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .map(|result| result.unwrap_or_else(|payload| Err(panic_error(payload.as_ref()))))
}

/// A connection's whole task: a panic in it closes the connection (the
/// task's state is dropped and the established session taken from
/// `shared`), then is reported to `sink` as the socket's error and close.
pub fn connection(
    task: impl Future<Output = ()>,
    shared: Arc<Shared>,
    sink: Sink,
) -> impl Future<Output = ()> {
    AssertUnwindSafe(task).catch_unwind().map(move |result| {
        if let Err(payload) = result {
            shared.abandon();
            sink(Event::Error(panic_error(payload.as_ref())));
            sink(Event::Close);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task whose state is large, as a connection's is.
    async fn big_task() {
        let buffer = [0u8; 8192];
        std::future::ready(()).await;
        std::hint::black_box(&buffer);
    }

    #[test]
    fn wrapping_a_task_does_not_copy_its_state() {
        let sink: Sink = Arc::new(|_| {});
        let bare = std::mem::size_of_val(&big_task());
        let wrapped = std::mem::size_of_val(&connection(big_task(), Arc::default(), sink));
        assert!(bare >= 8192);
        assert!(
            wrapped <= bare + 64,
            "{wrapped} bytes wrap a task of {bare}"
        );
        let caught = std::mem::size_of_val(&catching(async {
            big_task().await;
            Ok::<(), NodeError>(())
        }));
        assert!(caught <= bare + 64, "{caught} bytes wrap a task of {bare}");
    }
}
