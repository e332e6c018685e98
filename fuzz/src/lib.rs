//! Shared pieces of the fuzz targets: a small fixed hunt index, scanning
//! fuzzed bytes as a log file, and intake with a forced format.

use cairn_hunt::{Index, IndexBuilder, Input, LogFormat, ScanOptions, Scanner};
use cairn_model::{IndicatorKind as K, Observable};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One indicator of each kind the scanner matches differently.
pub fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let items = [
            (K::Domain, "dga.asia"),
            (K::Domain, "xn--mnchen-3ya.de"),
            (K::Ipv4, "45.77.153.197"),
            (K::Cidr, "10.20.0.0/16"),
            (K::Ipv6, "2001:db8::1"),
            (K::Cidr, "2001:db8:ff::/48"),
            (K::Url, "http://evil.example.com/a/b?c=1"),
            (K::Email, "bad@evil.example.com"),
            (K::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            (
                K::Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (K::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
            (K::FileName, "evil.exe"),
        ];
        let mut b = IndexBuilder::new();
        for (i, (k, v)) in items.iter().enumerate() {
            b.add(&Observable::new(*k, v), i as u32);
        }
        b.build()
    })
}

/// A per-process scratch file for inputs that are read from a path.
pub fn scratch(ext: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cairn-fuzz-{}.{ext}", std::process::id()))
}

/// Scans `data` as a log file in `format` against [`index`].
pub fn scan(data: &[u8], format: LogFormat) {
    let path = scratch("log");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let opts = ScanOptions {
        format,
        // Small blocks so block boundaries fall inside fuzzed lines.
        block_size: 4096,
        max_line_len: 8192,
        ..ScanOptions::default()
    };
    let hits = std::sync::atomic::AtomicUsize::new(0);
    let summary = Scanner::new(index(), opts).scan(&[Input::Path(path)], &|_| {
        hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    std::hint::black_box(summary);
}

/// Parses `data` with intake in `format`, as a file named `name`.
pub fn intake(name: &str, data: &[u8], format: cairn_intake::Format) {
    let opts = cairn_intake::Options {
        format,
        ..cairn_intake::Options::default()
    };
    let _ = cairn_intake::parse_bytes(Path::new(name), data, &opts);
}
