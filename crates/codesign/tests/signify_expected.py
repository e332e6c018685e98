"""Prints what Python's signify reads from the signed samples, as JSON.

The expected values in tests/samples.rs were produced with:
    pip install signify==0.9.3  (oscrypto 1.3.0 needs its OpenSSL 3 version regex
    fixed: '\\d\\.\\d+\\.\\d+' in oscrypto/_openssl/_libcrypto_c*.py)
    python3 crates/codesign/tests/signify_expected.py ../shared/datasets/codesign/signed-samples
"""
import json, sys, pathlib, hashlib
from signify.authenticode import AuthenticodeFile

root = pathlib.Path(sys.argv[1])
out = {}
for path in sorted(root.rglob("*.exe")):
    rel = str(path.relative_to(root))
    with open(path, "rb") as f:
        pe = AuthenticodeFile.from_stream(f)
        sigs = []
        try:
            for sd in pe.iter_embedded_signatures(include_nested=True):
                signer = sd.signer_info
                cert = next((c for c in sd.certificates
                             if c.serial_number == signer.serial_number and c.issuer == signer.issuer), None)
                entry = {
                    "digest_algorithm": sd.digest_algorithm.__name__.replace("openssl_", "") if hasattr(sd.digest_algorithm, "__name__") else str(sd.digest_algorithm),
                    "signed_digest": sd.indirect_data.digest.hex(),
                    "serial": format(signer.serial_number, "x"),
                    "certificates": len(sd.certificates),
                }
                if cert is not None:
                    entry["subject"] = cert.subject.dn
                    entry["issuer"] = cert.issuer.dn
                    entry["thumbprint_sha1"] = cert.sha1_fingerprint
                    entry["thumbprint_sha256"] = cert.sha256_fingerprint
                    entry["not_before"] = cert.valid_from.isoformat()
                    entry["not_after"] = cert.valid_to.isoformat()
                cs = signer.countersigner
                if cs is not None:
                    t = getattr(cs, "signing_time", None)
                    entry["signing_time"] = t.isoformat() if t else None
                sigs.append(entry)
        except Exception as e:
            sigs.append({"error": type(e).__name__ + ": " + str(e)})
        out[rel] = sigs
print(json.dumps(out, indent=1, default=str))
