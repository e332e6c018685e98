#![no_main]
//! The hunt scanner end to end: the first byte picks the log format
//! (detection, CSV or free text), the rest is the log.
use cairn_hunt::LogFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = match pick % 4 {
        0 | 1 => LogFormat::Auto,
        2 => LogFormat::Csv,
        _ => LogFormat::Text,
    };
    cairn_fuzz::scan(rest, format);
});
