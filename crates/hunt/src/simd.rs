//! Every `unsafe` of the crate, in one module: the vector kernels of the
//! hunt's hot paths (SSE2, SSSE3, AVX2 with BMI) and the cache-prefetch
//! hint, each behind a safe function.
//!
//! How the safe wrappers stay sound:
//! - A kernel that needs more than the x86_64 baseline (SSSE3, AVX2, BMI)
//!   is reachable only through a token ([`Ssse3`], [`ColumnSplitter`])
//!   whose constructor is the only place that makes one, and makes it only
//!   after detecting those features on the running CPU.
//! - SSE2 kernels are compiled only when the build itself assumes SSE2
//!   (`cfg(target_feature = "sse2")`, part of every x86_64 target), so
//!   every CPU that runs them has it.
//! - Loads read inside a reference's bounds (unaligned loads, or a
//!   `repr(align(16))` table for the aligned ones); a prefetch is a hint
//!   that never faults.
//!
//! Each kernel has a portable twin (for other CPUs), and the tests hold the
//! two equal.
//!
//! The Zeek wanted-column walk ([`ColumnSplitter`]) lives here whole, not
//! only its chunk compares: its AVX2 build is the walk inlined into one
//! `#[target_feature]` function (a compare called per chunk from code
//! built without AVX2 could not be inlined), and calling that function is
//! the `unsafe` this module confines.

use std::net::Ipv4Addr;

/// The first 16 bytes of `v` as two little-endian words, zeros past its
/// end, from overlapping in-bounds loads (no read past the value, no byte
/// loop, and no copy through memory, which a wide load right after costs
/// a stalled store forwarding).
#[inline]
pub(crate) fn padded16(v: &[u8]) -> (u64, u64) {
    let len = v.len().min(16);
    let word = |at: usize| -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&v[at..at + 8]);
        u64::from_le_bytes(b)
    };
    if len >= 8 {
        // Bytes len-8..len, shifted so that byte 8 comes first.
        (
            word(0),
            word(len - 8)
                .checked_shr(((16 - len) * 8) as u32)
                .unwrap_or(0),
        )
    } else if len >= 4 {
        // Bytes 0..4 and len-4..len; where they overlap, the same bytes.
        let half =
            |at: usize| u64::from(u32::from_le_bytes([v[at], v[at + 1], v[at + 2], v[at + 3]]));
        (half(0) | half(len - 4) << ((len - 4) * 8), 0)
    } else if len > 0 {
        let byte = |i: usize| u64::from(v[i]) << (i * 8);
        (byte(0) | byte(len / 2) | byte(len - 1), 0)
    } else {
        (0, 0)
    }
}

/// Starts loading the cache line holding `w` (a hint; no effect on
/// program state, a no-op where no prefetch instruction is available).
#[inline]
pub(crate) fn prefetch<T>(w: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint that never faults and changes no
        // memory; the pointer is made from a live reference anyway, and
        // SSE (which `prefetcht0` belongs to) is statically enabled by
        // the cfg above.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(w).cast::<i8>()) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    {
        let _ = w;
    }
}

/// Bit `i` of the first mask is set where `chunk[i] == a`, of the second
/// where `chunk[i] == b`, of the third where `chunk[i] == c`.
#[inline]
pub(crate) fn byte_masks16(chunk: &[u8; 16], a: u8, b: u8, c: u8) -> (u32, u32, u32) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: `byte_masks16_sse2` only needs SSE2, which this cfg
        // guarantees is enabled for the whole build (it is part of the
        // x86_64 baseline), so every CPU that runs this code has it. The
        // function reads nothing but its by-reference array argument.
        unsafe { byte_masks16_sse2(chunk, a, b, c) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        byte_masks16_swar(chunk, a, b, c)
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
fn byte_masks16_sse2(chunk: &[u8; 16], a: u8, b: u8, c: u8) -> (u32, u32, u32) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8};
    let (lo, hi) = chunk.as_chunks::<8>().0.split_at(1);
    let lo = i64::from_le_bytes(lo[0]);
    let hi = i64::from_le_bytes(hi[0]);
    // Compiles to one unaligned 16-byte load.
    let v = _mm_set_epi64x(hi, lo);
    let ma = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(a as i8))) as u32;
    let mb = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32;
    let mc = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32;
    (ma, mb, mc)
}

/// Portable [`byte_masks16`]: eight bytes per step in a `u64`.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn byte_masks16_swar(chunk: &[u8; 16], a: u8, b: u8, c: u8) -> (u32, u32, u32) {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // High bit of each byte set exactly where the byte of `x` is zero (no
    // carries cross bytes: 0x7f + 0x7f < 0x100), then gathered into 8 bits.
    fn zero_mask(x: u64) -> u32 {
        let m = !(((x & LO7) + LO7) | x | LO7) >> 7;
        (m.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
    }
    let (mut ma, mut mb, mut mc) = (0u32, 0u32, 0u32);
    for (i, w) in chunk.as_chunks::<8>().0.iter().enumerate() {
        let w = u64::from_le_bytes(*w);
        ma |= zero_mask(w ^ u64::from_ne_bytes([a; 8])) << (8 * i);
        mb |= zero_mask(w ^ u64::from_ne_bytes([b; 8])) << (8 * i);
        mc |= zero_mask(w ^ u64::from_ne_bytes([c; 8])) << (8 * i);
    }
    (ma, mb, mc)
}

/// What [`host_bytes`] found in a name: whether some byte is `:`, `[`, `%`
/// or non-ASCII (`special`), whether some byte is neither digit nor dot
/// (`not_quad`), whether some byte is a control, space, `/` or `@`
/// (`bad`), whether some byte is upper case (`upper`), and its dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostBytes {
    pub(crate) special: bool,
    pub(crate) not_quad: bool,
    pub(crate) bad: bool,
    pub(crate) upper: bool,
    pub(crate) dots: usize,
}

/// The byte classes of a name of 1 to 32 bytes (nearly all log names)
/// with sixteen bytes compared at once, a fifth of a byte loop's
/// instructions; `None` for other lengths, or where SSE2 is not built in
/// (the caller's byte loop answers then).
#[inline]
pub(crate) fn host_bytes(raw: &[u8]) -> Option<HostBytes> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if (1..=32).contains(&raw.len()) {
        // SAFETY: `host_bytes_sse2` only needs SSE2, which this cfg
        // guarantees for the whole build (it is in the x86_64 baseline);
        // it reads `raw` only through in-bounds slice accesses, and the
        // length it assumes (1 to 32) is checked just above.
        return Some(unsafe { host_bytes_sse2(raw) });
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    let _ = raw;
    None
}

/// [`host_bytes`] for 1 to 32 bytes. Longer than 16 bytes, the name is
/// read as its first and last sixteen: the classes are ORs over bytes, so
/// the overlap is harmless, and its dots are counted once.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
fn host_bytes_sse2(raw: &[u8]) -> HostBytes {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set_epi64x, _mm_set1_epi8, _mm_sub_epi8,
    };
    /// Bit masks of the bytes of `x`: special, dot, digit, bad, upper.
    #[target_feature(enable = "sse2")]
    fn classes(x: __m128i) -> [u32; 5] {
        let eq = |c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
        // Unsigned `x - from <= span`.
        let within = |from: u8, span: u8| {
            let d = _mm_sub_epi8(x, _mm_set1_epi8(from as i8));
            _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(span as i8)), d)
        };
        let mask = |v: __m128i| _mm_movemask_epi8(v) as u32;
        [
            // Bytes >= 0x80 are negative as signed bytes.
            mask(_mm_or_si128(
                _mm_or_si128(eq(b':'), eq(b'[')),
                _mm_or_si128(eq(b'%'), _mm_cmplt_epi8(x, _mm_set1_epi8(0))),
            )),
            mask(eq(b'.')),
            mask(within(b'0', 9)),
            mask(_mm_or_si128(
                _mm_or_si128(within(0, b' '), eq(b'/')),
                eq(b'@'),
            )),
            mask(within(b'A', 25)),
        ]
    }
    let len = raw.len();
    let word = |at: usize| -> i64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&raw[at..at + 8]);
        i64::from_le_bytes(b)
    };
    let (m, dots) = if len <= 16 {
        let (lo, hi) = padded16(raw);
        let valid = (1u32 << len) - 1;
        let m = classes(_mm_set_epi64x(hi as i64, lo as i64)).map(|c| c & valid);
        // Padding bytes are zero: neither digit nor dot, so not "quad".
        let not_quad = (m[2] | m[1]) != valid;
        (([m[0], m[1], m[3], m[4]], not_quad), m[1].count_ones())
    } else {
        let a = classes(_mm_set_epi64x(word(8), word(0)));
        let b = classes(_mm_set_epi64x(word(len - 8), word(len - 16)));
        let or = |i: usize| a[i] | b[i];
        // `b` holds bytes len-16.., of which those from 16 on are new.
        let new = !((1u32 << (32 - len)) - 1);
        let not_quad = (a[2] | a[1]) != 0xffff || (b[2] | b[1]) != 0xffff;
        (
            ([or(0), or(1), or(3), or(4)], not_quad),
            a[1].count_ones() + (b[1] & new).count_ones(),
        )
    };
    let ([special, _dot, bad, upper], not_quad) = m;
    HostBytes {
        special: special != 0,
        not_quad,
        bad: bad != 0,
        upper: upper != 0,
        dots: dots as usize,
    }
}

/// Proof that this CPU has SSSE3: made only by [`Ssse3::detect`], so the
/// kernels it unlocks run only where they can.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ssse3 {
    /// Uninhabited where there is no SSSE3 at all, so no token exists.
    _detected: Detected,
}

#[cfg(target_arch = "x86_64")]
type Detected = ();
#[cfg(not(target_arch = "x86_64"))]
type Detected = std::convert::Infallible;

impl Ssse3 {
    /// The token, if this CPU has SSSE3 (detected once, cached by the
    /// standard library: a load and a test per call).
    #[inline]
    pub(crate) fn detect() -> Option<Ssse3> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("ssse3") {
            return Some(Ssse3 { _detected: () });
        }
        None
    }

    /// What `normalize::parse_ipv4_strict` answers, in a few dozen
    /// instructions: the value's sixteen bytes classified at once (digits,
    /// dots), its shape (the octets' lengths) looked up, its digits
    /// shuffled into place and multiplied out. Log lines carry millions of
    /// addresses.
    #[inline]
    pub(crate) fn parse_ipv4(self, v: &[u8]) -> Option<Ipv4Addr> {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: this token exists only if `Ssse3::detect` found SSSE3
            // on this CPU, the one feature `parse_ipv4_ssse3` is built for.
            unsafe { parse_ipv4_ssse3(v) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        match self._detected {}
    }
}

/// How the digits of each of the 81 dotted-quad shapes (octets of one to
/// three digits) are laid out for [`parse_ipv4_ssse3`]: a byte shuffle that
/// puts octet `k`'s hundreds, tens and ones digits at bytes `4k..4k+3` (a
/// missing digit reads as zero), and the least value each octet may have
/// (10 for two digits, 100 for three: less means a leading zero).
#[cfg(target_arch = "x86_64")]
#[repr(C, align(16))]
struct QuadShape {
    shuffle: [u8; 16],
    least: [u32; 4],
}

#[cfg(target_arch = "x86_64")]
static QUAD_SHAPES: [QuadShape; 81] = {
    let mut t = [const {
        QuadShape {
            shuffle: [0x80; 16],
            least: [0; 4],
        }
    }; 81];
    let mut id = 0;
    while id < 81 {
        // Octet lengths from the shape's base-3 digits, first octet highest.
        let lens = [id / 27 % 3 + 1, id / 9 % 3 + 1, id / 3 % 3 + 1, id % 3 + 1];
        let mut start = 0;
        let mut k = 0;
        while k < 4 {
            let l = lens[k];
            let mut j = 0;
            while j < l {
                // The j-th digit from the octet's end goes to byte 4k + 2 - j.
                t[id].shuffle[4 * k + 2 - j] = (start + l - 1 - j) as u8;
                j += 1;
            }
            t[id].least[k] = [0, 10, 100][l - 1];
            start += l + 1;
            k += 1;
        }
        id += 1;
    }
    t
};

/// [`Ssse3::parse_ipv4`]'s kernel. Callers hold an [`Ssse3`] token (the
/// call is `unsafe` outside code compiled for SSSE3).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
fn parse_ipv4_ssse3(v: &[u8]) -> Option<Ipv4Addr> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmpgt_epi32, _mm_cvtsi128_si32, _mm_load_si128,
        _mm_madd_epi16, _mm_maddubs_epi16, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set_epi64x, _mm_set1_epi8, _mm_set1_epi16, _mm_set1_epi32, _mm_setr_epi8,
        _mm_shuffle_epi8, _mm_sub_epi8,
    };
    let len = v.len();
    if !(7..=15).contains(&len) {
        return None;
    }
    let (lo, hi) = padded16(v);
    let x = _mm_set_epi64x(hi as i64, lo as i64);
    let d = _mm_sub_epi8(x, _mm_set1_epi8(b'0' as i8));
    let dots = _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(b'.' as i8))) as u32;
    // Unsigned d <= 9: a digit (the zeros past the end are not).
    let digits = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)) as u32;
    if (dots | digits) != (1u32 << len) - 1 {
        return None;
    }
    // Exactly three dots, at p1 < p2 < p3, with one to three digits
    // before, between and after them.
    let p1 = dots.trailing_zeros() as usize;
    let r = dots & dots.wrapping_sub(1);
    let p2 = r.trailing_zeros() as usize;
    let r = r & r.wrapping_sub(1);
    let p3 = r.trailing_zeros() as usize;
    let lens = [
        p1,
        p2.wrapping_sub(p1 + 1),
        p3.wrapping_sub(p2 + 1),
        len.wrapping_sub(p3 + 1),
    ];
    if r & r.wrapping_sub(1) != 0 || lens.iter().any(|l| l.wrapping_sub(1) > 2) {
        return None;
    }
    let shape =
        &QUAD_SHAPES[(lens[0] - 1) * 27 + (lens[1] - 1) * 9 + (lens[2] - 1) * 3 + lens[3] - 1];
    // SAFETY: `shape` is a `QuadShape`, 16-byte aligned (`repr(align(16))`)
    // with both fields 16 bytes long at offsets 0 and 16, so both aligned
    // loads read inside it; SSSE3 (and so SSE2) is enabled for this
    // function, and its callers hold an `Ssse3` token.
    let (shuffle, least) = unsafe {
        (
            _mm_load_si128(shape.shuffle.as_ptr().cast::<__m128i>()),
            _mm_load_si128(shape.least.as_ptr().cast::<__m128i>()),
        )
    };
    // Octet k's digits at bytes 4k..4k+3, times 100, 10, 1 and summed.
    let spread = _mm_shuffle_epi8(d, shuffle);
    let pairs = _mm_maddubs_epi16(spread, _mm_set1_epi32(0x0001_0a64));
    let octets = _mm_madd_epi16(pairs, _mm_set1_epi16(1));
    let bad = _mm_or_si128(
        _mm_cmpgt_epi32(octets, _mm_set1_epi32(255)),
        _mm_cmpgt_epi32(least, octets),
    );
    if _mm_movemask_epi8(bad) != 0 {
        return None;
    }
    // The four octets' low bytes, first octet most significant.
    let packed = _mm_shuffle_epi8(
        octets,
        _mm_setr_epi8(12, 8, 4, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
    );
    Some(Ipv4Addr::from(_mm_cvtsi128_si32(packed) as u32))
}

/// What [`ColumnSplitter::split_wanted`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    /// A backslash (a Zeek escape) may be in the columns returned.
    pub(crate) escapes: bool,
    /// Column `last` exists.
    pub(crate) complete: bool,
    /// Where the line ends: its newline, or the end of the input.
    pub(crate) end: usize,
}

/// The Zeek wanted-column walk built for this CPU: AVX2 compares (with
/// the bit instructions that came with it: `popcnt`, `lzcnt`, BMI), and
/// BMI2's `pdep` where it is quick; else sixteen bytes per compare.
/// Made only by detection, so holding one proves its features are there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnSplitter(Walk);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Portable,
    /// AVX2, BMI1, BMI2, POPCNT and LZCNT detected.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// As `Avx2`, and `pdep` is quick ([`has_fast_pdep`]).
    #[cfg(target_arch = "x86_64")]
    Avx2Pdep,
}

impl ColumnSplitter {
    /// The fastest walk this CPU runs (detected once, cached by the
    /// standard library).
    pub(crate) fn detect() -> ColumnSplitter {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            return ColumnSplitter(if has_fast_pdep() {
                Walk::Avx2Pdep
            } else {
                Walk::Avx2
            });
        }
        ColumnSplitter(Walk::Portable)
    }

    /// Every walk this CPU runs, to hold them equal in tests.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<ColumnSplitter> {
        #[allow(unused_mut)]
        let mut all = vec![ColumnSplitter(Walk::Portable)];
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // `pdep` is correct wherever BMI2 is, only slow on some CPUs.
            all.extend([ColumnSplitter(Walk::Avx2), ColumnSplitter(Walk::Avx2Pdep)]);
        }
        all
    }

    /// Bounds `(column, start, end)` of the wanted columns of the line
    /// that starts `rest` (those whose bit is set in `wanted`, column
    /// `last` among them), in order, stopping at the end of column `last`
    /// or of the line.
    ///
    /// One pass finds columns and the line's end together (a separate
    /// newline search first would read every byte twice), and a chunk of
    /// 64 bytes in which no wanted column ends costs one mask test,
    /// whatever its separators: most columns of a Zeek line are not read.
    #[inline(always)]
    pub(crate) fn split_wanted(
        self,
        rest: &[u8],
        sep: u8,
        wanted: u64,
        last: usize,
        out: &mut Vec<(usize, usize, usize)>,
    ) -> Split {
        match self.0 {
            // SAFETY: a `Walk::Avx2Pdep` is made only after `has_avx2`
            // detected every feature `split_wanted_avx2` is compiled for
            // on this CPU; it reads `rest` through in-bounds slices only.
            #[cfg(target_arch = "x86_64")]
            Walk::Avx2Pdep => unsafe { split_wanted_avx2::<true>(rest, sep, wanted, last, out) },
            // SAFETY: as above (`Walk::Avx2`: the same detection).
            #[cfg(target_arch = "x86_64")]
            Walk::Avx2 => unsafe { split_wanted_avx2::<false>(rest, sep, wanted, last, out) },
            Walk::Portable => split_wanted_portable(rest, sep, wanted, last, out),
        }
    }
}

/// [`ColumnSplitter::split_wanted`] sixteen bytes per compare.
fn split_wanted_portable(
    rest: &[u8],
    sep: u8,
    wanted: u64,
    last: usize,
    out: &mut Vec<(usize, usize, usize)>,
) -> Split {
    split_wanted_by::<false>(
        rest,
        wanted,
        last,
        out,
        |_, _| 0,
        |c| {
            let mut masks = (0u64, 0u64, 0u64);
            for (i, q) in c.as_chunks::<16>().0.iter().enumerate() {
                let (m, bs, nl) = byte_masks16(q, sep, b'\\', b'\n');
                masks.0 |= u64::from(m) << (16 * i);
                masks.1 |= u64::from(bs) << (16 * i);
                masks.2 |= u64::from(nl) << (16 * i);
            }
            masks
        },
    )
}

/// [`ColumnSplitter::split_wanted`] with AVX2 compares (and the bit
/// instructions that came with it: `popcnt`, `lzcnt`, BMI). With `PDEP`,
/// BMI2's `pdep` goes straight to the separators ending wanted columns
/// instead of walking the ones before them: only where [`has_fast_pdep`]
/// says it is quick.
///
/// # Safety
/// The CPU must have AVX2, BMI1, BMI2, POPCNT and LZCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,popcnt,lzcnt")]
unsafe fn split_wanted_avx2<const PDEP: bool>(
    rest: &[u8],
    sep: u8,
    wanted: u64,
    last: usize,
    out: &mut Vec<(usize, usize, usize)>,
) -> Split {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
        _pdep_u64,
    };
    // Safe to call here: BMI2 is among this function's enabled features.
    let deposit = |x: u64, m: u64| _pdep_u64(x, m);
    split_wanted_by::<PDEP>(rest, wanted, last, out, deposit, |c| {
        // SAFETY: this function only runs on CPUs with AVX2 (its contract);
        // each load reads 32 of the 64 bytes of `c` (unaligned loads are
        // allowed), the rest works on registers.
        unsafe {
            let lo = _mm256_loadu_si256(c.as_ptr().cast::<__m256i>());
            let hi = _mm256_loadu_si256(c.as_ptr().add(32).cast::<__m256i>());
            let m = |b: u8| {
                let b = _mm256_set1_epi8(b as i8);
                let l = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, b)) as u32;
                let h = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, b)) as u32;
                u64::from(l) | u64::from(h) << 32
            };
            (m(sep), m(b'\\'), m(b'\n'))
        }
    })
}

/// The body of [`ColumnSplitter::split_wanted`], 64 bytes per chunk, with
/// `masks` giving the separator, backslash and newline bits of a chunk.
/// With `PDEP`, `deposit` is BMI2's `pdep` (bit `i` of its first argument
/// moved to the place of the `i`-th set bit of the second); without, it is
/// not called.
#[inline(always)]
fn split_wanted_by<const PDEP: bool>(
    rest: &[u8],
    wanted: u64,
    last: usize,
    out: &mut Vec<(usize, usize, usize)>,
    deposit: impl Fn(u64, u64) -> u64,
    masks: impl Fn(&[u8; 64]) -> (u64, u64, u64),
) -> Split {
    const W: usize = 64;
    out.clear();
    let is_wanted = |col: usize| col < 64 && wanted & (1 << col) != 0;
    let n = rest.len();
    // The chunk at `base`; the last few bytes zero-padded to a chunk with
    // the padding's bits masked off (whatever the separator byte). Padding
    // is built only when a line runs into them, at a block's end.
    let chunk = |base: usize| -> (u64, u64, u64) {
        match rest.get(base..base + W) {
            Some(c) => masks(&c.as_chunks::<W>().0[0]),
            None => {
                let tail = &rest[base..];
                let mut padded = [0u8; W];
                padded[..tail.len()].copy_from_slice(tail);
                let (m, bs, nl) = masks(&padded);
                let valid = (1u64 << tail.len()) - 1;
                (m & valid, bs & valid, nl & valid)
            }
        }
    };
    let mut escapes = 0u64;
    // `col` is the index of the column starting at `start`.
    let mut col = 0usize;
    let mut start = 0usize;
    let mut base = 0usize;
    while base < n {
        let (mut m, bs, nl) = chunk(base);
        // Bits below the first newline (all of them without one); the
        // newline bits above it that it keeps are no separator or backslash.
        let keep = nl.wrapping_sub(1);
        m &= keep;
        escapes |= bs & keep;
        if m != 0 {
            let k = m.count_ones();
            // Columns col..col+k end in this chunk; `last` is wanted, so this
            // never skips past it. (`k` is 64 for a chunk of separators only.)
            let mut ending = if col < 64 {
                (wanted >> col) & 1u64.checked_shl(k).unwrap_or(0).wrapping_sub(1)
            } else {
                0
            };
            // Straight to the separators ending wanted columns (a chunk holds
            // up to a few dozen separators and a line two to five wanted
            // columns). With `pdep`: separator `j` ends column `col + j`, so
            // `ends` holds the separators ending wanted columns and `befores`
            // the ones just before them (column `col` starts at `start`).
            // Without: walking the separators once, `sm`'s lowest bit is
            // separator `j`, `from` the start of column `col + j`.
            let (mut ends, mut befores) = if PDEP {
                (deposit(ending, m), deposit(ending >> 1, m))
            } else {
                (0, 0)
            };
            let mut sm = m;
            let mut j = 0u32;
            let mut from = start;
            while ending != 0 {
                let want = ending.trailing_zeros();
                let pos;
                if PDEP {
                    j = want;
                    if want > 0 {
                        from = base + befores.trailing_zeros() as usize + 1;
                        befores &= befores.wrapping_sub(1);
                    }
                    pos = base + ends.trailing_zeros() as usize;
                    ends &= ends.wrapping_sub(1);
                } else {
                    while j < want {
                        from = base + sm.trailing_zeros() as usize + 1;
                        sm &= sm - 1;
                        j += 1;
                    }
                    pos = base + sm.trailing_zeros() as usize;
                }
                out.push((col + j as usize, from, pos));
                if col + j as usize == last {
                    let mut end_base = base;
                    let mut nl = nl;
                    // The line's end, from the newline masks alone.
                    while nl == 0 {
                        end_base += W;
                        if end_base >= n {
                            return Split {
                                escapes: escapes != 0,
                                complete: true,
                                end: n,
                            };
                        }
                        nl = chunk(end_base).2;
                    }
                    return Split {
                        escapes: escapes != 0,
                        complete: true,
                        end: end_base + nl.trailing_zeros() as usize,
                    };
                }
                ending &= ending - 1;
            }
            col += k as usize;
            start = base + (63 - m.leading_zeros()) as usize + 1;
        }
        if nl != 0 {
            let end = base + nl.trailing_zeros() as usize;
            if is_wanted(col) {
                out.push((col, start, end));
            }
            return Split {
                escapes: escapes != 0,
                complete: col >= last,
                end,
            };
        }
        base += W;
    }
    // No newline: the line ends with the input.
    if is_wanted(col) {
        out.push((col, start, n));
    }
    Split {
        escapes: escapes != 0,
        complete: col >= last,
        end: n,
    }
}

/// Whether this CPU can run [`split_wanted_avx2`] (detected once, cached
/// by the standard library).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("popcnt")
        && std::arch::is_x86_feature_detected!("lzcnt")
}

/// Whether BMI2's `pdep` is quick on this CPU (given BMI2): on Intel, and
/// on AMD from Zen 3 (family 0x19) on; earlier AMD cores run it in
/// microcode, hundreds of cycles for the masks a Zeek line makes.
#[cfg(target_arch = "x86_64")]
fn has_fast_pdep() -> bool {
    static FAST: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FAST.get_or_init(|| {
        use std::arch::x86_64::__cpuid;
        let v = __cpuid(0);
        let vendor = [v.ebx, v.edx, v.ecx];
        let intel = vendor == [0x756e_6547, 0x4965_6e69, 0x6c65_746e]; // "GenuineIntel"
        let amd = vendor == [0x6874_7541, 0x6974_6e65, 0x444d_4163]; // "AuthenticAMD"
        let eax = __cpuid(1).eax;
        let base = (eax >> 8) & 0xf;
        let family = if base == 0xf {
            base + ((eax >> 20) & 0xff)
        } else {
            base
        };
        intel || (amd && family >= 0x19)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded16_is_the_value_zero_padded() {
        let bytes: Vec<u8> = (1..=20).collect();
        for len in 0..=20 {
            let v = &bytes[..len];
            let mut want = [0u8; 16];
            want[..len.min(16)].copy_from_slice(&v[..len.min(16)]);
            let (lo, hi) = padded16(v);
            let mut got = [0u8; 16];
            got[..8].copy_from_slice(&lo.to_le_bytes());
            got[8..].copy_from_slice(&hi.to_le_bytes());
            assert_eq!(got, want, "len {len}");
        }
    }

    #[test]
    fn byte_masks_agree() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut c = [0u8; 16];
            for (j, b) in c.iter_mut().enumerate() {
                *b = [b'\t', b'\\', 0x89, 0x09 ^ 0x80, 0, 0xff, b'a', 0x5c ^ 0x80]
                    [(x >> (j * 3)) as usize % 8];
            }
            let want_a = (0..16)
                .filter(|j| c[*j] == b'\t')
                .fold(0u32, |m, j| m | 1 << j);
            let want_b = (0..16)
                .filter(|j| c[*j] == b'\\')
                .fold(0u32, |m, j| m | 1 << j);
            let want_c = (0..16).filter(|j| c[*j] == 0).fold(0u32, |m, j| m | 1 << j);
            let want = (want_a, want_b, want_c);
            assert_eq!(byte_masks16(&c, b'\t', b'\\', 0), want, "{c:?}");
            assert_eq!(byte_masks16_swar(&c, b'\t', b'\\', 0), want, "{c:?}");
        }
    }

    /// The vector classes agree with a byte at a time, for every length
    /// they take (both halves of the wide case) and bytes of every class.
    #[test]
    fn host_bytes_agree_with_a_byte_loop() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet: &[u8] = b"aZ09.-:[%@/ \x00\x7f\x80\xffAz_";
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 1 + (x % 40) as usize;
            let v: Vec<u8> = (0..len)
                .map(|j| alphabet[((x >> ((j * 3) % 60)) as usize + j) % alphabet.len()])
                .collect();
            let want = HostBytes {
                special: v
                    .iter()
                    .any(|&c| matches!(c, b':' | b'[' | b'%') || c >= 0x80),
                not_quad: v.iter().any(|&c| !(c.is_ascii_digit() || c == b'.')),
                bad: v.iter().any(|&c| c <= b' ' || c == b'/' || c == b'@'),
                upper: v.iter().any(u8::is_ascii_uppercase),
                dots: v.iter().filter(|&&c| c == b'.').count(),
            };
            match host_bytes(&v) {
                Some(got) => assert_eq!(got, want, "{v:?}"),
                None => assert!(
                    len > 32 || cfg!(not(all(target_arch = "x86_64", target_feature = "sse2"))),
                    "{v:?}"
                ),
            }
        }
    }

    #[test]
    fn split_wanted_agrees_with_memchr() {
        let splitters = ColumnSplitter::available();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 200) as usize;
            // Dense and sparse separators alike: chunks with none, one, many;
            // the line ends at a newline (followed by more lines) or at the
            // end of the input.
            let mut input: Vec<u8> = (0..len)
                .map(|j| {
                    let r = (x >> (j % 50)) as usize;
                    if r.is_multiple_of(7) {
                        b'\t'
                    } else {
                        [b'a', 0x89, b'\\', b'.', 0][r % 5]
                    }
                })
                .collect();
            if x & 1 == 1 {
                input.extend_from_slice(b"\nnext\tline\\\t\n");
            }
            let line_len = memchr::memchr(b'\n', &input).unwrap_or(input.len());
            let line = &input[..line_len];
            let all: Vec<(usize, usize)> = {
                let mut v = Vec::new();
                let mut start = 0;
                for end in memchr::memchr_iter(b'\t', line).chain([line.len()]) {
                    v.push((start, end));
                    start = end + 1;
                }
                v
            };
            for last in [0usize, 1, 5, 17, 40, 63] {
                let wanted = (x.rotate_left(last as u32) & ((1u64 << last) - 1).max(1)) | 1 << last;
                let want: Vec<(usize, usize, usize)> = all
                    .iter()
                    .enumerate()
                    .take(last + 1)
                    .filter(|(i, _)| wanted & (1 << i) != 0)
                    .map(|(i, &(s, e))| (i, s, e))
                    .collect();
                for s in &splitters {
                    let sp = s.split_wanted(&input, b'\t', wanted, last, &mut out);
                    let at = format!("{s:?} {input:?} last {last} wanted {wanted:b}");
                    assert_eq!(out, want, "{at}");
                    assert_eq!(sp.complete, all.len() > last, "{at}");
                    // Either the line's end, or stopped at a separator ending `last`.
                    assert_eq!(sp.end, line_len, "{at}");
                    // `escapes` may be set past the last column (each walk
                    // looks at whole chunks), never missed before it.
                    let seen = all.get(last).map_or(line.len(), |c| c.1);
                    if line[..seen].contains(&b'\\') {
                        assert!(sp.escapes, "{at}");
                    }
                }
            }
        }
    }

    /// A chunk of nothing but separators (64 empty columns) still ends the
    /// wanted ones among them.
    #[test]
    fn split_wanted_reads_a_chunk_of_separators() {
        let line = [b'\t'; 100];
        for last in [3usize, 10, 40, 63] {
            let wanted = 1u64 << last | 1 << 1;
            let want = vec![(1, 1, 1), (last, last, last)];
            for s in ColumnSplitter::available() {
                let mut out = Vec::new();
                s.split_wanted(&line, b'\t', wanted, last, &mut out);
                assert_eq!(out, want, "{s:?} last {last}");
            }
        }
    }
}
