#![no_main]
//! The IPv4/IPv6/host/hex/URL normalisers of hunt (vector and scalar paths
//! must agree) and of the model (every indicator kind).
use cairn_model::IndicatorKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_hunt::fuzzing::normalisers(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = IndicatorKind::detect(s);
        let _ = cairn_model::url_host(s);
        for k in IndicatorKind::all() {
            let _ = k.normalize(s);
        }
    }
});
