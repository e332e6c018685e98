# Expected values for crates/yara/tests/real_data.rs, from Python's signify
# (pip install signify; 0.9.3 was used). For each PE file given: every
# Authenticode signature (nested ones included), its signer certificate's
# serial, subject and notAfter, and every certificate the signature carries.
import sys

from signify.authenticode import AuthenticodeFile

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        sigs = list(AuthenticodeFile.from_stream(f).iter_embedded_signatures(include_nested=True))
        print(f"{path}: {len(sigs)} signature(s)")
        for s in sigs:
            si = s.signer_info
            cert = s.certificates.find_certificate(issuer=si.issuer, serial_number=si.serial_number)
            print(f"  signer serial={cert.serial_number:x} subject={cert.subject.dn} not_after={cert.valid_to}")
            for c in s.certificates:
                print(f"    cert serial={c.serial_number:x} subject={c.subject.dn}")
