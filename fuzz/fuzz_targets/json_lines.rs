#![no_main]
//! The hunt scanner's `Json` reader: fuzzed log bytes against a small fixed
//! index.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::scan(data, cairn_hunt::LogFormat::Json);
});
