//! Every crate of the workspace: its files lean on each other without a
//! cycle (see `cairn_testkit::module_graph` for what counts).

use std::path::Path;

#[test]
fn no_crate_has_a_cycle_between_its_files() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crates folder");
    let mut found = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(crates).expect("crates") {
        let src = entry.expect("entry").path().join("src");
        if !src.is_dir() {
            continue;
        }
        seen += 1;
        let graph = cairn_testkit::module_graph(&src).expect("readable sources");
        for cycle in cairn_testkit::cycles(&graph) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            found.push(format!("{}: {}", src.display(), names.join(" <-> ")));
        }
    }
    assert!(
        seen >= 10,
        "only {seen} crates found under {}",
        crates.display()
    );
    assert!(
        found.is_empty(),
        "cycles between files:\n{}",
        found.join("\n")
    );
}
