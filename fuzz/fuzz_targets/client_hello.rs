#![no_main]
//! See `rustls_tls::fuzzing::client_hello`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustls_tls::fuzzing::client_hello(data));
