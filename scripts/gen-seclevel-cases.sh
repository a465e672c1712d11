#!/usr/bin/env bash
# Generates the weak-CA fixtures for __test__/seclevel.test.js into
# __test__/fixtures/seclevel/ (`bash scripts/gen-seclevel-cases.sh`).
#
#   ca1024-{key,cert}.pem   a root CA with a 1024-bit RSA key (what
#                           OpenSSL's security level 2 refuses, level 1 takes)
#   leaf-{key,cert}.pem     RSA 2048 leaf for localhost / 127.0.0.1 <- ca1024
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/__test__/fixtures/seclevel"
mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.pem
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cat > "$TMP/ext.cnf" <<'EOF'
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF

openssl genrsa -out ca1024-key.pem 1024
openssl req -x509 -new -key ca1024-key.pem -days 3650 -sha256 \
  -subj "/O=rustls-tls seclevel cases/CN=weak 1024-bit root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca1024-cert.pem
openssl genrsa -out leaf-key.pem 2048
openssl req -new -key leaf-key.pem -subj "/O=rustls-tls seclevel cases/CN=localhost" -out "$TMP/leaf.csr"
openssl x509 -req -in "$TMP/leaf.csr" -CA ca1024-cert.pem -CAkey ca1024-key.pem -set_serial 7 \
  -days 3650 -sha256 -extfile "$TMP/ext.cnf" -extensions leaf -out leaf-cert.pem
openssl verify -auth_level 1 -CAfile ca1024-cert.pem leaf-cert.pem
chmod 644 ./*.pem
ls -1 "$OUT"
