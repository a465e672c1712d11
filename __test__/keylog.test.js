'use strict';
// 'keylog', differential: in every (server impl, client impl) pairing the
// lines are NSS key-log lines (Buffers ending in "\n"), the five TLS 1.3
// labels or TLS 1.2's CLIENT_RANDOM, and both ends log the same secrets
// (so a node:tls peer's lines equal ours, byte for byte). The server's event
// carries the socket; --tls-keylog writes the lines to a file.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { impls, implPairs, implPath, certs, scope, withTimeout } = require('./helpers');

const TLS13 = ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0'];

async function keylogs(t, S, C, version) {
  const sc = scope(t);
  const server = [];
  const client = [];
  const { server: srv, port } = await sc.server(S, { ...certs.rsa, minVersion: version, maxVersion: version },
                                                 (s) => s.end('x'));
  // Added after listen(), as Node's own test does.
  let socketSeen = true;
  srv.on('keylog', (line, socket) => {
    server.push(line);
    socketSeen = socketSeen && socket.encrypted === true && typeof socket.getProtocol === 'function';
  });
  let secureEvents = 0;
  srv.on('secureConnection', () => {
    secureEvents++;
    assert.equal(server.length > 0, true, "server 'keylog' comes before 'secureConnection'");
  });
  const c = sc.connect(C, { port, host: '127.0.0.1', rejectUnauthorized: false });
  c.on('keylog', (line) => client.push(line));
  let linesAtSecure = -1;
  c.on('secureConnect', () => { linesAtSecure = client.length; });
  c.resume();
  await withTimeout(new Promise((resolve) => c.on('close', resolve)), 5000, 'close');
  return { server, client, socketSeen, secureEvents, linesAtSecure };
}

function check(lines, version) {
  for (const l of lines) {
    assert.ok(Buffer.isBuffer(l));
    assert.match(l.toString(), /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+\n$/);
  }
  const labels = lines.map((l) => l.toString().split(' ')[0]).sort();
  assert.deepEqual(labels, version === 'TLSv1.3' ? TLS13 : ['CLIENT_RANDOM']);
}

describe('keylog', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    for (const [s, c] of implPairs()) {
      test(`${version}: ${s} server, ${c} client`, async (t) => {
        const r = await keylogs(t, impls[s], impls[c], version);
        check(r.server, version);
        check(r.client, version);
        // The same secrets on both ends, whichever implementation logs them.
        assert.deepEqual(r.server.map(String).sort(), r.client.map(String).sort());
        assert.equal(r.socketSeen, true);
        assert.equal(r.secureEvents, 1);
        // A server's lines come in OpenSSL's order, whichever server.
        if (version === 'TLSv1.3') {
          assert.deepEqual(r.server.map((l) => l.toString().split(' ')[0]), [
            'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'EXPORTER_SECRET',
            'SERVER_TRAFFIC_SECRET_0', 'CLIENT_TRAFFIC_SECRET_0',
          ]);
        }
        // All of a client's lines come before 'secureConnect'.
        assert.equal(r.linesAtSecure, r.client.length);
      });
    }
  }

  for (const [name, tls] of Object.entries(impls)) {
    test(`${name}: no listener, no lines; a listener on another socket does not see them`, async (t) => {
      const sc = scope(t);
      const { port } = await sc.server(tls, certs.rsa, (s) => s.end());
      const quiet = sc.connect(tls, { port, host: '127.0.0.1', rejectUnauthorized: false });
      const heard = [];
      const loud = sc.connect(tls, { port, host: '127.0.0.1', rejectUnauthorized: false });
      loud.on('keylog', (l) => heard.push(l));
      quiet.resume();
      loud.resume();
      await Promise.all([quiet, loud].map((s) => new Promise((resolve) => s.on('close', resolve))));
      assert.equal(heard.length, 5);
      assert.equal(quiet.listenerCount('keylog'), 0);
    });
  }

  for (const [s, c] of implPairs()) {
    test(`--tls-keylog=FILE: ${s} server, ${c} client write the same TLS 1.2 line twice`, () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keylog-'));
      const file = path.join(dir, 'keys.log');
      const script = `
        const S = require(${JSON.stringify(implPath(s))});
        const C = require(${JSON.stringify(implPath(c))});
        const key = ${JSON.stringify(certs.rsa.key.toString())};
        const cert = ${JSON.stringify(certs.rsa.cert.toString())};
        const server = S.createServer({ key, cert, maxVersion: 'TLSv1.2' }, (s) => s.end());
        server.listen(0, '127.0.0.1', () => {
          const c = C.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false });
          c.resume();
          c.on('close', () => server.close());
        });`;
      const r = spawnSync(process.execPath, [`--tls-keylog=${file}`, '-e', script], { encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /Using --tls-keylog makes TLS connections insecure/);
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 2);
      assert.equal(lines[0], lines[1]);
      assert.match(lines[0], /^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      fs.rmSync(dir, { recursive: true });
    });
  }
});
