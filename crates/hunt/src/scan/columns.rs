//! Cutting Zeek columns apart, sixteen bytes per compare: a line into
//! columns ([`split_columns`]), a set or vector into its values
//! ([`split_set`]), and Zeek's `\xHH` escapes decoded. The one-pass walk
//! over a line's wanted columns is `simd::ColumnSplitter`.

use crate::simd::byte_masks16;

/// Column bounds of `line` cut at `sep`, at most `max` columns (the rest of
/// the line is not looked at): what iterating `memchr_iter(sep, line)` gives,
/// sixteen bytes per step since Zeek columns are short.
///
/// Returns whether a backslash (a Zeek escape) may be in the columns
/// returned: exact for the chunks scanned, so true can also mean one sits a
/// few bytes past the last column returned.
pub(super) fn split_columns(
    line: &[u8],
    sep: u8,
    max: usize,
    out: &mut Vec<(usize, usize)>,
) -> bool {
    out.clear();
    if max == 0 {
        return false;
    }
    let mut escapes = 0u32;
    let mut start = 0usize;
    let (chunks, tail) = line.as_chunks::<16>();
    for (ci, c) in chunks.iter().enumerate() {
        let (mut m, bs, _) = byte_masks16(c, sep, b'\\', sep);
        escapes |= bs;
        while m != 0 {
            let pos = ci * 16 + m.trailing_zeros() as usize;
            out.push((start, pos));
            if out.len() == max {
                return escapes != 0;
            }
            start = pos + 1;
            m &= m - 1;
        }
    }
    let base = chunks.len() * 16;
    for (j, &b) in tail.iter().enumerate() {
        escapes |= u32::from(b == b'\\');
        if b == sep {
            out.push((start, base + j));
            if out.len() == max {
                return escapes != 0;
            }
            start = base + j + 1;
        }
    }
    out.push((start, line.len()));
    escapes != 0
}

/// Calls `f` on each element of a Zeek set or vector cut at `sep` while it
/// returns true; whether all did. Sixteen bytes per step and no call: the
/// values are short, where a `memchr` call costs more than the search.
#[inline]
pub(super) fn split_set<'a>(col: &'a [u8], sep: u8, mut f: impl FnMut(&'a [u8]) -> bool) -> bool {
    let mut from = 0;
    let (chunks, tail) = col.as_chunks::<16>();
    for (ci, c) in chunks.iter().enumerate() {
        let (mut m, _, _) = byte_masks16(c, sep, sep, sep);
        while m != 0 {
            let to = ci * 16 + m.trailing_zeros() as usize;
            if !f(&col[from..to]) {
                return false;
            }
            from = to + 1;
            m &= m - 1;
        }
    }
    let base = chunks.len() * 16;
    for (j, &b) in tail.iter().enumerate() {
        if b == sep {
            if !f(&col[from..base + j]) {
                return false;
            }
            from = base + j + 1;
        }
    }
    f(&col[from..])
}

/// Decodes Zeek's `\xHH` escapes.
pub(super) fn unescape_zeek(v: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\'
            && v.get(i + 1) == Some(&b'x')
            && let Some(h) = v.get(i + 2..i + 4)
            && let Ok(s) = std::str::from_utf8(h)
            && let Ok(b) = u8::from_str_radix(s, 16)
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_set_agrees_with_split() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 80) as usize;
            let col: Vec<u8> = (0..len)
                .map(|j| {
                    if (x >> (j % 60)).is_multiple_of(5) {
                        b','
                    } else {
                        b'a' + (j % 26) as u8
                    }
                })
                .collect();
            let want: Vec<&[u8]> = col.split(|b| *b == b',').collect();
            let mut got = Vec::new();
            assert!(split_set(&col, b',', |v| {
                got.push(v);
                true
            }));
            assert_eq!(got, want, "{col:?}");
            // Stops at the first false.
            let mut n = 0;
            let all = split_set(&col, b',', |_| {
                n += 1;
                n < 2
            });
            assert_eq!(all, want.len() < 2);
            assert_eq!(n, want.len().min(2));
        }
    }

    #[test]
    fn split_columns_agrees_with_memchr() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut out = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 70) as usize;
            let line: Vec<u8> = (0..len)
                .map(|j| [b'\t', b'a', 0x89, 0x09 ^ 0x80, b'\\', 0][(x >> (j % 60)) as usize % 6])
                .collect();
            let mut want = Vec::new();
            let mut start = 0;
            for end in memchr::memchr_iter(b'\t', &line).chain([line.len()]) {
                want.push((start, end));
                start = end + 1;
            }
            for max in [1, 2, 3, 7, 100] {
                let escapes = split_columns(&line, b'\t', max, &mut out);
                let n = want.len().min(max);
                assert_eq!(out, want[..n], "{line:?} max {max}");
                let seen = out.last().map_or(0, |c| c.1);
                if line[..seen].contains(&b'\\') {
                    assert!(escapes, "{line:?} max {max}");
                }
            }
            assert_eq!(
                split_columns(&line, b'\t', 100, &mut out),
                line.contains(&b'\\')
            );
        }
    }
}
