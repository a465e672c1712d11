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
const { useTls, freshRequire, MariaDb } = require('./libs');

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
