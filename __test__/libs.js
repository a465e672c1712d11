'use strict';
// Helpers for the tests that run real libraries, unchanged, over each TLS
// implementation (mysql.test.js, smtp.test.js).
//
// useTls(tls) + freshRequire(pkg): a fresh copy of the npm package `pkg` in
// which every require('tls') / require('node:tls') returns `tls`. Libraries
// take `tls` when their files load, so each implementation gets its own
// copy; the package's own files (index.js, lib/) keep the real node:tls.
//
// MariaDb: a throw-away MariaDB server (mariadb-install-db into a temporary
// folder, mariadbd on a free loopback port) with TLS on and
// require_secure_transport, so a TCP client that gets in went over TLS. When
// its binaries are missing and this runs as root with apt-get, Debian's
// `mariadb-server` is installed (.ci/run does the same); otherwise the test
// fails, it is never skipped.

const fs = require('node:fs');
const Module = require('node:module');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { certs, closedPort, delay, ROOT } = require('./helpers');

const packageFiles = [path.join(ROOT, 'index.js'), path.join(ROOT, 'lib') + path.sep];
const isPackageFile = (file) => packageFiles.some((p) => file === p || file.startsWith(p));

let tlsTarget = null;
let hooked = false;

function hook() {
  if (hooked) return;
  hooked = true;
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    if (
      tlsTarget &&
      (request === 'tls' || request === 'node:tls') &&
      !(parent && parent.filename && isPackageFile(parent.filename))
    ) {
      return tlsTarget;
    }
    return originalLoad.call(this, request, parent, isMain);
  };
}

/**
 * From now on, require('tls') outside this package returns `tls` (null: the
 * real one again). Drivers may load their files lazily, so the redirect
 * stays on while a driver is in use, not only while it is required.
 */
function useTls(tls) {
  hook();
  tlsTarget = tls;
}

/** A fresh copy of npm package `pkg`, loaded under the current useTls(). */
function freshRequire(pkg) {
  const dir = path.dirname(require.resolve(`${pkg}/package.json`, { paths: [ROOT] })) + path.sep;
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(dir)) delete require.cache[key];
  }
  return require(require.resolve(pkg, { paths: [ROOT] }));
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args, { timeout = 60000, env, input } = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout,
    input,
    env: { ...process.env, LC_ALL: 'C', ...env },
    cwd: os.tmpdir(),
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${r.stdout || ''}${r.stderr || ''}`);
  }
  return r.stdout;
}

const mariaBins = ['mariadbd', 'mariadb-install-db', 'mariadb-admin', 'mariadb'];

function which(bin) {
  for (const dir of ['/usr/sbin', '/usr/bin', ...(process.env.PATH || '').split(':')]) {
    const file = path.join(dir, bin);
    if (dir && fs.existsSync(file)) return file;
  }
  return null;
}

/** Paths of MariaDB's binaries, installing Debian's mariadb-server if needed (root + apt-get). */
function ensureMariaDb() {
  const found = () => Object.fromEntries(mariaBins.map((b) => [b, which(b)]));
  let bins = found();
  if (Object.values(bins).every(Boolean)) return bins;
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(
      "MariaDB not found (mariadbd, mariadb-install-db): install Debian's package " +
        '(apt-get install mariadb-server); this test needs a real server',
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { timeout: 300000, env });
  run('apt-get', ['install', '-y', '-qq', 'mariadb-server'], { timeout: 600000, env });
  bins = found();
  if (!Object.values(bins).every(Boolean)) throw new Error('apt-get install mariadb-server did not provide mariadbd');
  return bins;
}

class MariaDb {
  constructor() {
    this.bins = ensureMariaDb();
    this.dir = null;
    this.port = null;
    this.proc = null;
  }

  get socket() {
    return path.join(this.dir, 'mysqld.sock');
  }

  get log() {
    return path.join(this.dir, 'mariadb.log');
  }

  readLog() {
    try {
      return fs.readFileSync(this.log, 'utf8');
    } catch {
      return '(no log)';
    }
  }

  /** Runs SQL as root over the server's unix socket. */
  sql(statements) {
    return run(this.bins.mariadb, ['--no-defaults', `--socket=${this.socket}`, '-uroot', '--batch', '--skip-column-names'], {
      input: statements,
    });
  }

  /** Starts the server; `users` is SQL run once it is up. */
  async start(users = '') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-mariadb-'));
    const user = isRoot ? 'mysql' : os.userInfo().username;
    const put = (name, data, mode) => {
      const file = path.join(this.dir, name);
      fs.writeFileSync(file, data, { mode });
      return file;
    };
    const ca = put('ca.pem', certs.ca, 0o644);
    const cert = put('server-cert.pem', certs.rsa.cert, 0o644);
    const key = put('server-key.pem', certs.rsa.key, 0o600);
    const data = path.join(this.dir, 'data');
    if (isRoot) run('chown', ['-R', `${user}:`, this.dir]);
    fs.chmodSync(this.dir, 0o755);
    run(this.bins['mariadb-install-db'], [
      '--no-defaults',
      `--datadir=${data}`,
      `--user=${user}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ], { timeout: 120000 });
    this.port = await closedPort();
    const args = [
      '--no-defaults',
      `--user=${user}`,
      `--datadir=${data}`,
      `--socket=${this.socket}`,
      `--pid-file=${path.join(this.dir, 'mariadb.pid')}`,
      `--log-error=${this.log}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      `--ssl-ca=${ca}`,
      `--ssl-cert=${cert}`,
      `--ssl-key=${key}`,
      '--require-secure-transport=ON',
      '--innodb-buffer-pool-size=16M',
      '--skip-log-bin',
      '--max-connections=50',
    ];
    this.proc = spawn(this.bins.mariadbd, args, { stdio: 'ignore' });
    const exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited = exited;
    const deadline = Date.now() + 60000;
    for (;;) {
      const r = spawnSync(this.bins['mariadb-admin'], ['--no-defaults', `--socket=${this.socket}`, '-uroot', 'ping'], {
        encoding: 'utf8',
        timeout: 10000,
      });
      if (r.status === 0) break;
      const gone = await Promise.race([exited, delay(200).then(() => null)]);
      if (gone || Date.now() > deadline) {
        throw new Error(`mariadbd did not start (${JSON.stringify(gone)}):\n${this.readLog()}`);
      }
    }
    if (users) this.sql(users);
  }

  async stop() {
    if (!this.dir) return;
    try {
      if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
        this.proc.kill('SIGTERM');
        const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
        await this.exited;
        clearTimeout(timer);
      }
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
      this.proc = null;
    }
  }

  /** Stops a server left running at exit (synchronously). */
  killNow() {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The first of `files` that exists; when none does and this runs as root
 * with apt-get, Debian's package `deb` is installed first (.ci/run does the
 * same beforehand). Otherwise an error: these tests need the real server and
 * are never skipped.
 */
function ensureDebian(files, deb) {
  const found = () => files.find((f) => f && fs.existsSync(f)) || null;
  let file = found();
  if (file) return file;
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`${files.join(' or ')} not found: install Debian's package (apt-get install ${deb}); this test needs a real server`);
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { timeout: 300000, env });
  run('apt-get', ['install', '-y', '-qq', deb], { timeout: 600000, env });
  file = found();
  if (!file) throw new Error(`apt-get install ${deb} did not provide ${files.join(' or ')}`);
  return file;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
async function waitForPort(port, ms, what, exited) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    const gone = exited ? await Promise.race([exited, delay(50).then(() => null)]) : await delay(50);
    if (gone) throw new Error(`${what} exited before listening on ${port}: ${JSON.stringify(gone)}`);
    if (Date.now() > until) throw new Error(`${what} did not listen on ${port} within ${ms} ms`);
  }
}

/**
 * A throw-away Mosquitto broker (Debian's `mosquitto`) with two TLS
 * listeners on free loopback ports: `port` (server certificate only) and
 * `mtlsPort` (require_certificate: a client certificate issued by the test
 * CA). Both use the fixtures' rsa leaf (SAN localhost, 127.0.0.1).
 */
class Mosquitto {
  constructor() {
    this.bin = ensureDebian([process.env.MOSQUITTO, '/usr/sbin/mosquitto', '/usr/bin/mosquitto'], 'mosquitto');
    this.dir = null;
    this.proc = null;
  }

  get log() {
    return path.join(this.dir, 'mosquitto.log');
  }

  readLog() {
    try {
      return fs.readFileSync(this.log, 'utf8');
    } catch {
      return '(no log)';
    }
  }

  async start() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-mosquitto-'));
    fs.chmodSync(this.dir, 0o755);
    const put = (name, data) => {
      const file = path.join(this.dir, name);
      fs.writeFileSync(file, data, { mode: 0o600 });
      return file;
    };
    const tlsFiles = [
      `cafile ${put('ca.pem', certs.ca)}`,
      `certfile ${put('cert.pem', certs.rsa.cert)}`,
      `keyfile ${put('key.pem', certs.rsa.key)}`,
    ];
    this.port = await closedPort();
    this.mtlsPort = await closedPort();
    const conf = put('mosquitto.conf', [
      'per_listener_settings false',
      'allow_anonymous true',
      'persistence false',
      `log_dest file ${this.log}`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'max_packet_size 4194304',
      `listener ${this.port} 127.0.0.1`,
      ...tlsFiles,
      `listener ${this.mtlsPort} 127.0.0.1`,
      ...tlsFiles,
      'require_certificate true',
      '',
    ].join('\n'));
    // Started as root, mosquitto drops to its own user: the folder is its.
    if (isRoot) run('chown', ['-R', 'mosquitto:', this.dir]);
    this.proc = spawn(this.bin, ['-c', conf], { stdio: 'ignore' });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      await waitForPort(this.port, 15000, 'mosquitto', this.exited);
      await waitForPort(this.mtlsPort, 15000, 'mosquitto', this.exited);
    } catch (err) {
      err.message += `\n${this.readLog()}`;
      throw err;
    }
  }

  async stop() {
    if (!this.dir) return;
    try {
      if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
        this.proc.kill('SIGTERM');
        const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
        await this.exited;
        clearTimeout(timer);
      }
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
      this.proc = null;
    }
  }

  killNow() {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { useTls, freshRequire, ensureDebian, waitForPort, run, isRoot, MariaDb, Mosquitto };
