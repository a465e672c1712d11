#![no_main]
//! See `rustls_tls::fuzzing::context`.

mod no_node;

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustls_tls::fuzzing::context(data));
