#![no_main]
//! intake, format forced to `List`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::intake("list.txt", data, cairn_intake::Format::List);
});
