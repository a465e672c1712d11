'use strict';
// Kinds of difference found by running Node 24's own tls tests against the
// package, each kept as a differential scenario of our own:
// - a client over a taken-over net.Socket whose peer ends the connection:
//   the net.Socket's handle stops holding the event loop at end of stream,
//   so the TLS side must hold it until its 'end' and 'close' are out (the
//   process used to exit before them);
// - `_parent` on a TLSSocket wrapping a net.Socket (net.Socket walks it to
//   refresh and clear the wrapped socket's timer);
// - `onread` with a buffer function: one call for the read that finds the
//   end of the stream too;
// - tls.connect() takes its context from the module's own
//   createSecureContext (which a program may replace), with the default
//   ciphers, before it looks at the port.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { X509Certificate } = require('node:crypto');
const { execFile, execFileSync } = require('node:child_process');
const { once } = require('node:events');
const { PassThrough } = require('node:stream');
const { impls, implPairs, implPath, fixture, certs, scope, differential, withTimeout, FIXTURES } = require('./helpers');

function runChild(source) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', source], { timeout: 20000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('a client over a net.Socket sees its peer end before the process exits', async () => {
  // Several rounds: the exit used to depend on when the native side last
  // reported being idle.
  const script = (name) => `
    const tls = require(${JSON.stringify(implPath(name))});
    const net = require('net');
    const fs = require('fs');
    const f = (n) => fs.readFileSync(${JSON.stringify(FIXTURES)} + '/' + n);
    const log = [];
    function round(left) {
      if (left === 0) return;
      const server = tls.createServer({ key: f('rsa-key.pem'), cert: f('rsa-cert.pem') }, (c) => {
        setImmediate(() => c.write('hello', () => setImmediate(() => { c.destroy(); server.close(); })));
      });
      server.listen(0, '127.0.0.1', () => {
        const raw = net.connect(server.address().port, '127.0.0.1', () => {
          const s = tls.connect({ socket: raw, rejectUnauthorized: false });
          s.setEncoding('utf8');
          s.on('data', (d) => log.push('data ' + d));
          s.on('end', () => log.push('end'));
          s.on('close', () => { log.push('close'); round(left - 1); });
        });
      });
    }
    round(5);
    process.on('exit', () => console.log(log.join(',')));
  `;
  const results = await differential(async (name) => (await runChild(script(name))).trim());
  for (const out of Object.values(results)) {
    assert.equal(out, Array(5).fill('data hello,end,close').join(','));
  }
});

test('_parent is the wrapped net.Socket, and null over another Duplex', async (t) => {
  await differential(async (name, tls) => {
    const sc = scope(t);
    const { port } = await sc.server(tls, { ...certs.rsa }, (s) => s.end());
    const raw = net.connect(port, '127.0.0.1');
    await once(raw, 'connect');
    const overSocket = sc.track(tls.connect({ socket: raw, rejectUnauthorized: false }));
    const duplex = new PassThrough();
    const overDuplex = sc.track(new tls.TLSSocket(duplex));
    const seen = { socket: overSocket._parent === raw, duplex: overDuplex._parent };
    await withTimeout(once(overSocket, 'close'), 5000, 'close');
    overDuplex.destroy();
    return seen;
  });
});

test('onread asks a buffer function for the read that finds the end too', async (t) => {
  const message = Buffer.from('hello world');
  await differential(async (name, tls) => {
    const sc = scope(t);
    // The same server for both clients: its data and close_notify go out
    // together, so every client reads them in one go.
    const { port } = await sc.server(impls.node || tls, { ...certs.rsa }, (s) => s.end(message));
    const pool = [Buffer.alloc(2), Buffer.alloc(2), Buffer.alloc(2)];
    let calls = 0;
    const got = [];
    const c = sc.connect(tls, {
      port,
      host: '127.0.0.1',
      rejectUnauthorized: false,
      onread: {
        buffer: () => pool[calls++ % pool.length],
        callback: (n, buf) => { got.push(Buffer.from(buf.subarray(0, n))); },
      },
    });
    await withTimeout(once(c, 'end'), 5000, 'end');
    assert.deepEqual(Buffer.concat(got), message);
    return calls;
  });
});

test('tls.connect() makes its context with the module\'s createSecureContext first', async () => {
  const results = await differential(async (name, tls) => {
    const original = tls.createSecureContext;
    const given = [];
    tls.createSecureContext = (options) => {
      given.push(options.ciphers === tls.DEFAULT_CIPHERS ? 'DEFAULT_CIPHERS' : options.ciphers);
      throw new Error('stop');
    };
    try {
      // No port at all: the context comes first.
      assert.throws(() => tls.connect(), /stop/);
      assert.throws(() => tls.connect({ port: 1, ciphers: 'TLS_AES_128_GCM_SHA256' }), /stop/);
    } finally {
      tls.createSecureContext = original;
    }
    return given;
  });
  for (const given of Object.values(results)) assert.deepEqual(given, ['DEFAULT_CIPHERS', 'TLS_AES_128_GCM_SHA256']);
});

test('the defaults follow Node\'s command line (--tls-max-v1.2, --tls-min-v1.3, --tls-cipher-list)', async () => {
  const script = (name) => `
    const tls = require(${JSON.stringify(implPath(name))});
    const fs = require('fs');
    const f = (n) => fs.readFileSync(${JSON.stringify(FIXTURES)} + '/' + n);
    const out = [tls.DEFAULT_MIN_VERSION, tls.DEFAULT_MAX_VERSION, tls.DEFAULT_CIPHERS];
    const server = tls.createServer({ key: f('rsa-key.pem'), cert: f('rsa-cert.pem') }, (s) => s.end());
    server.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        out.push(c.getProtocol(), c.getCipher().name);
        c.end();
        server.close();
        console.log(JSON.stringify(out));
      });
    });
  `;
  const run = (name, flags) => new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, '-e', script(name)], { timeout: 20000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
  const cases = [
    [['--tls-max-v1.2', '--tls-cipher-list=ECDHE-RSA-AES256-GCM-SHA384'],
      ['TLSv1.2', 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384']],
    [['--tls-min-v1.3'], ['TLSv1.3', 'TLSv1.3', null, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384']],
  ];
  for (const [flags, expected] of cases) {
    const results = await differential((name) => run(name, flags));
    for (const got of Object.values(results)) {
      assert.deepEqual(got.map((v, i) => (expected[i] === null ? null : v)), expected);
    }
  }
});

// A PKCS#12 archive with its CA: Node trusts the archive's other
// certificates (they join the context's store), and getCertificate() is the
// archive's certificate.
test('pfx: its CA certificates are trusted, and getCertificate() is its certificate', async (t) => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-pfx-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pfx = {};
  for (const name of ['rsa', 'client']) {
    const out = path.join(dir, `${name}.pfx`);
    execFileSync('openssl', ['pkcs12', '-export', '-in', path.join(FIXTURES, `${name}-cert.pem`),
      '-inkey', path.join(FIXTURES, `${name}-key.pem`), '-certfile', path.join(FIXTURES, 'ca-cert.pem'),
      '-passout', 'pass:sample', '-out', out], { stdio: 'pipe' });
    pfx[name] = fs.readFileSync(out);
  }
  const serial = (name) => new X509Certificate(fixture(`${name}-cert.pem`)).serialNumber;
  for (const [sName, cName] of implPairs()) {
    const sc = scope(t);
    let server;
    const { port } = await sc.server(impls[sName], {
      pfx: pfx.rsa, passphrase: 'sample', requestCert: true, rejectUnauthorized: false,
    }, (s) => {
      server = { authorized: s.authorized, error: s.authorizationError, peer: s.getPeerCertificate().serialNumber };
      s.end();
    });
    const c = sc.connect(impls[cName], {
      port, host: '127.0.0.1', pfx: pfx.client, passphrase: 'sample', rejectUnauthorized: false,
    });
    await withTimeout(once(c, 'secureConnect'), 5000, `${sName}->${cName}`);
    const own = c.getCertificate().serialNumber;
    await withTimeout(once(c, 'close'), 5000, 'close');
    assert.deepEqual({ own, server }, {
      own: serial('client'),
      server: { authorized: true, error: null, peer: serial('client') },
    }, `${sName} server, ${cName} client`);
  }
});
