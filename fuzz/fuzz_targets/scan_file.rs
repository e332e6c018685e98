#![no_main]
//! A file as `cairn scan` reads it: zip archives (nested, damaged, bombs)
//! under small limits, PE signatures inside.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = cairn_fuzz::scratch("bin");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let opts = cairn_scan::ScanOptions {
        max_file_size: 1 << 20,
        max_depth: 3,
        max_entries: 64,
        max_archive_total: 4 << 20,
        threads: 1,
        hashing: cairn_scan::Hashing::ALL,
    };
    let plan = cairn_scan::Plan::new(&[cairn_scan::Input::Path(path.clone())]);
    let count = std::sync::atomic::AtomicU64::new(0);
    let summary = plan.run(&opts, &|_| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(summary.files, count.into_inner());
    let _ = std::fs::remove_file(path);
});
