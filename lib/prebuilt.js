'use strict';
// Which prebuilt binary fits this machine: the napi-rs platform package
// (npm/<platform>/ in the repository, `rustls-tls-<platform>` on npm, an
// optional dependency of the package) named as @napi-rs/cli names them.

const fs = require('fs');

function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl');
  } catch {
    // No ldd to read: glibc reports its version, musl does not.
  }
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  return Boolean(report && report.header && !report.header.glibcVersionRuntime);
}

/** 'linux-x64-gnu', 'darwin-arm64', 'win32-x64-msvc', ... for this machine. */
function platformArchABI() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The npm name of the platform package for this machine. */
function packageName() {
  return `rustls-tls-${platformArchABI()}`;
}

module.exports = { platformArchABI, packageName };
