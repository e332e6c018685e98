#![no_main]
//! intake with format detection: the first byte picks the file name's
//! extension (detection looks at both name and content).
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "feed.json",
    "iocs.csv",
    "list.txt",
    "report.md",
    "report.html",
    "report.pdf",
    "x",
    "a.stix",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    cairn_fuzz::intake(name, rest, cairn_intake::Format::Auto);
});
