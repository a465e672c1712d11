'use strict';
// Real drivers, unchanged, against a real MariaDB that requires TLS:
// `mysql` (new TLSSocket(socket, { secureContext, isServer: false }),
// _start(), then ssl.verifyError() in 'secure') and `mysql2`
// (tls.connect({ socket, secureContext, ... })). Each driver is loaded once
// per implementation with require('tls') resolved to it (./libs.js), and
// the same scenario runs on node:tls first, as the baseline: the results
// (rows, TLS version, error codes) must be the same.
//
// The server (./libs.js MariaDb) has require_secure_transport=ON, the
// fixtures' rsa leaf (SAN localhost, 127.0.0.1) and the test CA as ssl_ca.
// Users: `tls` (REQUIRE SSL) and `x509` (REQUIRE X509: a client
// certificate issued by the test CA).

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { impls, implNames, certs, withTimeout } = require('./helpers');
const { useTls, freshRequire, runApp, MariaDb } = require('./libs');

let db;

before(async () => {
  db = new MariaDb();
  process.once('exit', () => db.killNow());
  await db.start(`
    CREATE DATABASE t;
    CREATE USER 'tls'@'%' IDENTIFIED BY 'tls-pw' REQUIRE SSL;
    CREATE USER 'x509'@'%' IDENTIFIED BY 'x509-pw' REQUIRE X509;
    GRANT ALL ON t.* TO 'tls'@'%';
    GRANT ALL ON t.* TO 'x509'@'%';
  `);
}, { timeout: 900000 });

after(async () => {
  if (db) await db.stop();
});

/**
 * `tls` with its TLSSocket and connect() watched: every socket a driver
 * makes is recorded, so a test can tell that the driver used this module.
 */
function watched(tls) {
  const made = [];
  const TLSSocket = new Proxy(tls.TLSSocket, {
    construct(target, args, newTarget) {
      const socket = Reflect.construct(target, args, newTarget);
      made.push(socket);
      return socket;
    },
  });
  const connect = (...args) => {
    const socket = tls.connect(...args);
    made.push(socket);
    return socket;
  };
  const mod = Object.create(tls, {
    TLSSocket: { value: TLSSocket, enumerable: true },
    connect: { value: connect, enumerable: true },
  });
  return { mod, made };
}

// The outcome of a connection attempt, in terms both implementations share.
function outcome(err) {
  if (!err) return { ok: true };
  return { ok: false, code: err.code, message: err.message };
}

// Callback API of both drivers, as promises.
const call = (fn) => new Promise((resolve, reject) => fn((err, ...rest) => (err ? reject(err) : resolve(rest))));

async function session(driver, options, fn) {
  const conn = driver.createConnection({
    host: '127.0.0.1',
    port: db.port,
    database: 't',
    connectTimeout: 10000,
    ...options,
  });
  conn.on('error', () => {});
  try {
    await withTimeout(call((cb) => conn.connect(cb)), 15000, 'connect');
    return fn ? await fn(conn) : undefined;
  } finally {
    await withTimeout(call((cb) => conn.end(cb)), 10000, 'end').catch(() => conn.destroy());
  }
}

async function query(conn, sql, values) {
  const [rows] = await withTimeout(call((cb) => conn.query(sql, values, cb)), 15000, sql);
  return rows;
}

async function sslStatus(conn) {
  const rows = await query(conn, "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')");
  return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
}

// Connects and reports what happened: ok, or the error's code.
async function attempt(driver, options) {
  try {
    await session(driver, options);
    return outcome(null);
  } catch (err) {
    return outcome(err);
  }
}

const tlsUser = { user: 'tls', password: 'tls-pw' };
const x509User = { user: 'x509', password: 'x509-pw' };

for (const driverName of ['mysql', 'mysql2']) {
  describe(`${driverName} against MariaDB with TLS required`, () => {
    const baseline = {};

    for (const name of implNames) {
      describe(`require('tls') = ${name}`, () => {
        const { mod, made } = watched(impls[name]);
        let driver;
        before(() => {
          useTls(mod);
          driver = freshRequire(driverName);
        });
        after(() => useTls(null));

        test('REQUIRE SSL user: TLS 1.3, queries and a 1 MiB value round-trip, over this implementation', async () => {
          const before = made.length;
          await session(driver, { ...tlsUser, ssl: { ca: certs.ca } }, async (conn) => {
            assert.deepEqual(Object.keys(await sslStatus(conn)).sort(), ['Ssl_cipher', 'Ssl_version']);
            assert.equal((await sslStatus(conn)).Ssl_version, 'TLSv1.3');
            const [{ s }] = await query(conn, 'SELECT 40 + 2 AS s');
            assert.equal(s, 42);
            const blob = crypto.randomBytes(1 << 20).toString('base64');
            const [{ n, h }] = await query(conn, 'SELECT LENGTH(?) AS n, SHA2(?, 256) AS h', [blob, blob]);
            assert.equal(n, blob.length);
            assert.equal(h, crypto.createHash('sha256').update(blob).digest('hex'));
            const [{ back }] = await query(conn, 'SELECT ? AS back', [blob]);
            assert.equal(back, blob);
            const rows = await query(conn, 'SELECT seq, MD5(seq) AS m FROM seq_1_to_20000');
            assert.equal(rows.length, 20000);
            assert.ok(rows.every((r, i) => r.seq === i + 1 && r.m === crypto.createHash('md5').update(String(i + 1)).digest('hex')));
          });
          assert.equal(made.length, before + 1, 'the driver made its TLS socket with this implementation');
          assert.ok(made[made.length - 1] instanceof impls[name].TLSSocket);
        });

        test('TLS options the driver puts on a SecureContext (maxVersion, ciphers) apply, as on node:tls', async () => {
          const ssl = { ca: certs.ca, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256' };
          let status;
          await session(driver, { ...tlsUser, ssl }, async (conn) => { status = await sslStatus(conn); });
          if (driverName === 'mysql2') assert.equal(status.Ssl_version, 'TLSv1.2');
          if (name === 'node') baseline.contextOptions = status;
          else assert.deepEqual(status, baseline.contextOptions);
        });

        test('REQUIRE X509 user with the client certificate gets in; its certificate is what the server saw', async () => {
          await session(driver, { ...x509User, ssl: { ca: certs.ca, ...certs.client } }, async (conn) => {
            assert.equal((await sslStatus(conn)).Ssl_version, 'TLSv1.3');
            const [{ who }] = await query(conn, 'SELECT CURRENT_USER() AS who');
            assert.equal(who, 'x509@%');
          });
        });

        test('the same outcomes as node:tls: no client cert for REQUIRE X509, untrusted server, rejectUnauthorized false', async () => {
          const got = {
            x509WithoutCert: await attempt(driver, { ...x509User, ssl: { ca: certs.ca } }),
            untrusted: await attempt(driver, { ...tlsUser, ssl: {} }),
            untrustedAllowed: await attempt(driver, { ...tlsUser, ssl: { rejectUnauthorized: false } }),
            wrongCa: await attempt(driver, { ...tlsUser, ssl: { ca: certs.client.cert } }),
          };
          assert.equal(got.x509WithoutCert.code, 'ER_ACCESS_DENIED_ERROR');
          assert.equal(got.untrusted.ok, false);
          assert.deepEqual(got.untrustedAllowed, { ok: true });
          if (name === 'node') baseline.outcomes = got;
          else assert.deepEqual(got, baseline.outcomes);
        });

        if (driverName === 'mysql') {
          test("mysql's own path: 'secure', then ssl.verifyError() decides; its message reaches connect()", async () => {
            const err = await session(driver, { ...tlsUser, ssl: { ca: certs.client.cert } }).then(() => null, (e) => e);
            assert.ok(err, 'the connection must fail');
            assert.equal(err.code, 'HANDSHAKE_SSL_ERROR');
            assert.equal(err.fatal, true);
            assert.match(err.message, /^self-signed certificate in certificate chain/);
            const socket = made[made.length - 1];
            assert.ok(socket instanceof impls[name].TLSSocket);
            assert.equal(socket.authorized, false, 'a TLSSocket made directly is not judged by tls');
          });
        }
      });
    }
  });
}

// The `mariadb` connector (ESM, with a CommonJS build that require()s
// node:tls): tls.connect({ socket, ...ssl }) after the server's greeting,
// then its own checkServerIdentity() on the peer certificate. A pool, a
// 1 MiB value, the X509 user, and the outcomes node:tls gives.
describe('mariadb connector against MariaDB with TLS required', () => {
  const baseline = {};
  for (const name of implNames) {
    describe(`require('node:tls') = ${name}`, () => {
      const { mod, made } = watched(impls[name]);
      let mariadb;
      before(() => {
        useTls(mod);
        mariadb = freshRequire('mariadb');
      });
      after(() => useTls(null));

      const options = (extra) => ({ host: '127.0.0.1', port: db.port, database: 't', connectTimeout: 10000, ...extra });

      async function withConn(extra, fn) {
        const conn = await withTimeout(mariadb.createConnection(options(extra)), 15000, 'mariadb connect');
        try {
          return await fn(conn);
        } finally {
          await withTimeout(conn.end(), 10000, 'mariadb end').catch(() => conn.destroy());
        }
      }

      async function attemptMariadb(extra) {
        try {
          await withConn(extra, () => {});
          return { ok: true };
        } catch (err) {
          return { ok: false, code: err.code, sqlState: err.sqlState };
        }
      }

      const status = async (conn) => Object.fromEntries((await conn.query(
        "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version')")).map((r) => [r.Variable_name, r.Value]));

      test('REQUIRE SSL user: TLS 1.3 over this implementation, a 1 MiB value and 20,000 rows, a pool of 4', async () => {
        const before = made.length;
        await withConn({ ...tlsUser, ssl: { ca: certs.ca, servername: 'localhost' } }, async (conn) => {
          assert.deepEqual(await status(conn), { Ssl_version: 'TLSv1.3' });
          const blob = crypto.randomBytes(1 << 20).toString('base64');
          const [{ back }] = await conn.query('SELECT ? AS back', [blob]);
          assert.equal(back, blob);
          const rows = await conn.query('SELECT seq FROM seq_1_to_20000');
          assert.equal(rows.length, 20000);
          assert.ok(rows.every((r, i) => Number(r.seq) === i + 1));
        });
        assert.equal(made.length, before + 1);
        assert.ok(made[made.length - 1] instanceof impls[name].TLSSocket);
        const pool = mariadb.createPool(options({ ...tlsUser, ssl: { ca: certs.ca }, connectionLimit: 4 }));
        try {
          const ids = await Promise.all(Array.from({ length: 8 }, () =>
            pool.query('SELECT CONNECTION_ID() AS id, SLEEP(0.05) AS s').then(([r]) => Number(r.id))));
          assert.ok(new Set(ids).size > 1, 'several pooled connections');
        } finally {
          await pool.end();
        }
      });

      test('REQUIRE X509 user with the client certificate', async () => {
        await withConn({ ...x509User, ssl: { ca: certs.ca, ...certs.client } }, async (conn) => {
          const [{ who }] = await conn.query('SELECT CURRENT_USER() AS who');
          assert.equal(who, 'x509@%');
        });
      });

      test('the same outcomes as node:tls: no client cert, wrong CA, no CA, wrong name, rejectUnauthorized false', async () => {
        const got = {
          x509WithoutCert: await attemptMariadb({ ...x509User, ssl: { ca: certs.ca } }),
          wrongCa: await attemptMariadb({ ...tlsUser, ssl: { ca: certs.client.cert } }),
          noCa: await attemptMariadb({ ...tlsUser, ssl: {} }),
          wrongName: await attemptMariadb({ ...tlsUser, ssl: { ca: certs.ca, servername: 'wrong.example' } }),
          untrustedAllowed: await attemptMariadb({ ...tlsUser, ssl: { rejectUnauthorized: false } }),
        };
        assert.equal(got.x509WithoutCert.code, 'ER_ACCESS_DENIED_ERROR');
        assert.equal(got.wrongName.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
        assert.deepEqual(got.untrustedAllowed, { ok: true });
        if (name === 'node') baseline.outcomes = got;
        else assert.deepEqual(got, baseline.outcomes);
      });
    });
  }
});

// ESM: the mariadb connector loaded as ESM (lib/, `import tls from
// 'node:tls'`) by an unchanged application, run with `--import
// rustls-tls/register` and, as the baseline, without.
test('mariadb as ESM through --import rustls-tls/register: the same answer over this package\'s sockets', () => {
  const env = { DRIVER: 'mariadb', DB_PORT: String(db.port) };
  const baseline = runApp('esm-db-app.mjs', { env });
  assert.deepEqual(baseline, { ssl: true, version: 'TLSv1.3', sockets: 1, isPackageSocket: false, tlsIsPackage: false });
  assert.deepEqual(runApp('esm-db-app.mjs', { register: '--import', env }), { ...baseline, isPackageSocket: true, tlsIsPackage: true });
});
