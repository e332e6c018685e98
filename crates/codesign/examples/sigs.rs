//! The work `bench/scan_signify.py` asks of signify, done with this crate:
//! every PE file under a folder read, its signatures parsed (signer serial,
//! subject, issuer, thumbprint) and its Authenticode SHA-256 computed. One
//! thread, like the Python script. Prints one line of counts. With
//! `--parse-only`, no Authenticode digest is computed (the script's
//! `--parse-only`): signature parsing alone, which like signify reads only
//! a file's headers and certificate table (`pe_signatures_from`).
//!
//! `cargo run --release -p cairn-codesign --example sigs -- [--parse-only] FOLDER`

use std::io::Read;
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parse_only = args.first().is_some_and(|a| a == "--parse-only");
    let Some(root) = args
        .last()
        .filter(|_| args.len() == 1 + usize::from(parse_only))
    else {
        eprintln!("usage: sigs [--parse-only] FOLDER");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    walk(Path::new(root), &mut files);
    let (mut pe, mut signed, mut sigs, mut errors) = (0, 0, 0, 0);
    let mut magic = [0u8; 2];
    for f in files {
        let Ok(mut file) = std::fs::File::open(&f) else {
            continue;
        };
        if file.read_exact(&mut magic).is_err() || &magic != b"MZ" {
            continue;
        }
        pe += 1;
        let read = if parse_only {
            cairn_codesign::pe_signatures_from(file)
        } else {
            let mut bytes = magic.to_vec();
            match file.read_to_end(&mut bytes) {
                Ok(_) => cairn_codesign::pe_signatures(&bytes),
                Err(e) => Err(e.into()),
            }
        };
        match read {
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
