#!/usr/bin/env bash
# Shows that the package installs without a Rust toolchain when the prebuilt
# binary for this platform is present, the way a user gets it from npm:
#
#   1. the addon (rustls-tls.node, built by `npm install` here) goes into its
#      platform package, npm/<platform>/, as `napi artifacts` puts it there
#      in the release workflow;
#   2. `npm pack` of the package and of that platform package;
#   3. `npm install` of both tarballs in an empty folder, with no cargo on
#      PATH, then require('rustls-tls') and a TLS round trip over it.
#
# Prints the install time; fails if cargo would have been needed, if the
# package built itself, or if the install takes a minute or more.
#
#   scripts/check-prebuilt.sh          # (not part of npm test: it packs and installs)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -f rustls-tls.node ] || { echo "check-prebuilt: build the addon first (npm install / npm run build)" >&2; exit 1; }

platform="$(node -p "require('./lib/prebuilt').platformArchABI()")"
pkgdir="npm/$platform"
[ -d "$pkgdir" ] || { echo "check-prebuilt: no platform package folder $pkgdir" >&2; exit 1; }
binary="$(node -p "require('./$pkgdir/package.json').main")"

work="$(mktemp -d /tmp/rustls-tls-prebuilt-XXXXXX)"
trap 'rm -rf "$work" "$root/$pkgdir/$binary"' EXIT

cp rustls-tls.node "$pkgdir/$binary"
npm pack --silent --pack-destination "$work" >/dev/null
npm pack --silent --pack-destination "$work" "./$pkgdir" >/dev/null
main_tgz="$(ls "$work"/rustls-tls-[0-9]*.tgz)"
plat_tgz="$(ls "$work"/rustls-tls-"$platform"-*.tgz)"
echo "check-prebuilt: $(basename "$main_tgz") ($(du -k "$main_tgz" | cut -f1) KiB), $(basename "$plat_tgz") ($(du -k "$plat_tgz" | cut -f1) KiB)"

# No usable cargo or rustc: ~/.cargo/bin is left off PATH, and stand-ins
# that come first on it record any call and fail (so a cargo in /usr/bin
# cannot be reached either).
nodebin="$(dirname "$(command -v node)")"
npmbin="$(dirname "$(command -v npm)")"
fake="$work/fakebin"
mkdir -p "$fake"
for tool in cargo rustc rustup; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/toolchain-called"\nexit 127\n' "$tool" "$work" >"$fake/$tool"
  chmod +x "$fake/$tool"
done
cleanpath="$fake:$nodebin:$npmbin:/usr/bin:/bin"

app="$work/app"
mkdir "$app"
cd "$app"
echo '{ "name": "app", "version": "1.0.0", "private": true }' >package.json
start=$(date +%s%N)
PATH="$cleanpath" CARGO=/nonexistent npm install --no-audit --no-fund --foreground-scripts \
  "$main_tgz" "$plat_tgz" 2>&1 | sed 's/^/  npm: /'
end=$(date +%s%N)
ms=$(((end - start) / 1000000))

if [ -e node_modules/rustls-tls/rustls-tls.node ] || [ -e "$work/toolchain-called" ]; then
  echo "check-prebuilt: the install used a toolchain instead of $pkgdir: $(cat "$work/toolchain-called" 2>/dev/null)" >&2
  exit 1
fi
PATH="$cleanpath" node -e "
  const tls = require('rustls-tls');
  const fs = require('fs');
  const fx = (n) => fs.readFileSync('$root/__test__/fixtures/' + n);
  const server = tls.createServer({ key: fx('rsa-key.pem'), cert: fx('rsa-cert.pem') }, (s) => s.end('prebuilt ok'));
  server.listen(0, '127.0.0.1', () => {
    const c = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: fx('ca-cert.pem') });
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('end', () => {
      server.close();
      const where = require.resolve('rustls-tls-$platform');
      console.log('check-prebuilt: require(\'rustls-tls\') works:', got, '(' + c.getProtocol() + '), addon', where);
      if (got !== 'prebuilt ok') process.exit(1);
    });
    c.on('error', (e) => { console.error(e); process.exit(1); });
  });
"
echo "check-prebuilt: npm install of both tarballs without cargo took ${ms} ms"
if [ "$ms" -ge 60000 ]; then
  echo "check-prebuilt: that is not well under a minute" >&2
  exit 1
fi

# Without the platform package the install falls back to cargo: the
# stand-in records that it was asked (and fails, so nothing is built).
app2="$work/app2"
mkdir "$app2"
cd "$app2"
echo '{ "name": "app2", "version": "1.0.0", "private": true }' >package.json
if PATH="$cleanpath" npm install --no-audit --no-fund --foreground-scripts "$main_tgz" >"$work/app2.log" 2>&1; then
  echo "check-prebuilt: without the prebuilt binary the install should have needed cargo" >&2
  exit 1
fi
grep -q '^cargo build --release' "$work/toolchain-called" || { cat "$work/app2.log" >&2; exit 1; }
echo "check-prebuilt: without the platform package, install ran: $(head -n 1 "$work/toolchain-called")"
