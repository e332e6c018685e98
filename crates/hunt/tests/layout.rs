//! The crate's layout rules, checked on its source:
//!
//! 1. The files of `src/` use each other without cycles: the graph of
//!    "file A names an item of file B" (`use` trees and `crate::`,
//!    `super::`, `self::` paths, resolved to the file of the deepest
//!    module named) is a DAG. A module declaring a child (`mod x;`) is no
//!    edge, and `#[cfg(test)]` modules are left out: nothing depends on a
//!    test, so a test that drives the whole scanner closes no cycle.
//! 2. `unsafe` appears in `src/simd.rs` only, and only that module is
//!    allowed it.
//!
//! By hand rather than with a parser crate: comments, strings and test
//! modules are blanked, then `use` trees and paths are read from what is
//! left, which is all these rules need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, by module path (`[]` for `lib.rs`,
/// `["scan", "zeek"]` for `scan/zeek.rs`).
fn modules() -> BTreeMap<Vec<String>, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name")
                .to_string();
            let mut path = prefix.to_vec();
            if p.is_dir() {
                path.push(name);
                walk(&p, &path, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                if name != "mod" && !(prefix.is_empty() && name == "lib") {
                    path.push(name);
                }
                out.insert(path, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// `src` with comments, string and character literals blanked (newlines
/// and braces of code kept), so that what is left is code.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(b, i) {
            // r"..", r#".."#, br"..": up to the quote and as many hashes.
            let open = b[i..].iter().position(|c| *c == b'"').unwrap_or(0);
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = i + open + 1;
            let end = b[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| body + p + close.len());
            for &c in &b[i..end] {
                blank(&mut out, c);
            }
            i = end;
        } else if b[i] == b'"' {
            blank(&mut out, b[i]);
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                if i < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
            if i < b.len() {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if b[i] == b'\'' && char_literal_len(&b[i..]).is_some() {
            let n = char_literal_len(&b[i..]).unwrap_or(1);
            for &c in &b[i..i + n] {
                blank(&mut out, c);
            }
            i += n;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The number of `#`s of a raw string literal starting at `i`, if one does.
fn raw_string_start(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|c| **c == b'#').count();
    (b.get(j + hashes) == Some(&b'"')).then_some(hashes)
}

/// The length of a character literal at the start of `b` (`'a'`, `'\n'`,
/// `'\''`, `'\u{1F600}'`, `'é'`), or `None` for a lifetime.
fn char_literal_len(b: &[u8]) -> Option<usize> {
    if b.get(1) == Some(&b'\\') {
        // The escaped byte, then up to the closing quote.
        let close = b.get(3..)?.iter().position(|c| *c == b'\'')?;
        return (close < 10).then_some(close + 4);
    }
    let ch = (2..=5)
        .find_map(|n| std::str::from_utf8(b.get(1..n)?).ok())?
        .chars()
        .next()?;
    let n = ch.len_utf8();
    (b.get(1 + n) == Some(&b'\'')).then_some(n + 2)
}

/// `code` without its `#[cfg(test)]` modules (inline ones blanked; the
/// names of `#[cfg(test)] mod x;` returned, their files being tests).
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = code.to_string();
    let mut test_files = Vec::new();
    let mut from = 0;
    while let Some(at) = out[from..].find("#[cfg(test)]").map(|p| from + p) {
        let after = at + "#[cfg(test)]".len();
        let rest = out[after..].trim_start();
        let start = out.len() - rest.len();
        let rest = rest
            .strip_prefix("pub(crate) ")
            .or_else(|| rest.strip_prefix("pub "))
            .unwrap_or(rest);
        let Some(m) = rest.strip_prefix("mod ") else {
            from = after;
            continue;
        };
        let name: String = m
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let tail = m[name.len()..].trim_start();
        if tail.starts_with(';') {
            test_files.push(name);
            from = after;
            continue;
        }
        let open = out[start..]
            .find('{')
            .map(|p| start + p)
            .expect("test module body");
        let mut depth = 0;
        let mut end = out.len();
        for (j, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let blanked: String = out[at..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(at..end, &blanked);
        from = end;
    }
    (out, test_files)
}

/// Every path a `use` tree names, expanded (`a::{b, c::d}` gives `a::b`
/// and `a::c::d`; `self` in a group names the group's prefix).
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    /// One tree at `toks[*pos..]`, up to a `,` or `}` of an enclosing group.
    fn parse(toks: &[String], pos: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        while let Some(t) = toks.get(*pos) {
            match t.as_str() {
                "," | "}" => break,
                "{" => {
                    *pos += 1;
                    while let Some(t) = toks.get(*pos) {
                        match t.as_str() {
                            "}" => {
                                *pos += 1;
                                return;
                            }
                            "," => *pos += 1,
                            _ => parse(toks, pos, &path, out),
                        }
                    }
                    return;
                }
                // The alias names nothing.
                "as" => *pos += 2,
                "::" | "*" => *pos += 1,
                "self" if !path.is_empty() => *pos += 1,
                _ => {
                    path.push(t.clone());
                    *pos += 1;
                }
            }
        }
        out.push(path);
    }
    let mut toks = Vec::new();
    let mut word = String::new();
    let mut chars = tree.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            toks.push(std::mem::take(&mut word));
        }
        match c {
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                toks.push("::".into());
            }
            '{' | '}' | ',' | '*' => toks.push(c.to_string()),
            _ => {}
        }
    }
    if !word.is_empty() {
        toks.push(word);
    }
    let mut out = Vec::new();
    let mut pos = 0;
    parse(&toks, &mut pos, &[], &mut out);
    out
}

/// The module a path starting in module `here` names, from the crate
/// root (`None` for another crate's path).
fn absolute(path: &[String], here: &[String], children: &BTreeSet<String>) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => here[..here.len().checked_sub(1)?].to_vec(),
        name if children.contains(name) => {
            let mut b = here.to_vec();
            b.push(name.to_string());
            b
        }
        _ => return None,
    };
    let mut rest = rest;
    while let Some(("super", r)) = rest.split_first().map(|(a, r)| (a.as_str(), r)) {
        base.pop();
        rest = r;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Which files each file names items of.
fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mods = modules();
    let mut test_only = BTreeSet::new();
    let mut texts = BTreeMap::new();
    for (m, p) in &mods {
        let src = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let (code, tests) = without_tests(&code_only(&src));
        for t in tests {
            let mut c = m.clone();
            c.push(t);
            test_only.insert(c);
        }
        texts.insert(m.clone(), code);
    }
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, code) in &texts {
        if test_only.iter().any(|t| m.starts_with(t)) {
            continue;
        }
        let children: BTreeSet<String> = code
            .split(';')
            .filter_map(|stmt| {
                let words: Vec<&str> = stmt.split_whitespace().collect();
                let at = words.iter().rposition(|w| *w == "mod")?;
                (at + 2 == words.len()).then(|| words[at + 1].to_string())
            })
            .collect();
        let mut paths: Vec<Vec<String>> = Vec::new();
        let mut rest = code.clone();
        // `use` trees first, then blanked so that the path scan below
        // reads only paths in code.
        while let Some(at) = find_word(&rest, "use") {
            let end = rest[at..].find(';').map_or(rest.len(), |p| at + p);
            paths.extend(expand_use(&rest[at + 3..end]));
            let blanked: String = rest[at..end].chars().map(|_| ' ').collect();
            rest.replace_range(at..end, &blanked);
        }
        let roots: Vec<&str> = ["crate", "super", "self"]
            .into_iter()
            .chain(children.iter().map(String::as_str))
            .collect();
        for root in roots {
            let mut from = 0;
            while let Some(at) = find_word(&rest[from..], root).map(|p| from + p) {
                from = at + root.len();
                let tail = &rest[at..];
                let len = tail
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(tail.len());
                let path: Vec<String> = tail[..len]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if path.len() > 1 {
                    paths.push(path);
                }
            }
        }
        let mut targets = BTreeSet::new();
        for p in paths {
            let Some(abs) = absolute(&p, m, &children) else {
                continue;
            };
            let file = (0..=abs.len())
                .rev()
                .map(|k| abs[..k].to_vec())
                .find(|k| mods.contains_key(k))
                .expect("the crate root is a module");
            if &file != m {
                targets.insert(file);
            }
        }
        edges.insert(m.clone(), targets);
    }
    edges
}

/// The position of `word` in `text` as a whole word.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(word).map(|p| from + p) {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !ident(before) && !ident(after) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// A cycle of `edges`, if there is one.
fn cycle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        n: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut c = stack[at..].to_vec();
                c.push(n.clone());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for t in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(t, edges, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if let Some(c) = visit(n, edges, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn name(m: &[String]) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

#[test]
fn files_use_each_other_without_cycles() {
    let edges = graph();
    // The check reads what it should: a few edges that are known to exist.
    let has = |from: &str, to: &str| {
        edges
            .iter()
            .any(|(f, ts)| name(f) == from && ts.iter().any(|t| name(t) == to))
    };
    assert!(has("scan::zeek", "simd"), "{edges:?}");
    assert!(has("scan::field", "index"), "{edges:?}");
    assert!(has("lib", "scan::driver"), "{edges:?}");
    assert!(has("index::build", "index::table"), "{edges:?}");
    if let Some(c) = cycle(&edges) {
        let c: Vec<String> = c.iter().map(|m| name(m)).collect();
        panic!(
            "the files of src/ use each other in a cycle: {}",
            c.join(" -> ")
        );
    }
}

#[test]
fn unsafe_lives_in_the_simd_module_only() {
    for (m, p) in modules() {
        let src = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let code = code_only(&src);
        let file = name(&m);
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

#[test]
fn use_trees_and_literals_are_read_right() {
    let paths = expand_use(" crate::index::{Index, build::{self, IndexBuilder as B}, probe::*}");
    let names: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        names,
        [
            "crate::index::Index",
            "crate::index::build",
            "crate::index::build::IndexBuilder",
            "crate::index::probe"
        ]
    );
    let code = code_only(
        "let a = \"crate::x\"; // crate::y\n/* crate::z /* nested */ */ let c = '{'; let r = r#\"crate::w\"#; fn f<'a>(x: &'a u8) { crate::v::f() }",
    );
    assert!(!code.contains("crate::x") && !code.contains("crate::y"));
    assert!(!code.contains("crate::z") && !code.contains("crate::w"));
    assert!(!code.contains("'{'") && code.contains("crate::v::f"));
    assert_eq!(code.matches('{').count(), code.matches('}').count());
    let (code, files) = without_tests(
        "fn a() {}\n#[cfg(test)]\nmod tests {\n use crate::x;\n fn b() { {} }\n}\n#[cfg(test)]\nmod more;\nfn c() {}",
    );
    assert!(!code.contains("crate::x") && code.contains("fn c()"));
    assert_eq!(files, ["more"]);
}
