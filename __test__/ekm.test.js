'use strict';
// exportKeyingMaterial(length, label[, context]), differential: in every
// (server impl, client impl) pairing, TLS 1.2 and 1.3, both ends derive the
// same bytes (so ours equal node:tls's on the other end), with and without
// a context, and the argument errors are Node's.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const net = require('node:net');
const { impls, implPairs, certs, scope, withTimeout } = require('./helpers');

async function exported(t, S, C, version) {
  const sc = scope(t);
  const out = {};
  const serverSide = new Promise((resolve) => {
    sc.server(S, { ...certs.rsa, minVersion: version, maxVersion: version }, (s) => {
      resolve({
        plain: s.exportKeyingMaterial(48, 'EXPORTER-rustls-tls'),
        ctx: s.exportKeyingMaterial(48, 'EXPORTER-rustls-tls', Buffer.from([1, 2, 3])),
        empty: s.exportKeyingMaterial(48, 'EXPORTER-rustls-tls', new Uint8Array(0)),
        long: s.exportKeyingMaterial(1000, 'EXPORTER long'),
      });
      s.end();
    }).then(({ port }) => {
      const c = sc.connect(C, { port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        out.client = {
          plain: c.exportKeyingMaterial(48, 'EXPORTER-rustls-tls'),
          ctx: c.exportKeyingMaterial(48, 'EXPORTER-rustls-tls', Buffer.from([1, 2, 3])),
          empty: c.exportKeyingMaterial(48, 'EXPORTER-rustls-tls', new Uint8Array(0)),
          long: c.exportKeyingMaterial(1000, 'EXPORTER long'),
        };
        c.resume();
      });
    });
  });
  out.server = await withTimeout(serverSide, 5000, 'server');
  while (!out.client) await new Promise((r) => setTimeout(r, 5));
  return out;
}

describe('exportKeyingMaterial', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    for (const [s, c] of implPairs()) {
      test(`${version}: ${s} server, ${c} client derive the same material`, async (t) => {
        const { server, client } = await exported(t, impls[s], impls[c], version);
        assert.equal(server.plain.length, 48);
        assert.equal(server.long.length, 1000);
        assert.ok(Buffer.isBuffer(client.plain));
        assert.deepEqual(client, server);
        assert.notDeepEqual(server.plain, server.ctx);
        // RFC 5705: no context and an empty one differ in TLS 1.2 only.
        if (version === 'TLSv1.2') assert.notDeepEqual(server.plain, server.empty);
        else assert.deepEqual(server.plain, server.empty);
      });
    }
  }

  for (const [name, tls] of Object.entries(impls)) {
    test(`${name}: argument errors and state`, async (t) => {
      const sc = scope(t);
      const { port } = await sc.server(tls, certs.rsa, (s) => s.end());
      const raw = new net.Socket();
      const early = new tls.TLSSocket(raw, {});
      assert.throws(() => early.exportKeyingMaterial(16, 'x'), {
        name: 'Error', code: 'ERR_TLS_INVALID_STATE',
        message: 'TLS socket connection must be securely established',
      });
      early.destroy();
      const c = await sc.connected(tls, { port, host: '127.0.0.1', rejectUnauthorized: false });
      const shape = (fn) => {
        try { fn(); return null; } catch (e) { return [e.name, e.code, e.message]; }
      };
      const cases = [
        () => c.exportKeyingMaterial(16, 'x', 'string context'),
        () => c.exportKeyingMaterial(16, 'x', 1234),
        () => c.exportKeyingMaterial(16, null),
        () => c.exportKeyingMaterial('16', 'x'),
        () => c.exportKeyingMaterial(-3, 'x'),
        () => c.exportKeyingMaterial(0, 'x'),
        () => c.exportKeyingMaterial(1.5, 'x'),
        () => c.exportKeyingMaterial(2 ** 32, 'x'),
      ].map(shape);
      assert.deepEqual(cases.map((r) => r && r.slice(0, 2)), [
        ['TypeError', 'ERR_INVALID_ARG_TYPE'], ['TypeError', 'ERR_INVALID_ARG_TYPE'],
        ['TypeError', 'ERR_INVALID_ARG_TYPE'], ['TypeError', 'ERR_INVALID_ARG_TYPE'],
        ['RangeError', 'ERR_OUT_OF_RANGE'], ['RangeError', 'ERR_OUT_OF_RANGE'],
        ['RangeError', 'ERR_OUT_OF_RANGE'], ['RangeError', 'ERR_OUT_OF_RANGE'],
      ]);
      t.diagnostic(JSON.stringify(cases));
      c.end();
      await once(c, 'close');
    });
  }

  for (const [name, tls] of Object.entries(impls)) {
    test(`${name}: labels TLS 1.2 reserves are refused on TLS 1.2, taken on TLS 1.3`, async (t) => {
      for (const version of ['TLSv1.2', 'TLSv1.3']) {
        const sc = scope(t);
        const { port } = await sc.server(tls, { ...certs.rsa, maxVersion: version }, (s) => s.end());
        const c = await sc.connected(tls, { port, host: '127.0.0.1', rejectUnauthorized: false });
        for (const label of ['client finished', 'server finished', 'master secret', 'extended master secret',
          'key expansion', 'client finished, and more']) {
          if (version === 'TLSv1.3') {
            assert.equal(c.exportKeyingMaterial(16, label).length, 16);
            continue;
          }
          assert.throws(() => c.exportKeyingMaterial(16, label), {
            name: 'Error', code: 'ERR_SSL_TLS_ILLEGAL_EXPORTER_LABEL',
            message: 'error:0A00016F:SSL routines::tls illegal exporter label',
            library: 'SSL routines', reason: 'tls illegal exporter label',
          });
        }
        assert.equal(c.exportKeyingMaterial(16, 'Client Finished').length, 16);
        c.destroy();
      }
    });
  }

  test('error messages equal node:tls\'s', { skip: !(impls.node && impls.rustls) && 'needs both' }, async (t) => {
    const msgs = {};
    for (const [name, tls] of Object.entries(impls)) {
      const sc = scope(t);
      const { port } = await sc.server(tls, certs.rsa, (s) => s.end());
      const c = await sc.connected(tls, { port, host: '127.0.0.1', rejectUnauthorized: false });
      msgs[name] = [[16, 'x', 'ctx'], [16, null], ['16', 'x'], [-3, 'x'], [0, 'x'], [1.5, 'x']].map((args) => {
        try { c.exportKeyingMaterial(...args); return null; } catch (e) { return e.message; }
      });
      c.destroy();
    }
    assert.deepEqual(msgs.rustls, msgs.node);
  });
});
