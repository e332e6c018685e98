//! Walking directories and archives, limits, and damaged input.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use cairn_scan::{FileReport, Input, Plan, ScanOptions};
use zip::write::SimpleFileOptions;

fn run(inputs: &[Input], opts: &ScanOptions) -> Vec<FileReport> {
    let out = Mutex::new(Vec::new());
    Plan::new(inputs).run(opts, &|r| out.lock().expect("lock").push(r));
    let mut out = out.into_inner().expect("lock");
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .expect("entry");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish").into_inner()
}

fn path(p: &Path) -> Input {
    Input::Path(p.to_path_buf())
}

#[test]
fn directories_archives_and_nested_archives() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("sub/a.txt"), b"abc").expect("write");
    let inner = zip_of(&[("deep.txt", b"abc")], zip::CompressionMethod::Stored);
    let outer = zip_of(
        &[("x/b.txt", b"hello"), ("inner.zip", &inner)],
        zip::CompressionMethod::Deflated,
    );
    std::fs::write(dir.path().join("pack.zip"), &outer).expect("write");
    let got = run(&[path(dir.path())], &ScanOptions::default());
    let names: Vec<String> = got
        .iter()
        .map(|r| {
            r.file
                .strip_prefix(&dir.path().display().to_string())
                .unwrap_or(&r.file)
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "/pack.zip",
            "/pack.zip!inner.zip",
            "/pack.zip!inner.zip!deep.txt",
            "/pack.zip!x/b.txt",
            "/sub/a.txt"
        ]
    );
    let sha = |i: usize| {
        got[i]
            .hashes
            .as_ref()
            .map(|h| h.sha256.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        sha(2),
        sha(4),
        "same bytes, same hash, inside or outside an archive"
    );
    assert_eq!(got[0].format, "zip");
    assert!(got.iter().all(|r| r.error.is_none()), "{got:?}");

    // Depth 1: the archive given is opened, the one inside is not.
    let opts = ScanOptions {
        max_depth: 1,
        ..ScanOptions::default()
    };
    let got = run(&[path(&dir.path().join("pack.zip"))], &opts);
    assert_eq!(got.len(), 3);
    assert!(
        got[1].notes.iter().any(|n| n.contains("nested deeper")),
        "{:?}",
        got[1]
    );
}

#[test]
fn bombs_hit_the_limits() {
    let dir = tempfile::tempdir().expect("tmp");
    let zeros = vec![0u8; 4 << 20];
    let bomb = zip_of(
        &[("a.bin", &zeros), ("b.bin", &zeros), ("c.bin", &zeros)],
        zip::CompressionMethod::Deflated,
    );
    assert!(bomb.len() < 100_000, "compresses well: {}", bomb.len());
    let file = dir.path().join("bomb.zip");
    std::fs::write(&file, &bomb).expect("write");

    let small = ScanOptions {
        max_file_size: 1 << 20,
        ..ScanOptions::default()
    };
    let got = run(&[path(&file)], &small);
    let over: Vec<_> = got
        .iter()
        .filter(|r| {
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("over --max-size"))
        })
        .collect();
    assert_eq!(over.len(), 3, "{got:?}");

    let total = ScanOptions {
        max_archive_total: 9 << 20,
        ..ScanOptions::default()
    };
    let got = run(&[path(&file)], &total);
    let read = got
        .iter()
        .filter(|r| r.file.contains('!') && r.hashes.is_some())
        .count();
    assert_eq!(read, 2, "two entries fit the 9 MiB total: {got:?}");
    assert!(got.iter().any(|r| {
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("total is spent"))
    }));

    let few = ScanOptions {
        max_entries: 1,
        ..ScanOptions::default()
    };
    let got = run(&[path(&file)], &few);
    assert!(got.iter().any(|r| {
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("only the first 1"))
    }));
}

#[test]
fn damaged_input_is_a_report_not_the_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = zip_of(&[("a.txt", b"abc")], zip::CompressionMethod::Deflated);
    std::fs::write(dir.path().join("cut.zip"), &good[..good.len() / 2]).expect("write");
    std::fs::write(dir.path().join("ok.txt"), b"abc").expect("write");
    let missing = dir.path().join("missing.exe");
    let got = run(&[path(dir.path()), path(&missing)], &ScanOptions::default());
    assert!(
        got.iter()
            .any(|r| r.file.ends_with("missing.exe") && r.error.is_some())
    );
    assert!(
        got.iter()
            .any(|r| r.file.ends_with("cut.zip!") && r.error.is_some()),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|r| r.file.ends_with("ok.txt") && r.error.is_none())
    );
}

/// Peak resident memory of this test process (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A signed image over the size limit still says who signed it (from its
/// headers and certificate table), without a digest check or the
/// Authenticode hash, which need every byte in memory.
#[test]
fn a_signed_file_over_the_limit_keeps_its_signatures() {
    let Some(root) = cairn_testkit::dataset("codesign") else {
        return;
    };
    let exe = root.join("signed-samples/signify/7z1900-x64_signed.exe");
    let whole = run(&[path(&exe)], &ScanOptions::default());
    let opts = ScanOptions {
        max_file_size: 4096,
        ..ScanOptions::default()
    };
    let big = run(&[path(&exe)], &opts);
    assert!(big[0].notes[0].contains("without checking the digest"));
    assert_eq!(big[0].hashes, whole[0].hashes);
    let (big, whole) = (big[0].pe.as_ref(), whole[0].pe.as_ref());
    let (big, whole) = (big.expect("signatures"), whole.expect("signatures"));
    assert_eq!(big.signatures.len(), 1);
    assert_eq!(big.signatures[0].signer, whole.signatures[0].signer);
    assert_eq!(big.signatures[0].digest_ok, None);
    assert_eq!(whole.signatures[0].digest_ok, Some(true));
    assert_eq!(big.authentihash_sha256, None);
}

#[test]
fn a_gigabyte_file_is_hashed_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("tmp");
    let big = dir.path().join("big.bin");
    // Sparse: a gigabyte of zeros without a gigabyte of disk.
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse file");
    let got = run(&[path(&big)], &ScanOptions::default());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].size, 1 << 30);
    assert!(got[0].notes[0].contains("hashed, signatures read"));
    // Python: hashlib.sha256(bytes(1 << 30)).hexdigest()
    assert_eq!(
        got[0].hashes.as_ref().map(|h| h.sha256.as_str()),
        Some("49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14")
    );
    if let Some(peak) = peak_rss() {
        assert!(
            peak < 700 << 20,
            "peak RSS {peak} bytes while hashing a 1 GiB file"
        );
    }
}

#[test]
fn signed_samples_are_read_inside_archives() {
    let Some(root) = cairn_testkit::dataset("codesign/signed-samples/uthenticode") else {
        return;
    };
    let signed = std::fs::read(root.join("64/pegoat-authenticode.exe")).expect("sample");
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("s.zip"),
        zip_of(&[("pegoat.exe", &signed)], zip::CompressionMethod::Deflated),
    )
    .expect("write");
    let got = run(&[path(&root), path(dir.path())], &ScanOptions::default());
    let in_zip = got
        .iter()
        .find(|r| r.file.ends_with("s.zip!pegoat.exe"))
        .expect("entry");
    let on_disk = got
        .iter()
        .find(|r| r.file.ends_with("64/pegoat-authenticode.exe"))
        .expect("file");
    assert!(in_zip.is_signed());
    assert_eq!(in_zip.pe, on_disk.pe);
    let unsigned = got
        .iter()
        .find(|r| r.file.ends_with("32/pegoat.exe"))
        .expect("file");
    assert_eq!(unsigned.format, "pe32");
    assert!(!unsigned.is_signed());
}
