#!/usr/bin/env bash
# Generates the revocation fixtures for __test__/crl.test.js (and the OCSP
# test's issuer) into __test__/fixtures/crl/. Every openssl command is below.
#
#   bash scripts/gen-crl-cases.sh
#
# A CA of its own, kept apart from fixtures/cases so that either set can be
# regenerated alone. Idempotent: each run rewrites the whole folder.
#
# Files (RSA 2048, SHA-256):
#   root-{key,cert}.pem        root CA
#   inter-{key,cert}.pem       intermediate CA <- root
#   good-{key,cert}.pem        leaf <- inter, SAN localhost/127.0.0.1 (not revoked)
#   revoked-{key,cert}.pem     leaf <- inter, revoked in inter.crl.pem
#   good-chain.pem, revoked-chain.pem   leaf + inter
#   direct-good-{key,cert}.pem     leaf <- root (not revoked)
#   direct-revoked-{key,cert}.pem  leaf <- root, revoked in root.crl.pem
#   client-good-{key,cert}.pem     client leaf <- root (not revoked)
#   client-revoked-{key,cert}.pem  client leaf <- root, revoked in root.crl.pem
#   root.crl.pem / root.crl.der    root's CRL: direct-revoked, client-revoked
#   inter.crl.pem / inter.crl.der  inter's CRL: revoked
#   root-revokes-inter.crl.pem     root's CRL that revokes the intermediate
#   root-expired.crl.pem           root's CRL (revokes nothing) whose nextUpdate has passed
#   other.crl.pem                  a CRL from a CA nobody trusts
#   all.crl.pem                    root.crl.pem + inter.crl.pem in one bundle
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/__test__/fixtures/crl"
DAYS=3650

mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.pem ./*.der

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "writing revocation cases to $OUT"

cat > "$TMP/ext.cnf" <<'EOF'
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

# ca_config NAME : an `openssl ca` configuration for the CA NAME (its own
# database, so that revocations are per issuer).
ca_config() {
  mkdir -p "$TMP/$1"
  : > "$TMP/$1/index.txt"
  echo 1000 > "$TMP/$1/crlnumber"
  cat > "$TMP/$1/ca.cnf" <<EOF
[ca]
default_ca = the_ca
[the_ca]
dir = $TMP/$1
database = \$dir/index.txt
crlnumber = \$dir/crlnumber
certificate = $OUT/$1-cert.pem
private_key = $OUT/$1-key.pem
default_md = sha256
default_crl_days = $DAYS
EOF
}

# sign NAME ISSUER SECTION SUBJECT : key + cert NAME signed by ISSUER, and
# recorded in ISSUER's database (so that it can be revoked).
sign() {
  openssl genrsa -out "$1-key.pem" 2048
  openssl req -new -key "$1-key.pem" -subj "$4" -out "$TMP/$1.csr"
  openssl x509 -req -in "$TMP/$1.csr" -CA "$2-cert.pem" -CAkey "$2-key.pem" \
    -set_serial "0x$(openssl rand -hex 8)" -days "$DAYS" -sha256 \
    -extfile "$TMP/ext.cnf" -extensions "$3" -out "$1-cert.pem"
}

# revoke ISSUER CERT
revoke() {
  openssl ca -config "$TMP/$1/ca.cnf" -revoke "$2" -crl_reason keyCompromise
}

# crl ISSUER OUT [extra openssl ca args]
crl() {
  local issuer=$1 out=$2
  shift 2
  openssl ca -config "$TMP/$issuer/ca.cnf" -gencrl -out "$out" "$@"
}

openssl genrsa -out root-key.pem 2048
openssl req -x509 -new -key root-key.pem -days "$DAYS" -sha256 \
  -subj "/O=rustls-tls crl cases/CN=crl case root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out root-cert.pem
ca_config root

sign inter root v3_inter "/O=rustls-tls crl cases/CN=crl case intermediate"
ca_config inter

sign good inter leaf "/O=rustls-tls crl cases/CN=localhost"
sign revoked inter leaf "/O=rustls-tls crl cases/OU=revoked/CN=localhost"
sign direct-good root leaf "/O=rustls-tls crl cases/OU=direct/CN=localhost"
sign direct-revoked root leaf "/O=rustls-tls crl cases/OU=direct revoked/CN=localhost"
sign client-good root leaf "/O=rustls-tls crl cases/CN=good client"
sign client-revoked root leaf "/O=rustls-tls crl cases/CN=revoked client"
for n in good revoked; do cat "$n-cert.pem" inter-cert.pem > "$n-chain.pem"; done

# An expired CRL first, from the root's database with nothing revoked yet.
crl root root-expired.crl.pem -crl_lastupdate 20200101000000Z -crl_nextupdate 20210101000000Z

revoke inter revoked-cert.pem
crl inter inter.crl.pem
revoke root direct-revoked-cert.pem
revoke root client-revoked-cert.pem
crl root root.crl.pem
revoke root inter-cert.pem
crl root root-revokes-inter.crl.pem

openssl crl -in root.crl.pem -outform DER -out root.crl.der
openssl crl -in inter.crl.pem -outform DER -out inter.crl.der
cat root.crl.pem inter.crl.pem > all.crl.pem

# A CRL from a CA nobody trusts.
openssl genrsa -out "$TMP/other-key.pem" 2048
openssl req -x509 -new -key "$TMP/other-key.pem" -days "$DAYS" -sha256 \
  -subj "/O=somebody else/CN=other crl root" -out "$TMP/other-cert.pem"
mkdir -p "$TMP/other"
: > "$TMP/other/index.txt"
echo 1000 > "$TMP/other/crlnumber"
sed -e "s#$OUT/root-#$TMP/other-#g" -e "s#$TMP/root#$TMP/other#" "$TMP/root/ca.cnf" > "$TMP/other/ca.cnf"
crl other other.crl.pem

# Sanity checks: openssl's own view (-crl_check_all, as Node sets it).
openssl verify -crl_check_all -CAfile root-cert.pem -CRLfile all.crl.pem -untrusted inter-cert.pem \
  good-cert.pem direct-good-cert.pem client-good-cert.pem
! openssl verify -crl_check_all -CAfile root-cert.pem -CRLfile all.crl.pem -untrusted inter-cert.pem \
  revoked-cert.pem >/dev/null 2>&1
! openssl verify -crl_check_all -CAfile root-cert.pem -CRLfile all.crl.pem direct-revoked-cert.pem >/dev/null 2>&1

chmod 644 ./*.pem ./*.der
echo "done:"
ls -1 "$OUT"
