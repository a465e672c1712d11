'use strict';
// Helpers for the tests that run real libraries, unchanged, over each TLS
// implementation (mysql, smtp, mqtt, ws, redis and postgres tests).
//
// useTls(tls) + freshRequire(pkg): a fresh copy of the npm package `pkg` in
// which every require('tls') / require('node:tls') returns `tls`. Libraries
// take `tls` when their files load, so each implementation gets its own
// copy; the package's own files (index.js, lib/) keep the real node:tls.
//
// Real servers, each throw-away (a temporary folder, free loopback ports,
// TLS on with the fixtures' rsa leaf and the test CA, stopped at the end):
// MariaDb, Postgres, Redis and Mosquitto. When a server's binaries are
// missing and this runs as root with apt-get, its Debian package is
// installed (.ci/run does the same beforehand); otherwise the test fails, it
// is never skipped.

const fs = require('node:fs');
const Module = require('node:module');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { certs, closedPort, delay, FIXTURES, ROOT } = require('./helpers');

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

/** The folder of npm package `pkg` (its package.json need not be exported). */
function packageDir(pkg) {
  const main = require.resolve(pkg, { paths: [ROOT] });
  const marker = `${path.sep}node_modules${path.sep}${pkg}${path.sep}`;
  return main.slice(0, main.lastIndexOf(marker) + marker.length);
}

/**
 * A fresh copy of npm package `pkg`, loaded under the current useTls(), and
 * of the packages in `deps` that it loads and that take `tls` themselves
 * (mqtt's ws).
 */
function freshRequire(pkg, deps = []) {
  const dirs = [pkg, ...deps].map(packageDir);
  for (const key of Object.keys(require.cache)) {
    if (dirs.some((dir) => key.startsWith(dir))) delete require.cache[key];
  }
  return require(require.resolve(pkg, { paths: [ROOT] }));
}

/**
 * Runs __test__/apps/<app> in a child process, with `register`
 * ('--require' or '--import') rustls-tls/register or without (node:tls, the
 * baseline); resolves with the JSON of its last line of output. FIXTURES
 * and CHECK_PACKAGE (this package's path) are in its environment.
 */
function runApp(app, { register, env } = {}) {
  const args = [...(register ? [register, 'rustls-tls/register'] : []), path.join(__dirname, 'apps', app)];
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, NODE_OPTIONS: '', FIXTURES, CHECK_PACKAGE: ROOT, ...env },
  });
  if (r.status !== 0) throw new Error(`${app}: exit ${r.status} ${r.signal || ''}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a command (as `runAs` when root and given); its stdout, or throws with its output. */
function run(cmd, args, { timeout = 60000, env, input, runAs } = {}) {
  const [file, argv] = runAs && isRoot ? ['runuser', ['-u', runAs, '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, {
    encoding: 'utf8',
    timeout,
    input,
    env: { ...process.env, LC_ALL: 'C', ...env },
    cwd: os.tmpdir(),
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    throw new Error(`${file} ${argv.join(' ')}: ${why}\n${r.stdout || ''}${r.stderr || ''}`);
  }
  return r.stdout;
}

/**
 * `find()` (a path or an object of paths, null when missing); when it finds
 * nothing and this runs as root with apt-get, Debian's package `deb` is
 * installed first. Otherwise an error: these tests need the real server.
 */
function ensureDebian(find, deb, what) {
  let found = find();
  if (found) return found;
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`${what} not found: install Debian's package (apt-get install ${deb}); this test needs a real server`);
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { timeout: 300000, env });
  run('apt-get', ['install', '-y', '-qq', deb], { timeout: 600000, env });
  found = find();
  if (!found) throw new Error(`apt-get install ${deb} did not provide ${what}`);
  return found;
}

function which(bin) {
  for (const dir of ['/usr/sbin', '/usr/bin', ...(process.env.PATH || '').split(':')]) {
    const file = path.join(dir, bin);
    if (dir && fs.existsSync(file)) return file;
  }
  return null;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (fails if `exited` settles first). */
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
    const gone = await Promise.race([exited, delay(50).then(() => null)]);
    if (gone) throw new Error(`${what} exited before listening on ${port}: ${JSON.stringify(gone)}`);
    if (Date.now() > until) throw new Error(`${what} did not listen on ${port} within ${ms} ms`);
  }
}

/**
 * A server run as a child process with a folder of its own: the TLS files
 * written there (ca.pem, cert.pem, key.pem, readable by `owner` only), a
 * log, and stop() / killNow() that end the process and remove the folder.
 */
class ServerProcess {
  constructor(name) {
    this.name = name;
    this.dir = null;
    this.proc = null;
    this.exited = null;
  }

  /** Makes the folder, with the TLS files in it (owned by `owner` when root). */
  makeDir(owner) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `rustls-tls-${this.name}-`));
    fs.chmodSync(this.dir, 0o755);
    const put = (name, data, mode) => {
      const file = path.join(this.dir, name);
      fs.writeFileSync(file, data, { mode });
      return file;
    };
    this.files = {
      ca: put('ca.pem', certs.ca, 0o644),
      cert: put('cert.pem', certs.rsa.cert, 0o644),
      key: put('key.pem', certs.rsa.key, 0o600),
    };
    if (isRoot && owner) run('chown', ['-R', `${owner}:`, this.dir]);
  }

  get log() {
    return path.join(this.dir, `${this.name}.log`);
  }

  readLog() {
    try {
      return fs.readFileSync(this.log, 'utf8');
    } catch {
      return '(no log)';
    }
  }

  spawn(bin, args) {
    this.proc = spawn(bin, args, { stdio: 'ignore' });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits for the process to listen on each of `ports`; the log is in the error. */
  async listening(...ports) {
    try {
      for (const port of ports) await waitForPort(port, 30000, this.name, this.exited);
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
    this.dir = null;
  }
}

const mariaBins = ['mariadbd', 'mariadb-install-db', 'mariadb-admin', 'mariadb'];

/**
 * MariaDB (Debian's `mariadb-server`): mariadb-install-db into the folder,
 * mariadbd on a free loopback port with TLS on and require_secure_transport,
 * so a TCP client that gets in went over TLS.
 */
class MariaDb extends ServerProcess {
  constructor() {
    super('mariadb');
    this.bins = ensureDebian(() => {
      const bins = Object.fromEntries(mariaBins.map((b) => [b, which(b)]));
      return Object.values(bins).every(Boolean) ? bins : null;
    }, 'mariadb-server', 'MariaDB (mariadbd, mariadb-install-db)');
    this.port = null;
  }

  get socket() {
    return path.join(this.dir, 'mysqld.sock');
  }

  /** Runs SQL as root over the server's unix socket. */
  sql(statements) {
    return run(this.bins.mariadb, ['--no-defaults', `--socket=${this.socket}`, '-uroot', '--batch', '--skip-column-names'], {
      input: statements,
    });
  }

  /** Starts the server; `users` is SQL run once it is up. */
  async start(users = '') {
    const user = isRoot ? 'mysql' : os.userInfo().username;
    this.makeDir(isRoot && user);
    const data = path.join(this.dir, 'data');
    run(this.bins['mariadb-install-db'], [
      '--no-defaults',
      `--datadir=${data}`,
      `--user=${user}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ], { timeout: 120000 });
    this.port = await closedPort();
    this.spawn(this.bins.mariadbd, [
      '--no-defaults',
      `--user=${user}`,
      `--datadir=${data}`,
      `--socket=${this.socket}`,
      `--pid-file=${path.join(this.dir, 'mariadb.pid')}`,
      `--log-error=${this.log}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      `--ssl-ca=${this.files.ca}`,
      `--ssl-cert=${this.files.cert}`,
      `--ssl-key=${this.files.key}`,
      '--require-secure-transport=ON',
      '--innodb-buffer-pool-size=16M',
      '--skip-log-bin',
      '--max-connections=50',
    ]);
    const deadline = Date.now() + 60000;
    for (;;) {
      const r = spawnSync(this.bins['mariadb-admin'], ['--no-defaults', `--socket=${this.socket}`, '-uroot', 'ping'], {
        encoding: 'utf8',
        timeout: 10000,
      });
      if (r.status === 0) break;
      const gone = await Promise.race([this.exited, delay(200).then(() => null)]);
      if (gone || Date.now() > deadline) {
        throw new Error(`mariadbd did not start (${JSON.stringify(gone)}):\n${this.readLog()}`);
      }
    }
    if (users) this.sql(users);
  }
}

/** The bin folder of the newest PostgreSQL with initdb, pg_ctl and postgres, or null. */
function findPgBin() {
  const candidates = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const base = '/usr/lib/postgresql';
  if (fs.existsSync(base)) {
    const versions = fs
      .readdirSync(base)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(path.join(base, v, 'bin'));
  }
  return (
    candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(dir, b)))) ||
    null
  );
}

/**
 * A PostgreSQL cluster (Debian's `postgresql`; initdb refuses root, so it
 * belongs to `postgres` when this runs as root) with ssl=on, the test CA as
 * ssl_ca_file, on a free loopback port. Over TCP, TLS only: role `client`
 * logs in by its client certificate (CN client, `cert` authentication), any
 * other role is trusted; plain TCP is rejected, so a query that works went
 * over TLS.
 */
class Postgres extends ServerProcess {
  constructor() {
    super('postgres');
    this.bin = ensureDebian(findPgBin, 'postgresql', 'PostgreSQL (/usr/lib/postgresql/*/bin/initdb; or set PG_BIN)');
    this.port = null;
    this.started = false;
  }

  get data() {
    return path.join(this.dir, 'data');
  }

  pg(tool, args, opts) {
    return run(path.join(this.bin, tool), args, { runAs: 'postgres', ...opts });
  }

  async start() {
    this.makeDir(isRoot && 'postgres');
    fs.chmodSync(this.dir, 0o700);
    this.pg('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    this.port = await closedPort();
    fs.appendFileSync(
      path.join(this.data, 'postgresql.conf'),
      [
        '',
        '# rustls-tls test cluster',
        "listen_addresses = '127.0.0.1'",
        `port = ${this.port}`,
        `unix_socket_directories = '${this.dir}'`,
        'ssl = on',
        `ssl_cert_file = '${this.files.cert}'`,
        `ssl_key_file = '${this.files.key}'`,
        `ssl_ca_file = '${this.files.ca}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 30',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(this.data, 'pg_hba.conf'),
      [
        'local     all all                     trust',
        'hostssl   all client 127.0.0.1/32     cert',
        'hostssl   all all 127.0.0.1/32        trust',
        'hostnossl all all 127.0.0.1/32        reject',
        '',
      ].join('\n'),
    );
    try {
      this.started = true;
      this.pg('pg_ctl', ['-D', this.data, '-l', this.log, '-w', '-t', '30', 'start'], { timeout: 40000 });
    } catch (err) {
      err.message += `\n--- ${this.log} ---\n${this.readLog()}`;
      throw err;
    }
    this.pg('psql', ['-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-c', 'CREATE ROLE client LOGIN']);
  }

  stop() {
    if (!this.dir) return;
    try {
      if (this.started && fs.existsSync(path.join(this.data, 'postmaster.pid'))) {
        this.pg('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', '-t', '20', 'stop'], { timeout: 30000 });
      }
    } finally {
      this.started = false;
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
  }

  killNow() {
    try {
      this.stop();
    } catch {
      // exiting anyway
    }
  }
}

/**
 * redis-server (Debian's `redis-server`, or $REDIS_SERVER) listening for TLS
 * only (--port 0 --tls-port N); a client certificate is checked when one is
 * sent (tls-auth-clients optional).
 */
class Redis extends ServerProcess {
  constructor() {
    super('redis');
    this.bin = ensureDebian(
      () => [process.env.REDIS_SERVER, which('redis-server')].find((f) => f && fs.existsSync(f)) || null,
      'redis-server',
      'redis-server (or set REDIS_SERVER)',
    );
  }

  async start() {
    this.makeDir();
    this.port = await closedPort();
    this.spawn(this.bin, [
      '--port', '0',
      '--tls-port', String(this.port),
      '--bind', '127.0.0.1',
      '--tls-cert-file', this.files.cert,
      '--tls-key-file', this.files.key,
      '--tls-ca-cert-file', this.files.ca,
      '--tls-auth-clients', 'optional',
      '--dir', this.dir,
      '--save', '',
      '--appendonly', 'no',
      '--logfile', this.log,
    ]);
    await this.listening(this.port);
  }
}

/**
 * A Mosquitto broker (Debian's `mosquitto`) with two TLS listeners on free
 * loopback ports: `port` (server certificate only) and `mtlsPort`
 * (require_certificate: a client certificate issued by the test CA), and
 * `wssPort`: MQTT over WebSockets over TLS.
 */
class Mosquitto extends ServerProcess {
  constructor() {
    super('mosquitto');
    this.bin = ensureDebian(
      () => [process.env.MOSQUITTO, '/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((f) => f && fs.existsSync(f)) || null,
      'mosquitto',
      'mosquitto',
    );
  }

  async start() {
    // Started as root, mosquitto drops to its own user: the folder is its.
    this.makeDir(isRoot && 'mosquitto');
    this.port = await closedPort();
    this.mtlsPort = await closedPort();
    this.wssPort = await closedPort();
    const tlsFiles = [`cafile ${this.files.ca}`, `certfile ${this.files.cert}`, `keyfile ${this.files.key}`];
    const conf = path.join(this.dir, 'mosquitto.conf');
    fs.writeFileSync(conf, [
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
      `listener ${this.wssPort} 127.0.0.1`,
      'protocol websockets',
      ...tlsFiles,
      '',
    ].join('\n'));
    this.conf = conf;
    this.spawn(this.bin, ['-c', conf]);
    await this.listening(this.port, this.mtlsPort, this.wssPort);
  }

  /** Kills the broker with `signal` (its clients lose their connections) and starts it again on the same ports. */
  async restart(signal) {
    this.proc.kill(signal);
    await this.exited;
    this.spawn(this.bin, ['-c', this.conf]);
    await this.listening(this.port, this.mtlsPort, this.wssPort);
  }
}

module.exports = { useTls, freshRequire, runApp, MariaDb, Postgres, Redis, Mosquitto };
