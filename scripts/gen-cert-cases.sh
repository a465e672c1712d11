#!/usr/bin/env bash
# Generates the certificate set for the verification / certificate-object /
# key-loading tests (__test__/verify.test.js, certobj.test.js, keys.test.js)
# into __test__/fixtures/cases/. Every openssl command is written out below.
#
#   bash scripts/gen-cert-cases.sh
#
# Idempotent: every run rewrites the same set of files (with new keys); the
# folder is emptied of *.pem / *.pfx first so no stale file survives.
# Needs the openssl CLI (3.x; 1.1.1 works except `-traditional`, see below).
#
# Files (all keys RSA 2048 unless named otherwise):
#   root-{key,cert}.pem            root CA (self-signed, v3, CA:TRUE)
#   inter-{key,cert}.pem           intermediate CA signed by root (pathlen 0)
#   other-root-{key,cert}.pem      a second root nobody trusts
#   valid-{key,cert}.pem           leaf <- inter; SAN localhost, 127.0.0.1, ::1
#   valid-chain.pem                valid leaf + inter (what a server sends)
#   valid-chain-root.pem           valid leaf + inter + root
#   expired-{key,cert}.pem         leaf <- inter, 2020-01-01 .. 2021-01-01
#   notyet-{key,cert}.pem          leaf <- inter, 2045-01-01 .. 2046-01-01
#   expired-chain.pem, notyet-chain.pem   the two above + inter
#   wronghost-{key,cert,chain}.pem leaf <- inter; SAN DNS:other.example only
#   untrusted-{key,cert}.pem       leaf <- other-root; SAN localhost
#   selfsigned-{key,cert}.pem      self-signed v3 leaf, CA:FALSE, SAN localhost
#   ip-{key,cert,chain}.pem        leaf <- inter; SAN IP:127.0.0.1 only
#   wildcard-{key,cert,chain}.pem  leaf <- inter; SAN DNS:*.example.test
#   v1-{key,cert}.pem              the module doc's recipe: X.509 v1, CN=localhost
#   caflag-{key,cert}.pem          self-signed v3 with CA:TRUE, SAN localhost
#   client-{key,cert}.pem          client cert <- root (clientAuth), CN=case client
#   client-untrusted-{key,cert}.pem client cert <- other-root
#   rsa1024-{key,cert}.pem         RSA 1024 leaf <- root (refused by Node 24)
#   ec256-{key,cert,chain}.pem     EC P-256 leaf <- inter (key: SEC1 PEM)
#   ec384-{key,cert,chain}.pem     EC P-384 leaf <- inter (key: SEC1 PEM)
#   key-rsa-pkcs1.pem              valid-key.pem as PKCS#1 ("RSA PRIVATE KEY")
#   key-rsa-pkcs8.pem              valid-key.pem as PKCS#8 ("PRIVATE KEY")
#   key-rsa-pkcs8-enc.pem          valid-key.pem as encrypted PKCS#8 (AES-256)
#   key-rsa-legacy-enc.pem         valid-key.pem as traditional encrypted PEM
#                                  (Proc-Type/DEK-Info, -aes256)
#   key-ec-sec1.pem                ec256-key.pem as SEC1 ("EC PRIVATE KEY")
#   key-ec-pkcs8.pem               ec256-key.pem as PKCS#8
#   valid.pfx                      PKCS#12: valid key + leaf + inter
#   PASSPHRASE                     the passphrase of the encrypted files
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/__test__/fixtures/cases"
DAYS=3650
PASS='rustls-tls case passphrase'

mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.pem ./*.pfx ./PASSPHRASE

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "writing certificate cases to $OUT"

printf '%s' "$PASS" > PASSPHRASE

# ---------------------------------------------------------------------------
# Extension sections, all in one file (selected with -extensions / -extfile).
# ---------------------------------------------------------------------------
cat > "$TMP/ext.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

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
authorityInfoAccess = caIssuers;URI:http://ca.example.test/root.cer, OCSP;URI:http://ocsp.example.test/

[leaf_localhost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
authorityInfoAccess = caIssuers;URI:http://ca.example.test/inter.cer

[leaf_other]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[leaf_ip]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[leaf_wildcard]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.example.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[leaf_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer

[selfsigned_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash

[selfsigned_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
EOF

# sign CSR ISSUER SECTION OUTCERT : an X.509 v3 cert for CSR signed by ISSUER
# (root | inter | other-root), valid $DAYS days, SHA-256.
sign() {
  openssl x509 -req -in "$1" -CA "$2-cert.pem" -CAkey "$2-key.pem" \
    -CAcreateserial -CAserial "$TMP/$2.srl" -days "$DAYS" -sha256 \
    -extfile "$TMP/ext.cnf" -extensions "$3" -out "$4"
}

# ---------------------------------------------------------------------------
# 1. Root CA, intermediate CA, and a second (untrusted) root.
# ---------------------------------------------------------------------------
openssl genrsa -out root-key.pem 2048
openssl req -x509 -new -key root-key.pem -days "$DAYS" -sha256 \
  -subj "/C=NL/O=rustls-tls cases/CN=rustls-tls case root" \
  -config "$TMP/ext.cnf" -extensions v3_root -out root-cert.pem

openssl genrsa -out inter-key.pem 2048
openssl req -new -key inter-key.pem -subj "/C=NL/O=rustls-tls cases/CN=rustls-tls case intermediate" \
  -out "$TMP/inter.csr"
sign "$TMP/inter.csr" root v3_inter inter-cert.pem

openssl genrsa -out other-root-key.pem 2048
openssl req -x509 -new -key other-root-key.pem -days "$DAYS" -sha256 \
  -subj "/O=somebody else/CN=untrusted case root" \
  -config "$TMP/ext.cnf" -extensions v3_root -out other-root-cert.pem

# ---------------------------------------------------------------------------
# 2. Leaves signed by the intermediate (valid, wrong host, IP, wildcard).
# ---------------------------------------------------------------------------
# leaf NAME SUBJECT ISSUER SECTION [KEYTYPE]   (KEYTYPE: rsa2048 | rsa1024 | p256 | p384)
leaf() {
  local name=$1 subj=$2 issuer=$3 section=$4 keytype=${5:-rsa2048}
  case "$keytype" in
    rsa2048) openssl genrsa -out "$name-key.pem" 2048 ;;
    rsa1024) openssl genrsa -out "$name-key.pem" 1024 ;;
    p256) openssl ecparam -name prime256v1 -genkey -noout -out "$name-key.pem" ;;
    p384) openssl ecparam -name secp384r1 -genkey -noout -out "$name-key.pem" ;;
  esac
  openssl req -new -key "$name-key.pem" -subj "$subj" -out "$TMP/$name.csr"
  sign "$TMP/$name.csr" "$issuer" "$section" "$name-cert.pem"
}

leaf valid "/C=NL/ST=Noord-Holland/L=Amsterdam/O=rustls-tls cases/OU=valid/CN=localhost" inter leaf_localhost
leaf wronghost "/O=rustls-tls cases/CN=other.example" inter leaf_other
leaf ip "/O=rustls-tls cases/CN=ip leaf" inter leaf_ip
leaf wildcard "/O=rustls-tls cases/CN=*.example.test" inter leaf_wildcard
leaf untrusted "/O=somebody else/CN=localhost" other-root leaf_localhost

# EC leaves: SEC1 keys ("EC PRIVATE KEY").
leaf ec256 "/O=rustls-tls cases/CN=localhost" inter leaf_localhost p256
leaf ec384 "/O=rustls-tls cases/CN=localhost" inter leaf_localhost p384

# Client certificates: one from the trusted root, one from the other root.
leaf client "/O=rustls-tls cases/CN=case client" root leaf_client
leaf client-untrusted "/O=somebody else/CN=untrusted client" other-root leaf_client

# A 1024-bit RSA leaf (Node 24 / OpenSSL security level 2 refuse the key).
leaf rsa1024 "/O=rustls-tls cases/CN=localhost" root leaf_localhost rsa1024

for n in valid wronghost ip wildcard ec256 ec384; do
  cat "$n-cert.pem" inter-cert.pem > "$n-chain.pem"
done
cat valid-cert.pem inter-cert.pem root-cert.pem > valid-chain-root.pem

# ---------------------------------------------------------------------------
# 3. Expired and not-yet-valid leaves: `openssl ca` with explicit dates,
#    from a minimal CA configuration in the temporary directory.
# ---------------------------------------------------------------------------
mkdir -p "$TMP/ca/newcerts"
: > "$TMP/ca/index.txt"
echo 1000 > "$TMP/ca/serial"
cat > "$TMP/ca/ca.cnf" <<EOF
[ca]
default_ca = inter_ca
[inter_ca]
dir = $TMP/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = $OUT/inter-cert.pem
private_key = $OUT/inter-key.pem
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
x509_extensions = leaf_ext
[policy_any]
commonName = supplied
organizationName = optional
[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

openssl genrsa -out expired-key.pem 2048
openssl req -new -key expired-key.pem -subj "/O=rustls-tls cases/CN=localhost" -out "$TMP/expired.csr"
openssl ca -batch -notext -config "$TMP/ca/ca.cnf" -in "$TMP/expired.csr" \
  -startdate 20200101000000Z -enddate 20210101000000Z -out expired-cert.pem

openssl genrsa -out notyet-key.pem 2048
openssl req -new -key notyet-key.pem -subj "/O=rustls-tls cases/CN=localhost" -out "$TMP/notyet.csr"
openssl ca -batch -notext -config "$TMP/ca/ca.cnf" -in "$TMP/notyet.csr" \
  -startdate 20450101000000Z -enddate 20460101000000Z -out notyet-cert.pem

cat expired-cert.pem inter-cert.pem > expired-chain.pem
cat notyet-cert.pem inter-cert.pem > notyet-chain.pem

# ---------------------------------------------------------------------------
# 4. Self-signed certificates: a v3 leaf (CA:FALSE), a CA-flagged one used
#    as a server certificate, and the module doc's X.509 v1 recipe.
# ---------------------------------------------------------------------------
openssl genrsa -out selfsigned-key.pem 2048
openssl req -x509 -new -key selfsigned-key.pem -days "$DAYS" -sha256 \
  -subj "/O=rustls-tls cases/CN=localhost" \
  -config "$TMP/ext.cnf" -extensions selfsigned_leaf -out selfsigned-cert.pem

openssl genrsa -out caflag-key.pem 2048
openssl req -x509 -new -key caflag-key.pem -days "$DAYS" -sha256 \
  -subj "/O=rustls-tls cases/CN=localhost" \
  -config "$TMP/ext.cnf" -extensions selfsigned_ca -out caflag-cert.pem

# The doc's recipe (genrsa / req -new / x509 -req -signkey): no extensions,
# so openssl writes an X.509 v1 certificate.
openssl genrsa -out v1-key.pem 2048
openssl req -new -key v1-key.pem -subj "/CN=localhost" -out "$TMP/v1.csr"
openssl x509 -req -in "$TMP/v1.csr" -signkey v1-key.pem -days "$DAYS" -out v1-cert.pem

# ---------------------------------------------------------------------------
# 5. Key formats of one RSA key (valid-key.pem) and one EC key (ec256).
# ---------------------------------------------------------------------------
# PKCS#1 "RSA PRIVATE KEY" (openssl 3 writes PKCS#8 unless -traditional).
openssl rsa -in valid-key.pem -traditional -out key-rsa-pkcs1.pem
# PKCS#8 "PRIVATE KEY", unencrypted.
openssl pkcs8 -topk8 -nocrypt -in valid-key.pem -out key-rsa-pkcs8.pem
# PKCS#8 "ENCRYPTED PRIVATE KEY" (PBES2, AES-256-CBC).
openssl pkcs8 -topk8 -v2 aes-256-cbc -in valid-key.pem -passout "pass:$PASS" \
  -out key-rsa-pkcs8-enc.pem
# Traditional encrypted PEM ("Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-256-CBC").
openssl rsa -in valid-key.pem -traditional -aes256 -passout "pass:$PASS" \
  -out key-rsa-legacy-enc.pem
# EC: SEC1 "EC PRIVATE KEY" and PKCS#8.
openssl ec -in ec256-key.pem -out key-ec-sec1.pem
openssl pkcs8 -topk8 -nocrypt -in ec256-key.pem -out key-ec-pkcs8.pem

# ---------------------------------------------------------------------------
# 6. PKCS#12: valid key + leaf + intermediate, with the passphrase.
# ---------------------------------------------------------------------------
openssl pkcs12 -export -inkey valid-key.pem -in valid-cert.pem -certfile inter-cert.pem \
  -name "rustls-tls case" -passout "pass:$PASS" -out valid.pfx

# ---------------------------------------------------------------------------
# 7. Sanity checks (openssl's own view of each case).
# ---------------------------------------------------------------------------
openssl verify -CAfile root-cert.pem -untrusted inter-cert.pem \
  valid-cert.pem wronghost-cert.pem ip-cert.pem wildcard-cert.pem ec256-cert.pem ec384-cert.pem
openssl verify -CAfile root-cert.pem client-cert.pem rsa1024-cert.pem
openssl verify -CAfile other-root-cert.pem untrusted-cert.pem client-untrusted-cert.pem
openssl verify -CAfile selfsigned-cert.pem selfsigned-cert.pem
openssl verify -CAfile caflag-cert.pem caflag-cert.pem
openssl verify -CAfile v1-cert.pem v1-cert.pem
! openssl verify -CAfile root-cert.pem -untrusted inter-cert.pem expired-cert.pem >/dev/null 2>&1
! openssl verify -CAfile root-cert.pem -untrusted inter-cert.pem notyet-cert.pem >/dev/null 2>&1
openssl x509 -in v1-cert.pem -noout -text | grep -q 'Version: 1 (0x0)'
openssl pkcs12 -in valid.pfx -passin "pass:$PASS" -noout

chmod 644 ./*.pem valid.pfx PASSPHRASE
echo "done:"
ls -1 "$OUT"
