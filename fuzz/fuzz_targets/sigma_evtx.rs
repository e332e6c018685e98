#![no_main]
//! `cairn detect`'s two parsers of outside input: the first byte picks a
//! Sigma rule file (loaded with a fixed good rule beside it, which must
//! still load) or a log file (EVTX when it starts with the magic, else
//! JSON / Zeek) run against a fixed rule set.
use std::sync::OnceLock;

use cairn_detect::{DetectOptions, RuleOptions, RuleSet, RuleSource, detect};
use libfuzzer_sys::fuzz_target;

const GOOD: &str = "title: Whoami\nid: 11111111-1111-1111-1111-111111111111\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n    CommandLine|contains|all: [a, b]\n  condition: sel\n";

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let src = RuleSource {
            origin: "good.yml".into(),
            text: GOOD.into(),
        };
        match RuleSet::load(&[src], &RuleOptions::default()) {
            Ok((set, _)) => set,
            Err(e) => panic!("the fixed rule must load: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if pick % 2 == 0 {
        let text = String::from_utf8_lossy(rest).into_owned();
        let sources = [
            RuleSource {
                origin: "good.yml".into(),
                text: GOOD.into(),
            },
            RuleSource {
                origin: "fuzzed.yml".into(),
                text,
            },
        ];
        let Ok((set, _)) = RuleSet::load(&sources, &RuleOptions::default()) else {
            return;
        };
        assert!(!set.is_empty(), "a bad neighbour stopped a good rule");
    } else {
        let path = cairn_fuzz::scratch("log");
        if std::fs::write(&path, rest).is_err() {
            return;
        }
        let opts = DetectOptions {
            threads: 1,
            max_event_bytes: 1 << 16,
            ..DetectOptions::default()
        };
        detect(rules(), &[path], &opts, &|_| {});
    }
});
