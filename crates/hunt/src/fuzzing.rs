//! The crate's internal normalisers for the fuzz targets in `fuzz/`
//! (feature `fuzzing`). Each call panics only on a bug: a normaliser that
//! panics, or two implementations of one rule (vector and scalar, fast path
//! and general path) that disagree.

use crate::normalize;
use std::net::{IpAddr, Ipv4Addr};

/// Runs every log-side normaliser on `raw` and checks the pairs that must
/// agree.
pub fn normalisers(raw: &[u8]) {
    // Dotted quads: the SIMD kernel, the scalar loop and std agree.
    let strict = normalize::parse_ipv4_strict(raw);
    assert_eq!(strict, normalize::parse_ipv4_scalar(raw), "{raw:?}");
    if let Some(a) = strict {
        let std: Option<Ipv4Addr> = std::str::from_utf8(raw).ok().and_then(|s| s.parse().ok());
        assert_eq!(Some(a), std, "{raw:?}");
        assert_eq!(normalize::ipv4_lead_octet(raw), Some(a.octets()[0]));
        assert_eq!(normalize::parse_ip(raw), Some(IpAddr::V4(a)));
    }
    if let Some(ip) = normalize::parse_ip(raw) {
        let mut b = [0u8; 16];
        let _ = normalize::ip_bytes(ip, &mut b);
        let _ = normalize::ip_text(ip);
    }
    // Hosts: the ASCII fast path gives what the general one gives.
    let mut stack = [0u8; normalize::MAX_HOST];
    let mut heap = Vec::new();
    let general = normalize::host_into(raw, &mut heap).map(<[u8]>::to_vec);
    if let Some(fast) = normalize::host_ascii(raw, &mut stack) {
        assert_eq!(Some(fast.to_vec()), general, "{raw:?}");
    }
    // Hex: the stack copy and the heap copy agree.
    let mut hbuf = [0u8; 256];
    let mut hvec = Vec::new();
    let a = normalize::hex_stack(raw, &mut hbuf).map(<[u8]>::to_vec);
    let b = normalize::hex_into(raw, &mut hvec).map(<[u8]>::to_vec);
    assert_eq!(a, b, "{raw:?}");
    if let Ok(s) = std::str::from_utf8(raw) {
        let _ = normalize::host(s);
        let _ = normalize::url_host(s);
        if let Some(u) = normalize::url(s) {
            // A normal form is a fixed point.
            assert_eq!(normalize::url(&u).as_deref(), Some(u.as_str()), "{s:?}");
        }
        let _ = normalize::lower(s);
    }
}
