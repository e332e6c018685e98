#!/usr/bin/env bash
# A corpus where every PE file is Authenticode-signed, for the signature
# parsing benchmark (bench/scan.sh's corpus has only 5 signed files, so it
# measures reading and hashing, not signatures). Every PE under SRC is
# signed with osslsigncode (SHA-256) by a throw-away self-signed key; every
# other one also gets a nested SHA-1 signature, as dual-signed Windows
# binaries have.
# Usage: bench/sign_corpus.sh SRC DEST    (needs osslsigncode and openssl)
set -euo pipefail
SRC="${1:?usage: sign_corpus.sh SRC DEST}"
DEST="${2:?usage: sign_corpus.sh SRC DEST}"
mkdir -p "$DEST"
key=$(mktemp -d)
trap 'rm -rf "$key"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$key/key.pem" -out "$key/cert.pem" \
  -days 3650 -subj "/CN=Cairn Bench Signer/O=Cairn bench" \
  -addext "extendedKeyUsage=codeSigning" 2>/dev/null
n=0
while IFS= read -r -d '' f; do
  cmp -s -n 2 <(printf MZ) "$f" || continue
  n=$((n + 1))
  out="$DEST/$n-$(basename "$f")"
  osslsigncode sign -certs "$key/cert.pem" -key "$key/key.pem" -h sha256 -n cairn-bench \
    -in "$f" -out "$out" >/dev/null 2>&1 || { rm -f "$out"; continue; }
  if [ $((n % 2)) = 0 ]; then
    osslsigncode sign -nest -certs "$key/cert.pem" -key "$key/key.pem" -h sha1 \
      -in "$out" -out "$out.nested" >/dev/null 2>&1 && mv "$out.nested" "$out"
  fi
done < <(find "$SRC" -type f -print0 | sort -z)
echo "signed $(find "$DEST" -type f | wc -l) PE files into $DEST ($(du -sm "$DEST" | cut -f1) MB)"
