'use strict';
// A real client over STARTTLS: `pg` (from npm) against a real PostgreSQL
// server with ssl=on. pg opens a plain socket, sends SSLRequest, reads 'S'
// and upgrades with require('tls').connect({ socket, ...ssl }); here that
// require('tls') resolves to each implementation in turn (node:tls first,
// as the baseline), by a small Module._load hook installed by this file.
//
// The server is a throw-away cluster: initdb under a temporary folder, the
// fixtures' rsa leaf (SAN localhost, 127.0.0.1) as its certificate, a free
// loopback port, trust authentication for TLS connections from 127.0.0.1
// only (plain TCP is rejected, so a query that works went over TLS). It is
// stopped and the folder removed afterwards, even on failure.
//
// PostgreSQL's binaries are looked for in /usr/lib/postgresql/*/bin (or
// $PG_BIN). When they are missing and this runs as root with apt-get, the
// Debian package `postgresql` is installed; otherwise the test fails (it is
// never skipped).

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const nodeTls = require('node:tls');
const { impls, implNames, certs, closedPort, withTimeout, ROOT } = require('./helpers');

// ---------------------------------------------------------------------------
// require('tls') from pg resolves to the implementation under test
// ---------------------------------------------------------------------------

// Files of the package itself keep the real node:tls (index.js reuses parts
// of it); every other require('tls') / require('node:tls') that goes through
// Module._load gets `tlsTarget` while it is set.
const packageFiles = [path.join(ROOT, 'index.js'), path.join(ROOT, 'lib') + path.sep];
const isPackageFile = (file) => packageFiles.some((p) => file === p || (p.endsWith(path.sep) && file.startsWith(p)));
let tlsTarget = null;
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
after(() => {
  Module._load = originalLoad;
});

// ---------------------------------------------------------------------------
// A throw-away PostgreSQL cluster
// ---------------------------------------------------------------------------

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

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

function run(cmd, args, { asPostgres = false, timeout = 60000, env } = {}) {
  const [file, argv] = asPostgres && isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, LC_ALL: 'C', ...env },
    cwd: os.tmpdir(),
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    throw new Error(`${file} ${argv.join(' ')}: ${why}\n${r.stdout || ''}${r.stderr || ''}`);
  }
  return r.stdout;
}

/** Installs Debian's postgresql when its binaries are missing (root + apt-get only). */
function ensurePostgres() {
  let bin = findPgBin();
  if (bin) return bin;
  const hasApt = fs.existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    throw new Error(
      'PostgreSQL binaries not found in /usr/lib/postgresql/*/bin (set PG_BIN, or install ' +
        "Debian's package: apt-get install postgresql); this test needs a real server",
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { timeout: 300000, env });
  run('apt-get', ['install', '-y', '-qq', 'postgresql'], { timeout: 600000, env });
  bin = findPgBin();
  if (!bin) throw new Error('apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/initdb');
  return bin;
}

class Cluster {
  constructor(bin) {
    this.bin = bin;
    this.dir = null;
    this.port = null;
    this.started = false;
  }

  get data() {
    return path.join(this.dir, 'data');
  }

  get log() {
    return path.join(this.dir, 'postgres.log');
  }

  pg(tool, args, opts) {
    return run(path.join(this.bin, tool), args, { asPostgres: true, ...opts });
  }

  async start() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-pg-'));
    fs.chmodSync(this.dir, 0o700);
    let owner = null;
    if (isRoot) {
      // initdb refuses to run as root: the cluster belongs to `postgres`.
      const uid = Number(run('id', ['-u', 'postgres']).trim());
      const gid = Number(run('id', ['-g', 'postgres']).trim());
      owner = { uid, gid };
      fs.chownSync(this.dir, uid, gid);
    }
    const put = (name, data, mode) => {
      const file = path.join(this.dir, name);
      fs.writeFileSync(file, data, { mode });
      fs.chmodSync(file, mode);
      if (owner) fs.chownSync(file, owner.uid, owner.gid);
      return file;
    };
    // PostgreSQL refuses a key file readable by others.
    const certFile = put('server.crt', certs.rsa.cert, 0o644);
    const keyFile = put('server.key', certs.rsa.key, 0o600);

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
        `ssl_cert_file = '${certFile}'`,
        `ssl_key_file = '${keyFile}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 30',
        '',
      ].join('\n'),
    );
    // TLS from 127.0.0.1 only: a plain connection is rejected, so every
    // query that works went over TLS.
    fs.writeFileSync(
      path.join(this.data, 'pg_hba.conf'),
      [
        'local     all all              trust',
        'hostssl   all all 127.0.0.1/32 trust',
        'hostnossl all all 127.0.0.1/32 reject',
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
  }

  readLog() {
    try {
      return fs.readFileSync(this.log, 'utf8');
    } catch {
      return '(no log)';
    }
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
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

let pg;
let cluster;

before(
  async () => {
    try {
      pg = require('pg');
    } catch (err) {
      err.message = `pg is a devDependency of this package (npm install): ${err.message}`;
      throw err;
    }
    cluster = new Cluster(ensurePostgres());
    // Stop the server even if the runner exits without calling after(), or
    // is interrupted (then the signal is raised again once it is stopped).
    const stopQuietly = () => {
      try {
        cluster.stop();
      } catch {
        // exiting anyway
      }
    };
    process.once('exit', stopQuietly);
    for (const signal of ['SIGINT', 'SIGTERM']) {
      process.once(signal, () => {
        stopQuietly();
        process.kill(process.pid, signal);
      });
    }
    await cluster.start();
  },
  { timeout: 900000 },
);

after(() => {
  if (cluster) cluster.stop();
});

const sslOptions = () => ({ ca: certs.ca, servername: 'localhost' });

function clientConfig(ssl = sslOptions()) {
  return {
    host: '127.0.0.1',
    port: cluster.port,
    user: 'postgres',
    database: 'postgres',
    ssl,
    connectionTimeoutMillis: 10000,
  };
}

/** Connects a pg.Client; runs fn(client); always ends the client. */
async function withClient(fn, config = clientConfig()) {
  const client = new pg.Client(config);
  client.on('error', () => {});
  try {
    await withTimeout(client.connect(), 10000, 'pg connect');
    return await fn(client);
  } finally {
    await withTimeout(client.end(), 10000, 'pg end').catch(() => {});
  }
}

/** Resolves with the error a connection attempt fails with (fails if it connects). */
async function connectError(ssl) {
  const client = new pg.Client(clientConfig(ssl));
  client.on('error', () => {});
  try {
    await withTimeout(client.connect(), 10000, 'pg connect');
  } catch (err) {
    return err;
  } finally {
    await withTimeout(client.end(), 5000, 'pg end').catch(() => {});
  }
  assert.fail('the connection was expected to fail');
}

for (const name of implNames) {
  describe(`pg over ${name} to PostgreSQL with ssl=on`, () => {
    before(() => {
      tlsTarget = impls[name];
    });
    after(() => {
      tlsTarget = null;
    });

    test("pg_stat_ssl says ssl; the stream pg reads is this implementation's TLSSocket", async () => {
      await withClient(async (client) => {
        const stream = client.connection.stream;
        assert.ok(stream instanceof impls[name].TLSSocket, `pg's stream is a ${stream.constructor.name}`);
        if (name !== 'node') assert.ok(!(stream instanceof nodeTls.TLSSocket));
        assert.equal(stream.authorized, true, `authorizationError: ${stream.authorizationError}`);
        assert.equal(stream.getProtocol(), 'TLSv1.3');
        const { rows } = await client.query('select ssl, version from pg_stat_ssl where pid = pg_backend_pid()');
        assert.deepEqual(rows, [{ ssl: true, version: 'TLSv1.3' }]);
      });
    });

    test('a 20,000-row result arrives intact', async () => {
      await withClient(async (client) => {
        const { rows } = await client.query('select g as n, md5(g::text) as h from generate_series(1, 20000) g');
        assert.equal(rows.length, 20000);
        for (let i = 0; i < rows.length; i++) {
          const n = i + 1;
          if (rows[i].n !== n || rows[i].h !== crypto.createHash('md5').update(String(n)).digest('hex')) {
            assert.fail(`row ${i}: ${JSON.stringify(rows[i])}`);
          }
        }
      });
    });

    test('a 4 MiB result and a 1 MiB parameter cross intact', async () => {
      await withClient(async (client) => {
        const { rows } = await client.query("select repeat('0123456789abcdef', 262144) as s");
        assert.equal(rows[0].s, '0123456789abcdef'.repeat(262144));
        const big = crypto.randomBytes(512 * 1024).toString('hex');
        const r = await client.query('select length($1::text) as len, md5($1::text) as h', [big]);
        assert.deepEqual(r.rows, [{ len: big.length, h: crypto.createHash('md5').update(big).digest('hex') }]);
      });
    });

    test('eight clients at once, several queries each', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          withClient(async (client) => {
            let sum = 0;
            for (let q = 0; q < 5; q++) {
              const { rows } = await client.query('select sum(g)::int as s from generate_series(1, $1::int) g', [
                100 * (i + 1) + q,
              ]);
              sum += rows[0].s;
            }
            return sum;
          }),
        ),
      );
      const expected = Array.from({ length: 8 }, (_, i) => {
        let sum = 0;
        for (let q = 0; q < 5; q++) {
          const n = 100 * (i + 1) + q;
          sum += (n * (n + 1)) / 2;
        }
        return sum;
      });
      assert.deepEqual(results, expected);
    });

    test("no servername: the certificate's IP address matches host 127.0.0.1", async () => {
      await withClient(
        async (client) => {
          const { rows } = await client.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
          assert.deepEqual(rows, [{ ssl: true }]);
        },
        clientConfig({ ca: certs.ca }),
      );
    });

    test('a servername the certificate does not name is refused (ERR_TLS_CERT_ALTNAME_INVALID)', async () => {
      const err = await connectError({ ca: certs.ca, servername: 'wrong.example' });
      assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID', String(err && err.stack));
    });

    test('without the ca the server is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)', async () => {
      const err = await connectError({ servername: 'localhost' });
      assert.equal(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', String(err && err.stack));
    });
  });
}
