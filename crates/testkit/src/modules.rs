//! Which source files of a crate lean on which: the graph must have no
//! cycle, so each file can be read (and changed) knowing only what is below
//! it. An edge is "file A names an item of file B": `use` trees and
//! `crate::`, `super::`, `self::` paths, and a child module named by its
//! parent, resolved to the file of the deepest module named. Declaring a
//! child (`mod x;`) is no edge; `#[cfg(test)]` modules are left out (nothing
//! depends on a test); the crate root (`lib.rs`, `main.rs`) is the front
//! door — declarations and re-exports, and in some crates the one type
//! everything works on — and takes no part.
//!
//! By hand rather than with a parser crate: comments, strings and test
//! modules are blanked, then `use` trees and paths are read from what is
//! left, which is all this needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path from the crate root (`[]` for the root, `["scan", "zeek"]`
/// for `scan/zeek.rs` or `scan/zeek/mod.rs`).
pub type Module = Vec<String>;

/// Every `.rs` file under `src`, by module path.
pub fn modules(src: &Path) -> std::io::Result<BTreeMap<Module, PathBuf>> {
    fn walk(
        dir: &Path,
        prefix: &[String],
        out: &mut BTreeMap<Module, PathBuf>,
    ) -> std::io::Result<()> {
        let mut entries = Vec::new();
        for e in std::fs::read_dir(dir)? {
            entries.push(e?.path());
        }
        entries.sort();
        for p in entries {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut path = prefix.to_vec();
            if p.is_dir() {
                path.push(name);
                walk(&p, &path, out)?;
            } else if p.extension().is_some_and(|e| e == "rs") {
                let root = prefix.is_empty() && (name == "lib" || name == "main");
                if name != "mod" && !root {
                    path.push(name);
                }
                out.insert(path, p);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(src, &[], &mut out)?;
    Ok(out)
}

/// `src` with comments, string and character literals blanked (newlines
/// and braces of code kept), so that what is left is code.
pub fn code_only(src: &str) -> String {
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

/// Which files each file of the crate under `src` names items of (the
/// crate root left out).
pub fn module_graph(src: &Path) -> std::io::Result<BTreeMap<Module, BTreeSet<Module>>> {
    let mods = modules(src)?;
    let mut test_only = BTreeSet::new();
    let mut texts = BTreeMap::new();
    for (m, p) in &mods {
        let (code, tests) = without_tests(&code_only(&std::fs::read_to_string(p)?));
        for t in tests {
            let mut c = m.clone();
            c.push(t);
            test_only.insert(c);
        }
        texts.insert(m.clone(), code);
    }
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (m, code) in &texts {
        if m.is_empty() || test_only.iter().any(|t| m.starts_with(t)) {
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
                .unwrap_or_default();
            if &file != m && !file.is_empty() {
                targets.insert(file);
            }
        }
        edges.insert(m.clone(), targets);
    }
    Ok(edges)
}

/// The cycles of a graph (its strongly connected parts of two or more
/// modules), each sorted.
pub fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    // Each node's reach by depth-first search: small graphs, plain is fine.
    let reach = |from: &Module| -> BTreeSet<Module> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for d in graph.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&Module, BTreeSet<Module>> =
        graph.keys().map(|k| (k, reach(k))).collect();
    let mut out = Vec::new();
    let mut placed = BTreeSet::new();
    for (k, r) in &reaches {
        if placed.contains(*k) || !r.contains(*k) {
            continue;
        }
        let part: Vec<Module> = r
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

/// The position of `word` in `text` as a whole word.
pub fn find_word(text: &str, word: &str) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> BTreeMap<Module, BTreeSet<Module>> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
            std::fs::write(p, text).expect("write");
        }
        module_graph(dir.path()).expect("graph")
    }

    fn m(s: &str) -> Module {
        s.split("::").map(str::to_string).collect()
    }

    #[test]
    fn finds_a_cycle_through_use_paths_and_braces() {
        let g = graph(&[
            ("lib.rs", "mod a;\nmod b;\npub use a::X;\n"),
            ("a.rs", "use crate::{b::{Y, Z}, Store};\npub struct X;\n"),
            ("b.rs", "pub fn f() { crate::a::X; } // crate::c\n"),
        ]);
        assert_eq!(g[&m("a")], BTreeSet::from([m("b")]));
        assert_eq!(g[&m("b")], BTreeSet::from([m("a")]));
        assert!(!g.contains_key(&Vec::new()), "the root takes no part");
        assert_eq!(cycles(&g), vec![vec![m("a"), m("b")]]);
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
        let g = files("use super::frame::page;\npub fn home() { super::page(); }\n");
        assert_eq!(
            g[&m("web::pages")],
            BTreeSet::from([m("web"), m("web::frame")])
        );
        assert_eq!(g[&m("web")], BTreeSet::from([m("web::pages")]));
        assert!(g[&m("web::frame")].is_empty(), "{g:?}");
        assert_eq!(cycles(&g), vec![vec![m("web"), m("web::pages")]]);
        // The frame as a sibling of its own: no loop.
        let g = files("use super::frame::page;\npub fn home() { page(); }\n");
        assert!(cycles(&g).is_empty(), "{g:?}");
    }

    #[test]
    fn use_trees_and_literals_are_read_right() {
        let paths =
            expand_use(" crate::index::{Index, build::{self, IndexBuilder as B}, probe::*}");
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
}
