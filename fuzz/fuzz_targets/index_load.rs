#![no_main]
//! Loading a hunt index cache file: any bytes are an index or an error.
//! When the last byte of the input is odd the trailing checksum is set
//! right, so mutations reach the body parser's later checks too.
//! `CAIRN_FUZZ_SAVE_INDEX=<path>` writes the fixed index there (a seed).
use libfuzzer_sys::fuzz_target;
use xxhash_rust::xxh3::xxh3_64;

fuzz_target!(|data: &[u8]| {
    // fuzz/seeds.sh asks for a real index file to start from.
    if let Some(out) = std::env::var_os("CAIRN_FUZZ_SAVE_INDEX") {
        let _ = cairn_fuzz::index().save(std::path::Path::new(&out));
    }
    let mut bytes = data.to_vec();
    if bytes.len() >= 8 && bytes[bytes.len() - 1] & 1 == 1 {
        let body = bytes.len() - 8;
        let sum = xxh3_64(&bytes[..body]);
        bytes[body..].copy_from_slice(&sum.to_le_bytes());
    }
    let path = cairn_fuzz::scratch("idx");
    if std::fs::write(&path, &bytes).is_err() {
        return;
    }
    if let Ok(index) = cairn_hunt::Index::load(&path) {
        // A loaded index must also scan without panicking.
        let _ = index.stats();
        let log = cairn_fuzz::scratch("log");
        let line = b"{\"query\":\"kb.dga.asia\",\"id.resp_h\":\"45.77.153.197\",\"uri\":\"http://evil.example.com/a/b?c=1\"}\n";
        if std::fs::write(&log, line).is_ok() {
            let s = cairn_hunt::Scanner::new(&index, cairn_hunt::ScanOptions::default());
            let _ = s.scan(&[cairn_hunt::Input::Path(log)], &|_| {});
        }
    }
});
