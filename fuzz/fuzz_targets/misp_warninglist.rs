#![no_main]
//! MISP warninglists: intake's reader and the warninglist compiler, then a
//! few lookups of every kind against what was compiled.
use cairn_model::IndicatorKind as K;
use cairn_warninglist::WarningLists;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::intake("list.json", data, cairn_intake::Format::MispWarninglist);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut w = WarningLists::new();
    if w.add_json("fuzz", text).is_ok() {
        for (k, v) in [
            (K::Domain, "www.google.com"),
            (K::Ipv4, "8.8.8.8"),
            (K::Ipv6, "2001:4860:4860::8888"),
            (K::Url, "https://example.com/a"),
            (K::Cidr, "10.0.0.0/8"),
            (K::Email, "a@example.com"),
            (K::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
        ] {
            let _ = w.check(k, v);
        }
    }
});
