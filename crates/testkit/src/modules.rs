//! Which source files of a crate lean on which: the graph must have no
//! cycle, so each file can be read (and changed) knowing only what is below
//! it. Read from the text, not the compiler: a reference is a `crate::…`,
//! `super::…` or `self::…` path, or a child module's name used as a path
//! (`pages::home`) in its parent, outside a `#[cfg(test)] mod tests` block,
//! resolved to the deepest module that is a file of its own. The crate root
//! (`lib.rs`, `main.rs`) is the front door — declarations and re-exports —
//! and takes no part. Hand-written: no maintained crate reports file-level
//! module cycles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's files as modules (`a::b` for `src/a/b.rs` or `src/a/b/mod.rs`,
/// the empty path for `lib.rs`/`main.rs`) and the modules each refers to.
pub fn module_graph(src: &Path) -> std::io::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    walk(src, &mut files)?;
    let mut texts = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap_or(f);
        texts.insert(module_of(rel), std::fs::read_to_string(f)?);
    }
    let known: BTreeSet<String> = texts.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &texts {
        if module.is_empty() {
            continue;
        }
        let code = without_tests(text);
        let mut paths: Vec<Vec<String>> = references(&code)
            .iter()
            .map(|p| absolute(module, p))
            .collect();
        // Its own children, named without `self::`.
        for child in known
            .iter()
            .filter_map(|k| k.strip_prefix(&format!("{module}::")))
        {
            if !child.contains("::") && names_child(&code, child) {
                paths.push(absolute(module, &["self".to_string(), child.to_string()]));
            }
        }
        let mut deps = BTreeSet::new();
        for path in paths {
            if let Some(target) = deepest_known(&path, &known)
                && target != *module
                && !target.is_empty()
            {
                deps.insert(target);
            }
        }
        graph.insert(module.clone(), deps);
    }
    Ok(graph)
}

/// The cycles of a graph (its strongly connected parts of two or more
/// modules), each sorted.
pub fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Each node's reach by depth-first search: small graphs, plain is fine.
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(n) = todo.pop() {
            for d in graph.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|k| (k, reach(k))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut placed = BTreeSet::new();
    for (k, r) in &reaches {
        if placed.contains(*k) || !r.contains(*k) {
            continue;
        }
        let part: Vec<String> = r
            .iter()
            .filter(|o| reaches.get(o).is_some_and(|back| back.contains(*k)))
            .cloned()
            .collect();
        placed.extend(part.iter().cloned());
        if part.len() > 1 {
            out.push(part);
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    Ok(())
}

fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts.join("::")
}

/// The text without its unit-test module (which may use anything of its parent).
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if l.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("mod tests"))
        {
            break;
        }
        // Comments name paths without using them.
        let code = l.split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every `crate::`/`super::`/`self::` path in `text`, braces expanded one level.
fn references(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for head in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(head) {
            let start = from + at;
            from = start + head.len();
            // Part of a longer name (`my_crate::`).
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let rest = &text[start..];
            let path_end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let path: Vec<String> = rest[..path_end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if rest[path_end..].starts_with('{') {
                let inner = &rest[path_end + 1..];
                let close = matching_brace(inner);
                for item in split_top(&inner[..close]) {
                    let mut p = path.clone();
                    p.extend(
                        item.split("::")
                            .map(|s| s.trim().trim_start_matches('{').to_string())
                            .take_while(|s| {
                                !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
                            }),
                    );
                    out.push(p);
                }
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

fn split_top(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out.into_iter().filter(|x| !x.is_empty()).collect()
}

/// `path` (starting `crate`, `super` or `self`) seen from `module`, as a
/// path from the crate root.
fn absolute(module: &str, path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_string).collect()
    };
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
    }
    base.extend(rest.iter().cloned());
    base
}

fn deepest_known(path: &[String], known: &BTreeSet<String>) -> Option<String> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| known.contains(m))
}

/// Whether `code` uses `child::…` as a path of its own (not `x::child::…`).
fn names_child(code: &str, child: &str) -> bool {
    let needle = format!("{child}::");
    let b = code.as_bytes();
    code.match_indices(&needle).any(|(at, _)| {
        at == 0 || {
            let before = b[at - 1];
            !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
            std::fs::write(p, text).expect("write");
        }
        module_graph(dir.path()).expect("graph")
    }

    #[test]
    fn finds_a_cycle_through_use_paths_and_braces() {
        let g = graph(&[
            ("lib.rs", "mod a;\nmod b;\npub use a::X;\n"),
            ("a.rs", "use crate::{b::{Y, Z}, Store};\npub struct X;\n"),
            ("b.rs", "pub fn f() { crate::a::X; }\n"),
        ]);
        assert_eq!(g["a"], BTreeSet::from(["b".to_string()]));
        assert_eq!(g["b"], BTreeSet::from(["a".to_string()]));
        assert!(!g.contains_key(""), "the root takes no part");
        assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
    }

    #[test]
    fn a_parent_using_a_child_that_uses_it_is_a_cycle() {
        let files = |pages: &str| {
            graph(&[
                ("lib.rs", "mod web;\n"),
                (
                    "web/mod.rs",
                    "mod frame;\nmod pages;\nfn routes() { pages::home(); }\npub fn page() {}\n",
                ),
                ("web/pages.rs", pages),
                (
                    "web/frame.rs",
                    "pub fn page() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::web::pages;\n}\n",
                ),
            ])
        };
        let g = files("use super::frame::page;\npub fn home() { super::page(); } // crate::web\n");
        assert_eq!(
            g["web::pages"],
            BTreeSet::from(["web".to_string(), "web::frame".to_string()])
        );
        assert_eq!(g["web"], BTreeSet::from(["web::pages".to_string()]));
        assert!(g["web::frame"].is_empty(), "{g:?}");
        assert_eq!(
            cycles(&g),
            vec![vec!["web".to_string(), "web::pages".to_string()]]
        );
        // The frame as a sibling of its own: no loop.
        let g = files("use super::frame::page;\npub fn home() { page(); }\n");
        assert!(cycles(&g).is_empty(), "{g:?}");
    }
}
