#![no_main]
//! intake, format forced to `Csv`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::intake("iocs.csv", data, cairn_intake::Format::Csv);
});
