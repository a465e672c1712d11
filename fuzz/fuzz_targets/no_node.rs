//! The addon reads established sockets on Node's own event loop through
//! libuv (`src/poll.rs`), whose functions Node provides when it loads the
//! addon. The fuzz targets run without Node and never reach that path; these
//! stand-ins only let the binaries link, and abort if ever called.

use std::ffi::{c_int, c_void};

macro_rules! absent {
    ($($name:ident),* $(,)?) => {$(
        #[no_mangle]
        pub extern "C" fn $name(_: *mut c_void, _: c_int, _: *mut c_void) -> c_int {
            std::process::abort()
        }
    )*};
}

absent!(
    uv_handle_size,
    uv_poll_init_socket,
    uv_poll_start,
    uv_poll_stop,
    uv_close,
    uv_unref,
    uv_handle_set_data,
    uv_handle_get_data,
);
