//! The crate's layout rule for `unsafe`, checked on its source: it appears
//! in `src/simd.rs` only, and only that module is allowed it. (That its
//! files use each other without cycles is checked for every crate by
//! cairn-testkit's `module_dag` test.)

use cairn_testkit::{code_only, find_word, modules};
use std::path::Path;

#[test]
fn unsafe_lives_in_the_simd_module_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (m, p) in modules(&src).expect("readable sources") {
        let src = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let code = code_only(&src);
        let file = if m.is_empty() {
            "lib".to_string()
        } else {
            m.join("::")
        };
        if file == "simd" {
            assert!(
                find_word(&code, "unsafe").is_some(),
                "simd.rs has no unsafe?"
            );
            continue;
        }
        assert!(
            find_word(&code, "unsafe").is_none(),
            "`unsafe` in {}: it belongs in src/simd.rs, behind a safe function",
            p.display()
        );
        let allows = code.matches("allow(unsafe_code)").count();
        if file == "lib" {
            assert!(
                code.contains("#![deny(unsafe_code)]"),
                "lib.rs must deny unsafe code"
            );
            let at = code.find("allow(unsafe_code)").expect("simd's allowance");
            let next: Vec<&str> = code[at..].split_whitespace().take(3).collect();
            assert_eq!(allows, 1, "one allowance, for simd");
            assert_eq!(next[1..], ["mod", "simd;"], "the allowance is simd's");
        } else {
            assert_eq!(allows, 0, "{} allows unsafe code", p.display());
        }
    }
}
