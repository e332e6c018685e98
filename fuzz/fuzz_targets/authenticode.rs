#![no_main]
//! PE images and their certificate tables: every signature, nested ones,
//! counter-signatures and RFC 3161 tokens, read from the whole image and
//! from its headers and certificate table alone; and lone DER certificates.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(pe)) = cairn_codesign::pe_signatures(data) {
        for s in &pe.signatures {
            assert!(s.nested_in.is_none_or(|p| p < s.index));
        }
    }
    // Read in part, an image gives the signatures it gives whole.
    let part = cairn_codesign::pe_signatures_from(std::io::Cursor::new(data));
    let whole = cairn_codesign::pe_signatures_with(data, cairn_codesign::Digests::NONE);
    if let (Ok(Some(part)), Ok(Some(whole))) = (part, whole) {
        assert_eq!(part.signatures, whole.signatures);
    }
    let _ = cairn_codesign::authentihashes(data);
    let _ = cairn_codesign::CertInfo::from_der(data);
});
