#![no_main]
//! PE images and their certificate tables: every signature, nested ones,
//! counter-signatures and RFC 3161 tokens; and lone DER certificates.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(pe)) = cairn_codesign::pe_signatures(data) {
        for s in &pe.signatures {
            assert!(s.nested_in.is_none_or(|p| p < s.index));
        }
    }
    let _ = cairn_codesign::authentihashes(data);
    let _ = cairn_codesign::CertInfo::from_der(data);
});
