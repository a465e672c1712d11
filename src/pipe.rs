//! A transport fed from JavaScript, for TLS over a stream that already
//! exists (STARTTLS, `tls.connect({ socket })`, `new TLSSocket(duplex)`).
//!
//! Ciphertext from the wrapped stream is queued here by `feed()` and read by
//! the connection task exactly as it would read a socket; ciphertext the
//! task writes goes to JavaScript as events, which write it to the wrapped
//! stream and acknowledge it with `ack()`. Both directions are bounded: a
//! full input queue tells JS to pause the wrapped stream, and unacknowledged
//! output makes the task wait as a full socket would.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::conn::{Event, Sink};

/// Input bytes queued above which JS should pause the wrapped stream.
const IN_LIMIT: usize = 256 * 1024;
/// Output bytes unacknowledged above which the task waits.
const OUT_LIMIT: usize = 256 * 1024;

/// Both directions of a JS-fed transport.
pub struct Pipe {
    inbound: Mutex<VecDeque<u8>>,
    eof: AtomicBool,
    /// The task has read the end of stream.
    eof_read: AtomicBool,
    /// The wrapped stream's read failed with this OS error number (0: it
    /// did not); reported once the bytes read before it are taken.
    failed: AtomicI32,
    in_paused: AtomicBool,
    readable: Notify,
    out_pending: AtomicUsize,
    writable: Notify,
    sink: Sink,
    /// Input bytes taken by the task so far.
    consumed: AtomicU64,
    /// The connection is established; from then on the task reports
    /// [`Event::Idle`] itself (it knows about writes too).
    live: AtomicBool,
    /// `consumed` as last reported idle during the handshake.
    reported: AtomicU64,
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipe")
            .field("eof", &self.eof)
            .field("out_pending", &self.out_pending)
            .finish_non_exhaustive()
    }
}

impl Pipe {
    /// A pipe whose output goes to `sink` as [`Event::Ciphertext`].
    pub fn new(sink: Sink) -> Self {
        Self {
            inbound: Mutex::new(VecDeque::new()),
            eof: AtomicBool::new(false),
            eof_read: AtomicBool::new(false),
            failed: AtomicI32::new(0),
            in_paused: AtomicBool::new(false),
            readable: Notify::new(),
            out_pending: AtomicUsize::new(0),
            writable: Notify::new(),
            sink,
            consumed: AtomicU64::new(0),
            live: AtomicBool::new(false),
            reported: AtomicU64::new(u64::MAX),
        }
    }

    /// Queues ciphertext from the wrapped stream; false asks JS to pause it
    /// until [`Event::InputDrain`].
    pub fn feed(&self, data: &[u8]) -> bool {
        let Ok(mut q) = self.inbound.lock() else {
            return true;
        };
        q.extend(data);
        // Decided under the lock, so that `try_read` cannot drain the queue
        // between the check and the flag and leave the stream paused.
        let full = q.len() >= IN_LIMIT;
        if full {
            self.in_paused.store(true, Ordering::SeqCst);
        }
        drop(q);
        self.readable.notify_one();
        !full
    }

    /// The connection is established: idleness is the task's to report.
    pub fn go_live(&self) {
        self.live.store(true, Ordering::SeqCst);
    }

    /// With nothing queued to read: the input taken so far, in bytes plus
    /// one for the end of stream once it was read (or, `reader_done`, once
    /// the connection reads no more), as JS counts what it fed.
    pub fn idle_consumed(&self, reader_done: bool) -> Option<u64> {
        let empty = self.inbound.lock().map(|q| q.is_empty()).unwrap_or(false);
        let eof = self.eof.load(Ordering::SeqCst)
            && (reader_done || self.eof_read.load(Ordering::SeqCst));
        empty.then(|| self.consumed.load(Ordering::SeqCst) + u64::from(eof))
    }

    /// The wrapped stream ended.
    pub fn feed_end(&self) {
        self.eof.store(true, Ordering::SeqCst);
        self.readable.notify_one();
    }

    /// The wrapped stream's read failed with OS error `errno` (a reset):
    /// the task reads it as its socket's failure, after the bytes that came
    /// before it. Node's TLS reads the socket it took over itself, so a peer
    /// that sends an alert and then resets is reported by its alert.
    pub fn feed_error(&self, errno: i32) {
        self.failed.store(errno.max(1), Ordering::SeqCst);
        self.readable.notify_one();
    }

    /// JS wrote `n` bytes of our output to the wrapped stream.
    pub fn ack(&self, n: usize) {
        let _ = self
            .out_pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                Some(v.saturating_sub(n))
            });
        self.writable.notify_one();
    }

    pub(crate) async fn readable(&self) {
        loop {
            let ready = self.eof.load(Ordering::SeqCst)
                || self.failed.load(Ordering::SeqCst) != 0
                || self.inbound.lock().map(|q| !q.is_empty()).unwrap_or(true);
            if ready {
                return;
            }
            if !self.live.load(Ordering::SeqCst) {
                // The handshake waits for the peer: idle unless JS feeds.
                let consumed = self.consumed.load(Ordering::SeqCst);
                if self.reported.swap(consumed, Ordering::SeqCst) != consumed {
                    (self.sink)(Event::Idle(consumed, 0));
                }
            }
            self.readable.notified().await;
        }
    }

    pub(crate) async fn writable(&self) {
        while self.out_pending.load(Ordering::SeqCst) >= OUT_LIMIT {
            self.writable.notified().await;
        }
    }

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut q = self
            .inbound
            .lock()
            .map_err(|_| io::Error::other("pipe poisoned"))?;
        if q.is_empty() {
            return match self.failed.load(Ordering::SeqCst) {
                _ if self.eof.load(Ordering::SeqCst) => {
                    self.eof_read.store(true, Ordering::SeqCst);
                    Ok(0)
                }
                0 => Err(io::ErrorKind::WouldBlock.into()),
                errno => Err(io::Error::from_raw_os_error(errno)),
            };
        }
        let n = buf.len().min(q.len());
        for (dst, src) in buf.iter_mut().zip(q.drain(..n)) {
            *dst = src;
        }
        self.consumed.fetch_add(n as u64, Ordering::SeqCst);
        let resume = q.len() < IN_LIMIT / 2 && self.in_paused.swap(false, Ordering::SeqCst);
        drop(q);
        if resume {
            (self.sink)(Event::InputDrain);
        }
        Ok(n)
    }

    pub(crate) fn try_write(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        if self.out_pending.load(Ordering::SeqCst) >= OUT_LIMIT {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let out: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        let n = out.len();
        self.out_pending.fetch_add(n, Ordering::SeqCst);
        (self.sink)(Event::Ciphertext(out));
        Ok(n)
    }

    pub(crate) fn shutdown_write(&self) {
        (self.sink)(Event::ShutdownOut);
    }
}
