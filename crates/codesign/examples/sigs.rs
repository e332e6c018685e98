//! The work `bench/scan_signify.py` asks of signify, done with this crate:
//! every PE file under a folder read, its signatures parsed (signer serial,
//! subject, issuer, thumbprint) and its Authenticode SHA-256 computed. One
//! thread, like the Python script. Prints one line of counts.
//!
//! `cargo run --release -p cairn-codesign --example sigs -- FOLDER`

use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            walk(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

fn main() {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: sigs FOLDER");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    walk(Path::new(&root), &mut files);
    let (mut pe, mut signed, mut sigs, mut errors) = (0, 0, 0, 0);
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        if !bytes.starts_with(b"MZ") {
            continue;
        }
        pe += 1;
        match cairn_codesign::pe_signatures(&bytes) {
            Ok(Some(p)) => {
                let n = p.signatures.len();
                for s in &p.signatures {
                    if let Some(c) = &s.signer {
                        std::hint::black_box((
                            &c.serial,
                            &c.subject,
                            &c.issuer,
                            &c.thumbprint_sha1,
                        ));
                    }
                }
                std::hint::black_box(&p.authentihash_sha256);
                sigs += n;
                signed += usize::from(n > 0);
            }
            Ok(None) => {}
            Err(_) => errors += 1,
        }
    }
    println!("cairn-codesign: {pe} PE files, {signed} signed, {sigs} signatures, {errors} errors");
}
