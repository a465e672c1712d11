#!/usr/bin/env bash
# Regenerates the test fixtures in __test__/fixtures/ and the demo key and
# certificate in examples/. Every openssl command is written out below so the
# recipe can be read (and repeated by hand).
#
#   bash scripts/gen-fixtures.sh
#
# Idempotent: it always rewrites the same set of files (new keys each run).
# Needs the openssl CLI (1.1.1 or 3.x).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/__test__/fixtures"
EXAMPLES="$ROOT/examples"
DAYS=3650

mkdir -p "$OUT" "$EXAMPLES"
cd "$OUT"

# Scratch files (extension configs, CSRs of the CA-signed certs, serials) live
# in a temporary directory so that the fixture folder holds only the results.
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "writing fixtures to $OUT"

# ---------------------------------------------------------------------------
# 1. The module doc's recipe, with a 2048-bit key. This yields a self-signed
#    X.509 v1 certificate with no extensions (no SAN, no basicConstraints).
# ---------------------------------------------------------------------------
openssl genrsa -out doc-key.pem 2048
openssl req -new -key doc-key.pem -out doc-csr.pem -subj "/CN=localhost"
openssl x509 -req -in doc-csr.pem -signkey doc-key.pem -out doc-cert.pem -days "$DAYS"

# ---------------------------------------------------------------------------
# 2. A test CA: RSA 2048, X.509 v3, basicConstraints CA:TRUE.
# ---------------------------------------------------------------------------
cat > "$TMP/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = rustls-tls test CA
O = rustls-tls tests
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
openssl genrsa -out ca-key.pem 2048
openssl req -x509 -new -key ca-key.pem -out ca-cert.pem -days "$DAYS" -sha256 \
  -config "$TMP/ca.cnf"

# Extensions of the server leaves: CN=localhost plus SANs for localhost and
# both loopback addresses.
cat > "$TMP/server-ext.cnf" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

# Extensions of the client certificate.
cat > "$TMP/client-ext.cnf" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

# ---------------------------------------------------------------------------
# 3. Server leaf with an RSA 2048 key, signed by the CA.
# ---------------------------------------------------------------------------
openssl genrsa -out rsa-key.pem 2048
openssl req -new -key rsa-key.pem -out "$TMP/rsa.csr" -subj "/CN=localhost"
openssl x509 -req -in "$TMP/rsa.csr" -CA ca-cert.pem -CAkey ca-key.pem \
  -CAcreateserial -CAserial "$TMP/ca.srl" -out rsa-cert.pem -days "$DAYS" -sha256 \
  -extfile "$TMP/server-ext.cnf"

# ---------------------------------------------------------------------------
# 4. Server leaf with an EC P-256 key (SEC1 "EC PRIVATE KEY" PEM), signed by
#    the CA.
# ---------------------------------------------------------------------------
openssl ecparam -name prime256v1 -genkey -noout -out ec-key.pem
openssl req -new -key ec-key.pem -out "$TMP/ec.csr" -subj "/CN=localhost"
openssl x509 -req -in "$TMP/ec.csr" -CA ca-cert.pem -CAkey ca-key.pem \
  -CAcreateserial -CAserial "$TMP/ca.srl" -out ec-cert.pem -days "$DAYS" -sha256 \
  -extfile "$TMP/server-ext.cnf"

# ---------------------------------------------------------------------------
# 5. Client certificate (RSA 2048, CN=client, extendedKeyUsage clientAuth),
#    signed by the CA.
# ---------------------------------------------------------------------------
openssl genrsa -out client-key.pem 2048
openssl req -new -key client-key.pem -out "$TMP/client.csr" -subj "/CN=client"
openssl x509 -req -in "$TMP/client.csr" -CA ca-cert.pem -CAkey ca-key.pem \
  -CAcreateserial -CAserial "$TMP/ca.srl" -out client-cert.pem -days "$DAYS" -sha256 \
  -extfile "$TMP/client-ext.cnf"

# ---------------------------------------------------------------------------
# 6. Sanity checks: every leaf verifies against the CA.
# ---------------------------------------------------------------------------
openssl verify -CAfile ca-cert.pem rsa-cert.pem ec-cert.pem client-cert.pem
openssl verify -CAfile doc-cert.pem doc-cert.pem

# ---------------------------------------------------------------------------
# 7. The demo key and certificate used by `npm start` are the doc recipe's.
# ---------------------------------------------------------------------------
cp doc-key.pem "$EXAMPLES/demo-key.pem"
cp doc-cert.pem "$EXAMPLES/demo-cert.pem"

chmod 644 ./*.pem "$EXAMPLES/demo-key.pem" "$EXAMPLES/demo-cert.pem"
echo "done:"
ls -1 "$OUT"
