'use strict';
// Real clients over STARTTLS against a real PostgreSQL with ssl=on (./libs.js
// Postgres): `pg` (plain socket, SSLRequest, 'S', then
// require('tls').connect({ socket, ...ssl })) and `postgres` (porsager's
// driver, the same upgrade with its own option handling). Each driver is
// loaded once per implementation with require('tls') resolved to it
// (./libs.js useTls + freshRequire); node:tls runs first, as the baseline,
// and the outcomes of this package must be the same: rows, TLS version,
// client-certificate login, error codes.
//
// Over TCP the cluster takes TLS only (plain TCP is rejected, so a query
// that works went over TLS); role `client` logs in by its certificate.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const nodeTls = require('node:tls');
const { impls, implNames, certs, delay, withTimeout } = require('./helpers');
const { useTls, freshRequire, runApp, Postgres } = require('./libs');

let cluster;

before(async () => {
  cluster = new Postgres();
  // Stop the server even if the runner exits without calling after().
  process.once('exit', () => cluster.killNow());
  await cluster.start();
}, { timeout: 900000 });

after(() => {
  useTls(null);
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

let pg;

for (const name of implNames) {
  describe(`pg over ${name} to PostgreSQL with ssl=on`, () => {
    before(() => {
      useTls(impls[name]);
      pg = freshRequire('pg');
    });
    after(() => useTls(null));

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

    test('role client logs in by its client certificate; without it PostgreSQL refuses the login (28000)', async () => {
      await withClient(async (client) => {
        const { rows } = await client.query('select current_user as who, client_dn from pg_stat_ssl where pid = pg_backend_pid()');
        assert.deepEqual(rows, [{ who: 'client', client_dn: '/CN=client' }]);
      }, { ...clientConfig({ ...sslOptions(), ...certs.client }), user: 'client' });
      const client = new pg.Client({ ...clientConfig(), user: 'client' });
      client.on('error', () => {});
      const err = await withTimeout(client.connect(), 10000, 'pg connect').then(() => null, (e) => e);
      await client.end().catch(() => {});
      assert.equal(err && err.code, '28000', String(err && err.stack));
    });

    // With ssl_ca_file set, OpenSSL on the server sends the CA after its leaf.
    test('without the ca the server is not trusted (SELF_SIGNED_CERT_IN_CHAIN)', async () => {
      const err = await connectError({ servername: 'localhost' });
      assert.equal(err.code, 'SELF_SIGNED_CERT_IN_CHAIN', String(err && err.stack));
    });
  });
}

// ---------------------------------------------------------------------------
// porsager's `postgres`
// ---------------------------------------------------------------------------

const porsagerBaseline = {};

for (const name of implNames) {
  describe(`postgres (porsager) over ${name} to PostgreSQL with ssl=on`, () => {
    let postgres;
    before(() => {
      useTls(impls[name]);
      postgres = freshRequire('postgres');
    });
    after(() => useTls(null));

    const connectOptions = (ssl, extra) => ({
      host: '127.0.0.1',
      port: cluster.port,
      user: 'postgres',
      database: 'postgres',
      ssl,
      max: 4,
      connect_timeout: 10,
      idle_timeout: 5,
      onnotice: () => {},
      ...extra,
    });

    /** Runs fn(sql) with a pool; always ends it. */
    async function withSql(fn, ssl = sslOptions(), extra) {
      const sql = postgres(connectOptions(ssl, extra));
      try {
        return await fn(sql);
      } finally {
        await withTimeout(sql.end({ timeout: 5 }), 10000, 'sql.end');
      }
    }

    /** The code (and PostgreSQL's code) of a first query that must fail. */
    async function failure(ssl, extra) {
      const err = await withSql((sql) => withTimeout(sql`select 1`, 15000, 'query'), ssl, extra).then(() => null, (e) => e);
      assert.ok(err, 'the query was expected to fail');
      return { code: err.code };
    }

    test('queries over TLS 1.3 on this implementation, 20,000 rows, a 1 MiB parameter, four connections at once', async () => {
      await withSql(async (sql) => {
        const [ssl] = await sql`select ssl, version from pg_stat_ssl where pid = pg_backend_pid()`;
        assert.deepEqual({ ...ssl }, { ssl: true, version: 'TLSv1.3' });
        const rows = await sql`select g as n, md5(g::text) as h from generate_series(1, 20000) g`;
        assert.equal(rows.length, 20000);
        assert.ok(rows.every((r, i) => r.n === i + 1 && r.h === crypto.createHash('md5').update(String(i + 1)).digest('hex')));
        const big = crypto.randomBytes(512 * 1024).toString('hex');
        const [r] = await sql`select length(${big}::text) as len, md5(${big}::text) as h`;
        assert.deepEqual({ ...r }, { len: big.length, h: crypto.createHash('md5').update(big).digest('hex') });
        const pids = await Promise.all(Array.from({ length: 8 }, () => sql`select pg_backend_pid() as pid, pg_sleep(0.05)`));
        assert.ok(new Set(pids.map(([p]) => p.pid)).size > 1, 'the pool used more than one connection');
        const [{ n }] = await sql`select count(*)::int as n from pg_stat_ssl where ssl and pid in (select pid from pg_stat_activity where usename = 'postgres' and backend_type = 'client backend')`;
        assert.ok(n >= 2, `${n} TLS connections`);
      });
    });

    test("the driver's sockets are this implementation's; LISTEN/NOTIFY; a reconnect after the server ends the connection", async () => {
      const made = [];
      const connect = impls[name].connect;
      impls[name].connect = function watched(...args) {
        const socket = connect.apply(this, args);
        made.push(socket);
        return socket;
      };
      try {
        await withSql(async (sql) => {
          const got = [];
          let resolveAll;
          const all = new Promise((resolve) => { resolveAll = resolve; });
          await withTimeout(sql.listen('news', (payload) => {
            got.push(payload);
            if (got.length === 3) resolveAll();
          }), 10000, 'listen');
          for (const m of ['a', 'b', 'c']) await sql`select pg_notify('news', ${m})`;
          await withTimeout(all, 10000, 'notifications');
          assert.deepEqual(got, ['a', 'b', 'c']);
          // pg_terminate_backend from another connection: PostgreSQL ends this one.
          const [{ pid }] = await sql`select pg_backend_pid() as pid`;
          await withSql(async (admin) => {
            const [{ done }] = await admin`select pg_terminate_backend(${pid}) as done`;
            assert.equal(done, true);
          });
          await delay(100);
          const results = [];
          for (let i = 0; i < 3; i++) {
            results.push(await sql`select ${i}::int as i, pg_backend_pid() as pid`.then(([r]) => [r.i, r.pid !== pid], (e) => e.code));
          }
          assert.deepEqual(results, [[0, true], [1, true], [2, true]]);
        }, sslOptions(), { max: 1 });
        assert.ok(made.length >= 2, `${made.length} TLS sockets`);
        assert.ok(made.every((s) => s instanceof impls[name].TLSSocket));
        if (name !== 'node') assert.ok(made.every((s) => !(s instanceof nodeTls.TLSSocket)));
      } finally {
        impls[name].connect = connect;
      }
    });

    test('role client logs in by its client certificate', async () => {
      await withSql(async (sql) => {
        const [r] = await sql`select current_user as who, ssl, client_dn from pg_stat_ssl where pid = pg_backend_pid()`;
        assert.deepEqual({ ...r }, { who: 'client', ssl: true, client_dn: '/CN=client' });
      }, { ca: certs.ca, servername: 'localhost', ...certs.client }, { user: 'client' });
    });

    test("failing connections fail as under node:tls: no client certificate, wrong CA, wrong name, no name", async () => {
      const got = {
        noClientCert: await failure(sslOptions(), { user: 'client' }),
        wrongCa: await failure({ ca: certs.client.cert, servername: 'localhost' }),
        noCa: await failure({ servername: 'localhost' }),
        wrongName: await failure({ ca: certs.ca, servername: 'wrong.example' }),
        // No servername: the name checked is the socket's host, 127.0.0.1 (in the certificate).
        noName: await withSql((sql) => sql`select 1 as one`, { ca: certs.ca }).then(([r]) => r.one, (e) => e.code),
      };
      assert.equal(got.wrongName.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(got.noCa.code, 'SELF_SIGNED_CERT_IN_CHAIN');
      if (name === 'node') porsagerBaseline.failures = got;
      else assert.deepEqual(got, porsagerBaseline.failures);
    });
  });
}

// ESM: porsager's `postgres` loaded as ESM (src/, `import tls from 'tls'`)
// by an unchanged application, run with `--import rustls-tls/register` and,
// as the baseline, without.
test('postgres as ESM through --import rustls-tls/register: the same answer over this package\'s sockets', () => {
  const env = { DRIVER: 'postgres', DB_PORT: String(cluster.port) };
  const baseline = runApp('esm-db-app.mjs', { env });
  assert.deepEqual(baseline, { ssl: true, version: 'TLSv1.3', sockets: 1, isPackageSocket: false, tlsIsPackage: false });
  assert.deepEqual(runApp('esm-db-app.mjs', { register: '--import', env }), { ...baseline, isPackageSocket: true, tlsIsPackage: true });
});
