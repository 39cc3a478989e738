#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| filter_core_fuzz::redact(data));
