//! The TLS threads: one single-threaded tokio runtime per thread, created on
//! first use, one thread per core. Each connection lives on one of them,
//! chosen in turn, from its first byte to its close: there is no work
//! stealing, so a busy connection never hops between threads and an idle
//! thread sleeps in its own `epoll_wait` instead of searching for work.
//!
//! Measured on 2 cores (benchmark/, medians of 3): against one
//! multi-threaded runtime with one worker (cores - 1), two threads give
//! handshakes/s +9% with bulk and request/response unchanged; one
//! multi-threaded runtime with two workers lost 15-20% of bulk throughput to
//! work stealing. `RUSTLS_TLS_THREADS` sets the number of threads.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};
use tokio::task::JoinHandle;

/// The TLS threads' runtimes.
#[derive(Debug)]
pub struct Runtimes {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl Runtimes {
    /// The runtime for a new connection (or listener), in turn, with its
    /// index.
    pub fn pick(&self) -> (usize, &Handle) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        (i, &self.handles[i])
    }

    /// Runs `future` on the next runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.pick().1.spawn(future)
    }
}

thread_local! {
    /// On a TLS thread, the index of its runtime.
    static CURRENT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The index of the runtime of the calling thread, if it is a TLS thread.
pub fn current() -> Option<usize> {
    CURRENT.with(std::cell::Cell::get)
}

fn start(threads: usize) -> Result<Runtimes, String> {
    let mut handles = Vec::with_capacity(threads);
    for index in 0..threads {
        let rt = Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the TLS runtime: {e}"))?;
        handles.push(rt.handle().clone());
        std::thread::Builder::new()
            .name("rustls-tls".to_owned())
            .spawn(move || {
                CURRENT.with(|c| c.set(Some(index)));
                rt.block_on(std::future::pending::<()>());
            })
            .map_err(|e| format!("cannot start a TLS thread: {e}"))?;
    }
    Ok(Runtimes {
        handles,
        next: AtomicUsize::new(0),
    })
}

/// The runtimes every connection task runs on, or why they could not start.
pub fn get() -> Result<&'static Runtimes, String> {
    static RUNTIMES: OnceLock<Result<Runtimes, String>> = OnceLock::new();
    RUNTIMES
        .get_or_init(|| {
            let threads = std::env::var("RUSTLS_TLS_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            start(threads)
        })
        .as_ref()
        .map_err(Clone::clone)
}
