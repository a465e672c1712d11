#!/bin/sh
# Generates the benchmark's certificates into benchmark/fixtures/:
# a small CA, and ECDSA P-256 and RSA 2048 leaves for localhost/127.0.0.1
# signed by it. Re-run to replace them. Needs openssl 1.1.1 or later.
set -eu
dir="$(cd "$(dirname "$0")" && pwd)/fixtures"
mkdir -p "$dir"
cd "$dir"
set -x

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout ca-key.pem -out ca-cert.pem -days 3650 -subj '/CN=rustls-tls bench CA' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'

printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
  'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' > leaf.ext

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec-key.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-key.pem

for kind in ec rsa; do
  openssl req -new -key "$kind-key.pem" -subj '/CN=localhost' -out "$kind.csr"
  openssl x509 -req -in "$kind.csr" -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial \
    -days 3650 -sha256 -extfile leaf.ext -out "$kind-cert.pem"
done

# The CA key is not needed once the leaves are signed.
rm -f ec.csr rsa.csr leaf.ext ca-cert.srl ca-key.pem
