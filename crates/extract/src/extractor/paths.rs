//! Where a registry key or a file path ends. Both have components that may
//! hold spaces (`Windows NT`, `Program Files`, `Application Support`), so a
//! space ends one only when what follows reads as prose.

/// Where a registry key that starts before `from` ends. Components may hold
/// spaces (`Windows NT`, `Shell Extensions`, `foo bar bing\\x`), so a space
/// ends the key only when what follows reads as prose: the next word starts
/// lower-case and no `\\` follows within a few words ("...\\Run and
/// HKLM\\..."), or it is the next hive, or the word before ends a sentence
/// ("...\\Run. The"). A comma, semicolon, quote (straight or curly), tab,
/// `|`, two spaces or the end of the line always end it.
pub(super) fn registry_end(clean: &str, from: usize) -> usize {
    let b = clean.as_bytes();
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\r' | b'\n' | b'\t' | b'"' | b'\'' | b'|' | b',' | b';' => break,
            // Curly quotes: U+2018, U+2019, U+201C, U+201D.
            0xE2 if clean[i..].starts_with(['\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}']) => {
                break;
            }
            b' ' if i > from && matches!(b[i - 1], b'.' | b':' | b')' | b'!' | b'?') => break,
            b' ' => match registry_words(clean, i) {
                Some(next) => i = next,
                None => break,
            },
            _ => i += 1,
        }
    }
    i
}

/// At the space at `sp` inside a registry key: where the key goes on (the
/// end of the words that belong to it), or `None` if it ends at the space.
fn registry_words(clean: &str, sp: usize) -> Option<usize> {
    let b = clean.as_bytes();
    let mut w = sp + 1;
    let mut first_end = None;
    // A few words ahead at most: "foo bar bing\\buzz" is one component.
    for n in 0..4 {
        let wl = b[w..]
            .iter()
            .take_while(|c| {
                !matches!(
                    c,
                    b' ' | b'\\' | b'\r' | b'\n' | b'\t' | b',' | b';' | b'"' | b'\'' | b'|'
                )
            })
            .count();
        if wl == 0 {
            return first_end;
        }
        let word = &clean[w..w + wl];
        if is_hive(word.trim_start_matches('<').trim_end_matches(['>', ':'])) || word.contains(':')
        {
            return first_end;
        }
        if n == 0
            && word
                .bytes()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            first_end = Some(w + wl);
        }
        match b.get(w + wl) {
            // The words lead to a further component: all of them belong.
            Some(b'\\') => return Some(w + wl),
            Some(b' ') => w += wl + 1,
            _ => return first_end,
        }
    }
    first_end
}

fn is_hive(w: &str) -> bool {
    [
        "HKEY_LOCAL_MACHINE",
        "HKEY_CURRENT_USER",
        "HKEY_CLASSES_ROOT",
        "HKEY_USERS",
        "HKEY_CURRENT_CONFIG",
        "HKLM",
        "HKCU",
        "HKCR",
        "HKU",
        "HKCC",
    ]
    .iter()
    .any(|h| w.eq_ignore_ascii_case(h))
}

/// Where a Windows path (`C:\…`, `%APPDATA%\…`, `\\host\share\…`, or with
/// `/` after a drive) whose first component starts at `from` ends. A space
/// stays in the path when the words after it lead to a further component
/// (`Program Files (x86)\`, `Flash Player\`), or when one capitalised word
/// ends the mention (`C:\Program Files`); a component with a file extension
/// ends at a space. A `<placeholder>` component (`<username>`) is kept.
pub(super) fn win_path_end(clean: &str, from: usize, sep: u8) -> usize {
    let b = clean.as_bytes();
    let mut i = from;
    let mut comp = from;
    let mut parens = 0usize;
    while i < b.len() {
        match b[i] {
            c if c == sep => {
                i += 1;
                comp = i;
            }
            b'<' if i == comp => match b[i..].iter().take(48).position(|&c| c == b'>') {
                Some(n) if !b[i..i + n].contains(&b' ') => i += n + 1,
                _ => break,
            },
            b'(' => {
                parens += 1;
                i += 1;
            }
            b')' if parens > 0 => {
                parens -= 1;
                i += 1;
            }
            // A file name ends the path.
            b' ' if has_ext(&clean[comp..i]) => break,
            b' ' => match words_to_sep(clean, i, sep) {
                Some(next) => i = next,
                None if one_capital_word_ends(clean, i) => {
                    i = word_end(b, i + 1);
                    break;
                }
                None => break,
            },
            b'\r' | b'\n' | b'\t' | b'"' | b'\'' | b'`' | b'|' | b',' | b';' | b'<' | b'>'
            | b'*' | b'?' | b')' => break,
            // Curly quotes: U+2018, U+2019, U+201C, U+201D.
            0xE2 if clean[i..].starts_with(['\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}']) => {
                break;
            }
            // Text glued to a file name ("a.exe执行") is not part of it.
            c if c >= 0x80 => {
                if has_ext(&clean[comp..i]) {
                    break;
                }
                i += clean[i..].chars().next().map_or(1, char::len_utf8);
            }
            _ => i += 1,
        }
    }
    from + clean[from..i].trim_end_matches(['.', ':', ' ']).len()
}

/// A dotted last part of at most five characters: `svchost.exe`.
fn has_ext(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(n, e)| !n.is_empty() && (1..=5).contains(&e.len()))
}

fn word_end(b: &[u8], from: usize) -> usize {
    from + b[from..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'$'))
        .count()
}

/// At the space at `sp`: the end of up to four words of which the last is
/// glued to a further separator (`Flash Player\`), or `None`.
fn words_to_sep(clean: &str, sp: usize, sep: u8) -> Option<usize> {
    let b = clean.as_bytes();
    let mut w = sp + 1;
    for _ in 0..4 {
        let mut e = word_end(b, w);
        // "Program Files (x86)\"
        if e == w && b.get(w) == Some(&b'(') {
            e = w + b[w..].iter().take(12).position(|&c| c == b')')? + 1;
        }
        if e == w {
            return None;
        }
        match b.get(e) {
            Some(&c) if c == sep => return Some(e),
            Some(b' ') => w = e + 1,
            _ => return None,
        }
    }
    None
}

/// At the space at `sp`: one word starting with a capital or digit, then
/// the end of the mention (line end, quote, comma, semicolon, a full stop
/// or closing bracket, `|`).
fn one_capital_word_ends(clean: &str, sp: usize) -> bool {
    let b = clean.as_bytes();
    if !b
        .get(sp + 1)
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let e = word_end(b, sp + 1);
    let e = if b.get(e) == Some(&b'.') && b.get(e + 1).is_none_or(|c| c.is_ascii_whitespace()) {
        e + 1
    } else {
        e
    };
    b.get(e).is_none_or(|c| {
        matches!(
            c,
            b'\r' | b'\n' | b'\t' | b'"' | b'\'' | b'`' | b'|' | b',' | b';' | b')'
        )
    }) || clean[e..].starts_with(['\u{2019}', '\u{201d}'])
        || (e > 0 && b[e - 1] == b'.')
}

/// A byte of a Unix path as written in prose.
fn unix_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'_' | b'-' | b'+' | b'@' | b'%' | b'~')
}

/// Where a Unix path starting at `from` ends: ASCII path bytes; a space
/// only before capitalised words that lead to a further `/` (macOS's
/// `/Library/Application Support/…`). Trailing sentence punctuation is not
/// part of it.
pub(super) fn unix_path_end(clean: &str, from: usize) -> usize {
    let b = clean.as_bytes();
    let mut i = from
        + if clean[from..].starts_with("$HOME") {
            5
        } else {
            0
        };
    while i < b.len() {
        if unix_byte(b[i]) {
            i += 1;
        } else if b[i] == b' '
            && b.get(i + 1).is_some_and(u8::is_ascii_uppercase)
            && let Some(next) = words_to_sep(clean, i, b'/')
        {
            i = next;
        } else {
            break;
        }
    }
    from + clean[from..i]
        .trim_end_matches(['.', ',', ':', ';', '-'])
        .len()
}

/// Top-level directories that make `/x/y` a path even in prose.
const UNIX_ROOTS: &[&str] = &[
    "tmp",
    "etc",
    "var",
    "usr",
    "bin",
    "sbin",
    "opt",
    "home",
    "root",
    "lib",
    "lib32",
    "lib64",
    "proc",
    "sys",
    "boot",
    "mnt",
    "media",
    "run",
    "srv",
    "Library",
    "Users",
    "Applications",
    "System",
    "private",
    "Volumes",
];

/// The known root a Unix path starts with (`/etc`, `/dev/shm`, `~`), or
/// `None`.
pub(super) fn unix_root(path: &str) -> Option<&str> {
    if path.starts_with('~') || path.starts_with("$HOME") {
        return Some("~");
    }
    let rest = path.strip_prefix('/')?;
    let first = rest.split('/').next().unwrap_or("");
    if UNIX_ROOTS.contains(&first) {
        return Some(&path[..first.len() + 1]);
    }
    // Of /dev, only what malware uses: memory-backed and socket paths.
    ["/dev/shm/", "/dev/tcp/", "/dev/udp/", "/dev/mqueue/"]
        .into_iter()
        .find(|d| path.starts_with(d))
        .map(|d| &path[..d.len() - 1])
}
