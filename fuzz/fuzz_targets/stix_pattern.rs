#![no_main]
//! STIX patterning: observables out of an indicator's pattern.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = std::str::from_utf8(data) {
        let _ = cairn_intake::observables_from_pattern(p);
    }
});
