#![no_main]
//! intake, format forced to `Stix`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::intake("bundle.json", data, cairn_intake::Format::Stix);
});
