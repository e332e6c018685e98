#![no_main]
//! intake, format forced to `MispEvent`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::intake("event.json", data, cairn_intake::Format::MispEvent);
});
