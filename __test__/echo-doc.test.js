'use strict';
// The module doc's echo server, unchanged but for the port (0) and the
// implementation, with the key and certificate made by the doc's own openssl
// recipe (a self-signed X.509 v1 certificate, CN=localhost, no extensions).

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, readBytes, withTimeout, recordEvents } = require('./helpers');

const WELCOME = 'welcome!\n';

/** The doc's server: createServer(options, s => { write welcome; pipe }). */
function docServer(sc, tls) {
  const options = { key: certs.doc.key, cert: certs.doc.cert };
  return sc.server(
    tls,
    options,
    function (s) {
      s.write('welcome!\n');
      s.pipe(s);
    },
    {}, // listen(0): every address, as the doc's listen(8000)
  );
}

for (const [sName, cName] of implPairs()) {
  describe(`doc echo server: ${sName} server, ${cName} client`, () => {
    test('client with ca: doc-cert is authorized, gets welcome and echo', async (t) => {
      const sc = scope(t);
      const { port } = await docServer(sc, impls[sName]);
      // host defaults to 'localhost', which matches the cert's CN.
      const client = sc.connect(impls[cName], { port, ca: [certs.doc.cert] });
      const events = recordEvents(client, ['secureConnect', 'end', 'close', 'error']);
      await withTimeout(once(client, 'secureConnect'), 5000, 'secureConnect');
      assert.equal(client.authorized, true);
      assert.equal(client.authorizationError, null);
      assert.equal(client.encrypted, true);
      const welcome = await withTimeout(readBytes(client, WELCOME.length), 5000, 'welcome');
      assert.equal(welcome.toString(), WELCOME);
      const line = 'hello from the client\n';
      client.write(line);
      const echo = await withTimeout(readBytes(client, line.length), 5000, 'echo');
      assert.equal(echo.toString(), line);
      client.end();
      await withTimeout(once(client, 'close'), 5000, 'client close');
      // The server pipes its end into its own writable: our end() comes back.
      assert.deepEqual(events, ['secureConnect', 'end', 'close:false']);
    });

    test('connect(port, options, callback) form, callback is a secureConnect listener', async (t) => {
      const sc = scope(t);
      const { port } = await docServer(sc, impls[sName]);
      let calledWith;
      const client = sc.track(
        impls[cName].connect(port, { ca: certs.doc.cert }, function () {
          calledWith = this;
        }),
      );
      await withTimeout(once(client, 'secureConnect'), 5000, 'secureConnect');
      assert.equal(calledWith, client);
      assert.equal(client.authorized, true);
      assert.equal((await readBytes(client, WELCOME.length)).toString(), WELCOME);
    });

    test('rejectUnauthorized:false, no ca: authorized false, DEPTH_ZERO_SELF_SIGNED_CERT', async (t) => {
      const sc = scope(t);
      const { port } = await docServer(sc, impls[sName]);
      const client = sc.connect(impls[cName], { port, rejectUnauthorized: false });
      const errors = [];
      client.on('error', (e) => errors.push(e));
      await withTimeout(once(client, 'secureConnect'), 5000, 'secureConnect');
      assert.equal(client.authorized, false);
      // node:tls reports the verify error as its code string (not an Error).
      assert.equal(client.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      // The connection is usable all the same.
      assert.equal((await readBytes(client, WELCOME.length)).toString(), WELCOME);
      client.write('x\n');
      assert.equal((await readBytes(client, 2)).toString(), 'x\n');
      assert.deepEqual(errors, []);
    });

    test('default options (rejectUnauthorized true), no ca: error DEPTH_ZERO_SELF_SIGNED_CERT', async (t) => {
      const sc = scope(t);
      const { server, port } = await docServer(sc, impls[sName]);
      server.on('tlsClientError', () => {}); // the client aborts the handshake
      const client = sc.connect(impls[cName], { port });
      const events = recordEvents(client, ['secureConnect', 'error', 'close']);
      const [err] = await withTimeout(once(client, 'error'), 5000, 'error');
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      // Node 24 appends a hint about --use-system-ca to the message.
      assert.match(err.message, /^self-signed certificate/);
      await withTimeout(once(client, 'close'), 5000, 'close');
      assert.deepEqual(events, ['error:DEPTH_ZERO_SELF_SIGNED_CERT', 'close:true']);
      assert.equal(client.destroyed, true);
    });

    test('ca given but host name does not match the CN: ERR_TLS_CERT_ALTNAME_INVALID', async (t) => {
      const sc = scope(t);
      const { server, port } = await docServer(sc, impls[sName]);
      server.on('tlsClientError', () => {});
      const client = sc.connect(impls[cName], { port, host: '127.0.0.1', ca: certs.doc.cert });
      const [err] = await withTimeout(once(client, 'error'), 5000, 'error');
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(err.host, '127.0.0.1');
      assert.equal(typeof err.reason, 'string');
    });
  });
}

for (const sName of Object.keys(impls)) {
  test(`doc echo server (${sName}) serves openssl s_client -quiet`, { timeout: 15000 }, async (t) => {
    const sc = scope(t);
    const { port } = await docServer(sc, impls[sName]);
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let out = '';
    const waitFor = (text) =>
      withTimeout(
        new Promise((resolve, reject) => {
          const check = () => {
            if (out.includes(text)) {
              child.stdout.off('data', onData);
              resolve();
            }
          };
          const onData = (d) => {
            out += d;
            check();
          };
          child.stdout.on('data', onData);
          child.once('exit', (code) => reject(new Error(`s_client exited ${code}: ${stderr}`)));
          check();
        }),
        8000,
        `s_client output ${JSON.stringify(text)}; stdout=${JSON.stringify(out)} stderr=${stderr}`,
      );
    await waitFor(WELCOME);
    assert.equal(out, WELCOME);
    child.stdin.write('ping from s_client\n');
    await waitFor('ping from s_client\n');
    assert.equal(out, WELCOME + 'ping from s_client\n');
  });
}
