#![no_main]
//! intake, format forced to `MispGalaxy`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::intake("galaxy.json", data, cairn_intake::Format::MispGalaxy);
});
