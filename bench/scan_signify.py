"""What a Python user would run instead of `cairn scan` for signatures:
signify 0.9.3 over every PE file under a folder — every embedded signature
(nested too) with its signer's serial, subject, issuer and thumbprint, and
the file's Authenticode SHA-256. Prints one line of counts. With
`--parse-only` first, the Authenticode hash is left out: signature parsing
alone, the part that is not hashing.

signify needs oscrypto to read OpenSSL 3's version string: on this
machine's OpenSSL 3.0.x, oscrypto 1.3.0's regex `\\d\\.\\d\\.\\d` in
oscrypto/_openssl/_libcrypto_c*.py must read `\\d\\.\\d+\\.\\d+` (see
docs/BENCHMARKS.md)."""
import hashlib, os, sys
from signify.authenticode import AuthenticodeFile

parse_only = sys.argv[1] == "--parse-only"
folder = sys.argv[-1]
files = signed = sigs = errors = 0
for root, _, names in os.walk(folder):
    for n in names:
        path = os.path.join(root, n)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            if f.read(2) != b"MZ":
                continue
            f.seek(0)
            files += 1
            try:
                af = AuthenticodeFile.from_stream(f)
                if not parse_only:
                    af.get_fingerprint(hashlib.sha256)
                found = 0
                for sd in af.iter_embedded_signatures(include_nested=True):
                    si = sd.signer_info
                    for c in sd.certificates:
                        if c.serial_number == si.serial_number:
                            (c.subject.dn, c.issuer.dn, c.sha1_fingerprint)
                    found += 1
                sigs += found
                signed += found > 0
            except Exception:
                errors += 1
print(f"signify: {files} PE files, {signed} signed, {sigs} signatures, {errors} errors")
