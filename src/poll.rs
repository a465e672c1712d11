//! Reads of established connections on the JavaScript thread's own event
//! loop, as `node:tls` reads its sockets.
//!
//! A message read on a TLS thread costs two wake-ups (that thread, then the
//! JS thread through the hub's thread-safe function); `node:tls` pays one.
//! So once a socket's connection is established ([`crate::conn::go_live`]
//! made it [`crate::transport::Transport::Polled`]), a libuv poll handle on
//! the JS thread's loop watches its descriptor: each readable event reads
//! the socket, decrypts with rustls, and calls the hub's JavaScript function
//! directly (`napi_make_callback`, so that ticks and microtasks run after it
//! as after a socket read). Handshakes, writes that the socket cannot take
//! at once, `end()`, `destroy()` and the reporting of failures stay with the
//! connection's task; the task is woken only when a read ends the stream or
//! fails.
//!
//! Measured on 2 cores (benchmark/, medians of 3): see DESIGN.md.
//!
//! Only the main thread polls (a worker's loop must have no handle of ours
//! left when it closes); `RUSTLS_TLS_INLINE=0` turns it off.

use std::ffi::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::sys;

use crate::conn::{PollRead, Shared};

const UV_POLL: c_int = 8;
const UV_READABLE: c_int = 1;
const UV_WRITABLE: c_int = 2;
/// Event kinds of `crate::hub` that this module sends.
const DATA: u32 = 3;
const END: u32 = 4;
const SESSION: u32 = 14;

/// Sessions of a read, each after that much of its plaintext.
type ReadSessions = Vec<(usize, Vec<u8>)>;

std::thread_local! {
    /// Sessions (TLS 1.3 tickets) that rustls reported during a read on
    /// this thread, each with how much of the read's plaintext came before
    /// it: the read delivers them there among its data, in wire order, as
    /// Node emits `'session'` as it reads the tickets. Through the hub's
    /// queue they would come later (after `'end'` when the tickets and the
    /// close arrive together, so that an `https.Agent` had no session to
    /// offer its next connection).
    static READ_SESSIONS: std::cell::RefCell<Option<ReadSessions>> =
        const { std::cell::RefCell::new(None) };
    /// Plaintext of the current read before the record being processed.
    static READ_POSITION: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// The read's plaintext taken before rustls was fed (see [`READ_SESSIONS`]).
pub fn read_base(base: usize) {
    READ_POSITION.with(|p| p.set((base, 0)));
}

/// The plaintext taken so far from the bytes fed to rustls in this read.
pub fn read_position(at: usize) {
    READ_POSITION.with(|p| p.set((p.get().0, at)));
}

/// A client session `buf` reported now: kept for the JS-thread read that is
/// decrypting it (`None` returned), or given back to go through the hub.
pub fn divert_session(buf: Vec<u8>) -> Option<Vec<u8>> {
    let (base, at) = READ_POSITION.with(std::cell::Cell::get);
    READ_SESSIONS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => match slot.as_mut() {
            Some(list) => {
                list.push((base + at, buf));
                None
            }
            None => Some(buf),
        },
        Err(_) => Some(buf),
    })
}

type PollCb = unsafe extern "C" fn(*mut c_void, c_int, c_int);
type CloseCb = unsafe extern "C" fn(*mut c_void);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init_socket(lp: *mut sys::uv_loop_s, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, cb: PollCb) -> c_int;
    fn uv_poll_stop(handle: *mut c_void) -> c_int;
    fn uv_close(handle: *mut c_void, cb: CloseCb);
    fn uv_unref(handle: *mut c_void);
    fn uv_handle_set_data(handle: *mut c_void, data: *mut c_void);
    fn uv_handle_get_data(handle: *const c_void) -> *mut c_void;
}

/// The hub's JavaScript function, called from the JS thread's poll
/// callbacks. Used on that thread only.
#[derive(Debug)]
pub struct JsTarget {
    env: sys::napi_env,
    func: sys::napi_ref,
    context: sys::napi_async_context,
}

// SAFETY: the raw handles are only used on the JS thread that made them
// (poll callbacks and napi calls of that environment); the struct merely
// travels inside the hub, which is shared with the TLS threads.
unsafe impl Send for JsTarget {}
// SAFETY: as above.
unsafe impl Sync for JsTarget {}

impl JsTarget {
    /// A target for `func` in `env`, or `None` if Node-API refuses.
    ///
    /// # Safety
    /// `env` and `func` must be the current call's environment and a
    /// function value of it.
    pub unsafe fn new(env: sys::napi_env, func: sys::napi_value) -> Option<Self> {
        let mut reference = null_mut();
        let mut resource = null_mut();
        let mut name = null_mut();
        let mut context = null_mut();
        let label = b"rustls-tls:read";
        let ok = sys::napi_create_reference(env, func, 1, &mut reference) == sys::Status::napi_ok
            && sys::napi_create_object(env, &mut resource) == sys::Status::napi_ok
            && sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            ) == sys::Status::napi_ok
            && sys::napi_async_init(env, resource, name, &mut context) == sys::Status::napi_ok;
        ok.then_some(Self {
            env,
            func: reference,
            context,
        })
    }

    /// Calls the hub's function with `(id, kind, data, info)`, `info` being
    /// `{ records }` when `records` (where each TLS record's plaintext ends
    /// in `data`) is not empty; a throw is an uncaught exception, as from
    /// any event.
    unsafe fn call(&self, id: u32, kind: u32, data: Option<&[u8]>, records: &[u32]) {
        self.call_with(id, kind, data.map(Payload::Copied), records);
    }

    /// As [`JsTarget::call`], the Buffer made over `data` itself instead of
    /// a copy (an external Buffer, freed when collected); for batches of
    /// [`EXTERNAL_MIN`] or more.
    unsafe fn call_owned(&self, id: u32, kind: u32, mut data: Vec<u8>, records: &[u32]) {
        // The Buffer holds the whole allocation, and V8 counts only its
        // length: a batch grown over several reads (capacity doubling) gives
        // back what it does not use (a shrinking realloc, in place with
        // glibc).
        if data.capacity() - data.len() > data.len() / 4 {
            data.shrink_to_fit();
        }
        self.call_with(id, kind, Some(Payload::Owned(data)), records);
    }

    unsafe fn call_with(&self, id: u32, kind: u32, data: Option<Payload<'_>>, records: &[u32]) {
        let env = self.env;
        let mut scope = null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let mut func = null_mut();
        let mut undefined = null_mut();
        // `napi_make_callback` needs an object as `this`.
        let mut global = null_mut();
        let mut args = [null_mut(); 4];
        let mut ok = sys::napi_get_reference_value(env, self.func, &mut func)
            == sys::Status::napi_ok
            && sys::napi_get_undefined(env, &mut undefined) == sys::Status::napi_ok
            && sys::napi_get_global(env, &mut global) == sys::Status::napi_ok
            && sys::napi_create_uint32(env, id, &mut args[0]) == sys::Status::napi_ok
            && sys::napi_create_uint32(env, kind, &mut args[1]) == sys::Status::napi_ok;
        args[2] = undefined;
        args[3] = undefined;
        if let (true, Some(payload)) = (ok, data) {
            ok = payload.into_buffer(env, &mut args[2]);
        }
        if ok && !records.is_empty() {
            ok = Self::records_info(env, records, &mut args[3]);
        }
        if ok {
            let mut result = null_mut();
            let status = sys::napi_make_callback(
                env,
                self.context,
                global,
                func,
                args.len(),
                args.as_ptr(),
                &mut result,
            );
            if status == sys::Status::napi_pending_exception {
                let mut error = null_mut();
                if sys::napi_get_and_clear_last_exception(env, &mut error) == sys::Status::napi_ok {
                    sys::napi_fatal_exception(env, error);
                }
            }
        }
        sys::napi_close_handle_scope(env, scope);
    }

    /// `{ records: [...] }` into `out`; false if Node-API refuses.
    unsafe fn records_info(env: sys::napi_env, records: &[u32], out: &mut sys::napi_value) -> bool {
        let mut object = null_mut();
        let mut array = null_mut();
        if sys::napi_create_object(env, &mut object) != sys::Status::napi_ok
            || sys::napi_create_array_with_length(env, records.len(), &mut array)
                != sys::Status::napi_ok
        {
            return false;
        }
        for (i, &end) in records.iter().enumerate() {
            let mut value = null_mut();
            if sys::napi_create_uint32(env, end, &mut value) != sys::Status::napi_ok
                || sys::napi_set_element(env, array, i as u32, value) != sys::Status::napi_ok
            {
                return false;
            }
        }
        let ok = sys::napi_set_named_property(env, object, c"records".as_ptr(), array)
            == sys::Status::napi_ok;
        if ok {
            *out = object;
        }
        ok
    }
}

/// Plaintext this large goes to JavaScript in the memory it was decrypted
/// into (an external Buffer) rather than copied: bulk transfers save a copy
/// of every byte; below it a copy is cheaper than an external Buffer's
/// bookkeeping and its finalizer.
const EXTERNAL_MIN: usize = 16 * 1024;

/// A `'data'` payload: bytes to copy into a new Buffer, or a batch whose
/// memory the Buffer takes over.
enum Payload<'a> {
    Copied(&'a [u8]),
    Owned(Vec<u8>),
}

impl Payload<'_> {
    /// The Buffer into `out`; false if Node-API refuses.
    unsafe fn into_buffer(self, env: sys::napi_env, out: &mut sys::napi_value) -> bool {
        let bytes = match self {
            Payload::Copied(bytes) => bytes,
            Payload::Owned(vec) => {
                let (len, data) = (vec.len(), vec.as_ptr().cast_mut());
                let hint = Box::into_raw(Box::new(vec));
                let status = sys::napi_create_external_buffer(
                    env,
                    len,
                    data.cast(),
                    Some(free_batch),
                    hint.cast(),
                    out,
                );
                if status == sys::Status::napi_ok {
                    return true;
                }
                // Refused (a runtime without external buffers): the
                // finalizer was not taken, the batch is ours to copy.
                let vec = Box::from_raw(hint);
                return Payload::Copied(&vec).into_buffer(env, out);
            }
        };
        let mut copy = null_mut();
        sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut copy, out)
            == sys::Status::napi_ok
    }
}

/// Frees a batch handed over by [`Payload::Owned`] once its Buffer is
/// collected.
unsafe extern "C" fn free_batch(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    drop(Box::from_raw(hint.cast::<Vec<u8>>()));
}

/// One connection's poll; lives from [`start`] to the close callback.
struct PollState {
    handle: *mut c_void,
    layout: std::alloc::Layout,
    js: Arc<JsTarget>,
    id: u32,
    shared: Arc<Shared>,
    /// Nothing more is read: the stream ended, or a read failed.
    done: std::cell::Cell<bool>,
    /// What the handle watches now.
    watching: std::cell::Cell<c_int>,
}

/// `socket` registered with the current runtime for write readiness only
/// (the JS thread watches it for reads); the socket back if it cannot be.
pub fn register_writable(
    socket: socket2::Socket,
) -> Result<tokio::io::unix::AsyncFd<socket2::Socket>, socket2::Socket> {
    // SAFETY: a `Socket` owns its descriptor, which stays open and the same
    // until the `AsyncFd` is dropped or gives it back.
    unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(socket, tokio::io::Interest::WRITABLE)
    }
    .map_err(|e| e.into_parts().0)
}

/// Whether `socket` can take a write now.
pub fn writable_now(socket: &socket2::Socket) -> bool {
    use std::os::fd::AsRawFd;
    let mut fds = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let n = unsafe { libc::poll(&mut fds, 1, 0) };
    n != 0
}

/// Starts reading connection `id` on the JS thread, if it is polled and
/// not yet read there. Called on the JS thread of `js`.
pub fn start(js: &Arc<JsTarget>, id: u32, shared: &Arc<Shared>) {
    let Ok(mut slot) = shared.poll.lock() else {
        return;
    };
    let Some(fd) = slot.fd else { return };
    if slot.state != 0 || slot.closed || slot.closing.is_some() {
        return;
    }
    // Nobody else reads this socket: without a poll, the connection fails.
    let fail = |errno: c_int| {
        let e = std::io::Error::from_raw_os_error(errno.abs());
        if let Some(Ok(mut live)) = shared.live_cell().map(|c| c.lock()) {
            if let Some(live) = live.as_mut() {
                live.fail_read(crate::error::NodeError::io(&e, "read"));
            }
        }
        shared.wake.notify_one();
    };
    // SAFETY: on the JS thread of `js.env`; the handle's memory is
    // allocated with the size libuv reports and freed by the close callback.
    unsafe {
        let mut lp = null_mut();
        if sys::napi_get_uv_event_loop(js.env, &mut lp) != sys::Status::napi_ok || lp.is_null() {
            return fail(libc::EINVAL);
        }
        let Ok(layout) = std::alloc::Layout::from_size_align(uv_handle_size(UV_POLL), 16) else {
            return fail(libc::EINVAL);
        };
        let handle = std::alloc::alloc_zeroed(layout).cast::<c_void>();
        if handle.is_null() {
            return fail(libc::ENOMEM);
        }
        let status = uv_poll_init_socket(lp, handle, fd);
        if status != 0 {
            std::alloc::dealloc(handle.cast(), layout);
            return fail(status);
        }
        uv_unref(handle);
        let state = Box::into_raw(Box::new(PollState {
            handle,
            layout,
            js: js.clone(),
            id,
            shared: shared.clone(),
            done: std::cell::Cell::new(false),
            watching: std::cell::Cell::new(0),
        }));
        uv_handle_set_data(handle, state.cast());
        slot.state = state as usize;
        drop(slot);
        // The first callback comes at once (the socket is writable), to
        // deliver what rustls already holds from the handshake.
        watch(&*state, Some(true));
    }
}

/// Watches for input unless paused or done. `kick`: `Some(true)` asks for
/// a callback on the next loop turn as well (the socket is writable),
/// `Some(false)` drops such a request (it was answered), `None` keeps it.
unsafe fn watch(state: &PollState, kick: Option<bool>) {
    let kicked = kick.unwrap_or(state.watching.get() & UV_WRITABLE != 0);
    let want = if state.done.get() || state.shared.paused.load(Ordering::SeqCst) {
        0
    } else if kicked {
        UV_READABLE | UV_WRITABLE
    } else {
        UV_READABLE
    };
    if want == state.watching.get() {
        return;
    }
    state.watching.set(want);
    if want == 0 {
        uv_poll_stop(state.handle);
    } else {
        uv_poll_start(state.handle, want, on_poll);
    }
}

unsafe extern "C" fn on_poll(handle: *mut c_void, status: c_int, _events: c_int) {
    let state = &*uv_handle_get_data(handle).cast::<PollState>();
    // On an error condition of the socket (POLLERR: the peer reset it, say)
    // libuv stops the handle before this callback, which it gives a
    // negative status: the handle watches nothing now. Forgetting that, a
    // read that wants what `watching` still said (the cell was busy, or the
    // read wants READABLE again) never restarted it, and the connection
    // heard nothing more: not the reset, not the peer's end (an mqtt.js
    // client's end() after a broker's reset waited forever).
    if status < 0 {
        state.watching.set(0);
    }
    // A panic must not unwind into libuv: it becomes the connection's read
    // failure, which its task reports (`ERR_INTERNAL_ASSERTION`), and this
    // poll reads no more.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_and_deliver(state)));
    if let Err(payload) = read {
        if let Some(cell) = state.shared.live_cell() {
            let mut guard = cell
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(live) = guard.as_mut() {
                live.fail_read(crate::contain::panic_error(payload.as_ref()));
            }
        }
        state.done.set(true);
        state.shared.wake.notify_one();
        watch(state, Some(false));
    }
}

/// Where the records of `batch[from..to]` end, relative to `from` (the last
/// at `to`), for the `'data'` event's `records`; empty when the slice is one
/// record, which needs no splitting.
fn records_in(ends: &[u32], from: usize, to: usize) -> Vec<u32> {
    let mut inside: Vec<u32> = ends
        .iter()
        .map(|&e| e as usize)
        .filter(|&e| e > from && e < to)
        .map(|e| u32::try_from(e - from).unwrap_or(u32::MAX))
        .collect();
    if !inside.is_empty() {
        inside.push(u32::try_from(to - from).unwrap_or(u32::MAX));
    }
    inside
}

/// One readable event: read, decrypt, deliver.
unsafe fn read_and_deliver(state: &PollState) {
    let shared = &state.shared;
    let Some(cell) = shared.live_cell() else {
        state.done.set(true);
        watch(state, Some(false));
        return;
    };
    let Ok(mut guard) = cell.try_lock() else {
        // The task holds the connection for a moment: come back next turn.
        watch(state, Some(true));
        return;
    };
    READ_SESSIONS.with(|cell| *cell.borrow_mut() = Some(Vec::new()));
    READ_POSITION.with(|p| p.set((0, 0)));
    let read = match guard.as_mut() {
        Some(live) => live.poll_read(shared),
        None => PollRead::Stop,
    };
    let sessions = READ_SESSIONS
        .with(|cell| cell.borrow_mut().take())
        .unwrap_or_default();
    drop(guard);
    if let PollRead::Data(batch, ..) | PollRead::Failed(batch, ..) = &read {
        crate::contain::inject(batch);
    }
    let js = &state.js;
    // The plaintext of `batch[from..to]`, with where its records end.
    let data = |batch: &[u8], ends: &[u32], from: usize, to: usize| {
        js.call(
            state.id,
            DATA,
            Some(&batch[from..to]),
            &records_in(ends, from, to),
        );
    };
    // The read's plaintext with its sessions where they came among it.
    let deliver = |batch: &[u8], ends: &[u32]| {
        let mut at = 0;
        for (pos, session) in &sessions {
            let pos = (*pos).clamp(at, batch.len());
            if pos > at {
                data(batch, ends, at, pos);
                at = pos;
            }
            js.call(state.id, SESSION, Some(session), &[]);
        }
        if at < batch.len() {
            data(batch, ends, at, batch.len());
        }
    };
    match read {
        PollRead::Data(batch, ends, ended) => {
            if sessions.is_empty() && batch.len() >= EXTERNAL_MIN {
                // The usual bulk read: the batch becomes the Buffer.
                let records = records_in(&ends, 0, batch.len());
                js.call_owned(state.id, DATA, batch, &records);
            } else {
                deliver(&batch, &ends);
            }
            if ended {
                state.done.set(true);
                js.call(state.id, END, None, &[]);
                shared.wake.notify_one();
            }
        }
        PollRead::Failed(batch, ends, keep_open) => {
            deliver(&batch, &ends);
            state.done.set(!keep_open);
            shared.wake.notify_one();
        }
        PollRead::PeerGone => {
            deliver(&[], &[]);
            state.done.set(true);
            shared.wake.notify_one();
        }
        PollRead::Stop => {
            deliver(&[], &[]);
            state.done.set(true);
        }
    }
    watch(state, Some(false));
}

/// `readStart()` / `readStop()` on the JS thread: the poll follows
/// [`Shared::paused`], which the caller has just set; `resumed`: reading
/// was paused until now (what rustls holds is delivered on the next turn).
pub fn follow_pause(shared: &Shared, resumed: bool) {
    let state = shared.poll.lock().map(|slot| slot.state).unwrap_or(0);
    if state != 0 {
        // SAFETY: the state lives until `close` clears the slot, on this
        // (the JS) thread.
        unsafe { watch(&*(state as *const PollState), resumed.then_some(true)) };
    }
}

unsafe extern "C" fn on_closed(handle: *mut c_void) {
    let state = Box::from_raw(uv_handle_get_data(handle).cast::<PollState>());
    std::alloc::dealloc(handle.cast(), state.layout);
}

/// The connection closed (its `Close` event, on the JS thread): the poll
/// lets go of the descriptor, which is then closed.
pub fn close(shared: &Shared) {
    let Ok(mut slot) = shared.poll.lock() else {
        return;
    };
    slot.closed = true;
    let state = std::mem::take(&mut slot.state);
    if state != 0 {
        // SAFETY: on the JS thread; the state is freed by `on_closed`.
        unsafe {
            let state = &*(state as *const PollState);
            state.done.set(true);
            uv_close(state.handle, on_closed);
        }
    }
    drop(slot.closing.take());
}
