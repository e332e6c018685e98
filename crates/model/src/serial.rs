//! Certificate serial numbers in one canonical form.
//!
//! Publishers write the same serial as `0F:A2:7D…`, `0fa27d…`, `0x0fa27d…`,
//! with a DER sign byte (`00:8f…`), or in decimal (the NDSS 2026 dataset).
//! The canonical form is lower-case hex of the integer's magnitude, without
//! separators or leading zero bytes, padded to whole bytes: what `openssl`
//! and Windows show, minus the colons.

/// The canonical form of a serial written in hex (with or without `0x`,
/// colons, spaces or dashes, any case). `None` when it is not hex.
pub fn canonical_hex(serial: &str) -> Option<String> {
    let s = serial.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(from_digits(&digits))
}

/// The canonical form of a serial written in decimal. `None` when it is
/// not a decimal number.
pub fn from_decimal(serial: &str) -> Option<String> {
    let s = serial.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Written by hand: schoolbook base conversion of at most ~50 digits
    // (a 20-byte serial) is a dozen lines, not worth a bignum dependency.
    let mut bytes: Vec<u8> = vec![0]; // big-endian magnitude
    for d in s.bytes().map(|b| u32::from(b - b'0')) {
        let mut carry = d;
        for b in bytes.iter_mut().rev() {
            let v = u32::from(*b) * 10 + carry;
            *b = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    Some(from_bytes(&bytes))
}

/// The canonical form of a serial given as the bytes of a DER integer.
pub fn from_bytes(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    from_digits(&hex)
}

/// Every canonical serial a user's text may mean: a value of decimal
/// digits only is read both as hex and as decimal.
pub fn candidates(serial: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(h) = canonical_hex(serial) {
        out.push(h);
    }
    let plain = serial.trim();
    if !plain.starts_with("0x")
        && !plain.contains(':')
        && let Some(d) = from_decimal(plain)
        && !out.contains(&d)
    {
        out.push(d);
    }
    out
}

fn from_digits(hex: &str) -> String {
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        return "00".to_string();
    }
    if trimmed.len() % 2 == 1 {
        format!("0{trimmed}")
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_serial_many_spellings() {
        let want = "0fa27d2553f24da79d1cc6bd8773ee9a";
        for s in [
            "0FA27D2553F24DA79D1CC6BD8773EE9A",
            "0f:a2:7d:25:53:f2:4d:a7:9d:1c:c6:bd:87:73:ee:9a",
            "0x0fa27d2553f24da79d1cc6bd8773ee9a",
            "00 0f a2 7d 25 53 f2 4d a7 9d 1c c6 bd 87 73 ee 9a",
            "fa27d2553f24da79d1cc6bd8773ee9a",
        ] {
            assert_eq!(canonical_hex(s).as_deref(), Some(want), "{s}");
        }
        assert_eq!(canonical_hex("00:8f").as_deref(), Some("8f"));
        assert_eq!(canonical_hex("0"), Some("00".into()));
        assert_eq!(canonical_hex("xyz"), None);
    }

    #[test]
    fn decimal_serials() {
        // The NDSS 2026 dataset's first row (Python:
        // format(20707376505526688825815417146825119475, 'x') = f94187c6…).
        assert_eq!(
            from_decimal("20707376505526688825815417146825119475").as_deref(),
            Some(format!("{:032x}", 20707376505526688825815417146825119475u128).as_str())
        );
        assert_eq!(from_decimal("255").as_deref(), Some("ff"));
        assert_eq!(from_decimal("256").as_deref(), Some("0100"));
        assert_eq!(from_decimal("0").as_deref(), Some("00"));
        assert_eq!(from_decimal("12a"), None);
        assert_eq!(from_bytes(&[0, 0x8f, 1]), "8f01");
    }

    #[test]
    fn digits_only_is_ambiguous() {
        assert_eq!(
            candidates("255"),
            vec!["0255".to_string(), "ff".to_string()]
        );
        assert_eq!(candidates("0x255"), vec!["0255".to_string()]);
        assert_eq!(candidates("ab:cd"), vec!["abcd".to_string()]);
    }
}
