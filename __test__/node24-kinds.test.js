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

// libuv stops reading at end of stream, and a socket that neither reads nor
// writes does not keep the loop alive: a client left half open
// (allowHalfOpen) after its peer's end lets the process exit, without
// 'close', as under Node.
test('a half-open client after its peer\'s end lets the process exit', async () => {
  const script = (name) => `
    const tls = require(${JSON.stringify(implPath(name))});
    const fs = require('fs');
    const f = (n) => fs.readFileSync(${JSON.stringify(FIXTURES)} + '/' + n);
    const log = [];
    const server = tls.createServer({ key: f('rsa-key.pem'), cert: f('rsa-cert.pem') }, (s) => {
      s.end('bye', () => s.destroy());
      server.close();
    });
    server.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: server.address().port, host: '127.0.0.1', allowHalfOpen: true,
                              rejectUnauthorized: false });
      c.setEncoding('utf8');
      c.on('data', (d) => log.push(d));
      c.on('end', () => log.push('end'));
      c.on('close', () => log.push('close'));
    });
    process.on('exit', () => console.log(log.join(',')));
  `;
  const results = await differential(async (name) => (await runChild(script(name))).trim());
  assert.equal(results.node === undefined ? 'bye,end' : results.node, 'bye,end');
});

// X.509 v1 CRLs (no version, no extensions): what `openssl ca -gencrl`
// writes without `crl_extensions`. OpenSSL takes them; webpki does not.
test('v1 CRLs (openssl ca -gencrl without extensions) are judged as node:tls judges them', async (t) => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-v1crl-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (name) => fs.readFileSync(path.join(dir, name));
  const ca = (name) => {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, `${name}.cnf`), [
      '[ ca ]', 'default_ca = CA_default', '[ CA_default ]', `dir = ${path.join(dir, name)}`,
      'database = $dir/index.txt', `certificate = ${path.join(dir, `${name}-cert.pem`)}`,
      `private_key = ${path.join(dir, `${name}-key.pem`)}`, 'default_md = sha256', 'default_crl_days = 30', '',
    ].join('\n'));
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`,
      '-out', `${name}-cert.pem`, '-days', '3650', '-subj', '/CN=v1 CRL test root');
  };
  const gencrl = (name, out) => openssl('ca', '-config', `${name}.cnf`, '-gencrl', '-out', out);
  ca('root');
  ca('other'); // same name, another key
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf-key.pem', '-out', 'leaf.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-CAcreateserial',
    '-days', '3650', '-sha256', '-extfile', 'san.ext', '-out', 'leaf-cert.pem');
  gencrl('root', 'empty.crl');
  gencrl('other', 'forged.crl');
  openssl('ca', '-config', 'root.cnf', '-revoke', 'leaf-cert.pem');
  gencrl('root', 'revokes.crl');
  assert.match(openssl('crl', '-in', 'revokes.crl', '-noout', '-text').toString(), /Version 1 \(0x0\)/);

  const view = async (sName, cName, crl) => {
    const sc = scope(t);
    const { port } = await sc.server(impls[sName], { key: read('leaf-key.pem'), cert: read('leaf-cert.pem') },
                                     (s) => s.end());
    const c = sc.connect(impls[cName], {
      port, host: '127.0.0.1', servername: 'localhost', ca: read('root-cert.pem'), crl, rejectUnauthorized: false,
    });
    await withTimeout(once(c, 'secureConnect'), 5000, `${sName}->${cName}`);
    return { authorized: c.authorized, authorizationError: c.authorizationError };
  };
  const cases = { empty: read('empty.crl'), revokes: read('revokes.crl'), forged: read('forged.crl') };
  const expected = {};
  for (const [label, crl] of Object.entries(cases)) expected[label] = await view('node', 'node', crl);
  assert.deepEqual(expected.empty, { authorized: true, authorizationError: null });
  assert.deepEqual(expected.revokes, { authorized: false, authorizationError: 'CERT_REVOKED' });
  assert.equal(expected.forged.authorized, false);
  for (const [sName, cName] of implPairs()) {
    for (const [label, crl] of Object.entries(cases)) {
      assert.deepEqual(await view(sName, cName, crl), expected[label], `${label}: ${sName} server, ${cName} client`);
    }
  }
});

// Node reports every accepted connection with 'connection', also one whose
// handshake then fails (here: the client rejects the certificate and hangs
// up before its Finished).
test('a server emits \'connection\' before \'tlsClientError\' for a failed handshake', async (t) => {
  await differential(async (name, tls) => {
    const sc = scope(t);
    const events = [];
    const { server, port } = await sc.server(tls, { ...certs.rsa }, () => events.push('secureConnection'));
    server.on('connection', () => events.push('connection'));
    const failed = once(server, 'tlsClientError');
    server.on('tlsClientError', (err) => events.push(`tlsClientError ${err.code}`));
    const c = sc.connect(impls.node || tls, { port, host: '127.0.0.1', servername: 'localhost' });
    const [err] = await withTimeout(once(c, 'error'), 5000, 'client error');
    await withTimeout(failed, 5000, 'tlsClientError');
    return { client: err.code, events };
  });
});

test('renegotiate() on TLS 1.3: OpenSSL\'s wrong ssl version error, as node:tls', async (t) => {
  await differential(async (name, tls) => {
    const sc = scope(t);
    const { port } = await sc.server(tls, { ...certs.rsa }, () => {});
    const c = await sc.connected(tls, { port, host: '127.0.0.1', rejectUnauthorized: false });
    const bad = [() => c.renegotiate(null), () => c.renegotiate({}, 'nope')].map((fn) => {
      try {
        fn();
        return null;
      } catch (err) {
        return err.code;
      }
    });
    let returned;
    const err = await new Promise((resolve) => { returned = c.renegotiate({}, resolve); });
    const protocol = c.getProtocol();
    c.destroy();
    return {
      protocol,
      bad,
      returned,
      error: { code: err.code, message: err.message, library: err.library, reason: err.reason },
      afterDestroy: c.renegotiate({}),
    };
  });
});

// The default CA certificates are the process's: node:tls (and https, built
// on it) takes what tls.setDefaultCACertificates() sets, where it has the
// function (Node 22.15 and later).
test('setDefaultCACertificates() sets node:tls\'s defaults too', async () => {
  const script = `
    const pkg = require(${JSON.stringify(implPath('rustls'))});
    const node = require('node:tls');
    const fs = require('fs');
    const ca = fs.readFileSync(${JSON.stringify(FIXTURES)} + '/ca-cert.pem', 'latin1');
    pkg.setDefaultCACertificates([ca]);
    const has = typeof node.setDefaultCACertificates === 'function';
    console.log(JSON.stringify({
      has,
      node: has ? node.getCACertificates('default').length : node.rootCertificates.length,
      same: has ? JSON.stringify(node.getCACertificates('default')) === JSON.stringify(pkg.getCACertificates('default')) : null,
    }));
  `;
  const out = JSON.parse(await runChild(script));
  const has = typeof require('node:tls').setDefaultCACertificates === 'function';
  assert.deepEqual(out, has ? { has, node: 1, same: true } :
    { has, node: require('node:tls').rootCertificates.length, same: null });
});

test('secureProtocol: the SSL methods are refused by name, TLSv1_3_method is unknown, as node:tls', async () => {
  const methods = ['SSLv2_method', 'SSLv2_client_method', 'SSLv3_server_method', 'TLSv1_3_method',
    'TLSv1_3_client_method', 'blargh', 'SSLv23_method', 'TLS_server_method', 'TLSv1_2_client_method'];
  const results = await differential(async (name, tls) => methods.map((secureProtocol) => {
    try {
      tls.createSecureContext({ secureProtocol });
      return 'ok';
    } catch (err) {
      return `${err.name} ${err.code} ${err.message}`;
    }
  }));
  for (const got of Object.values(results)) {
    assert.equal(got[0], 'TypeError ERR_TLS_INVALID_PROTOCOL_METHOD SSLv2 methods disabled');
    assert.equal(got[3], 'TypeError ERR_TLS_INVALID_PROTOCOL_METHOD Unknown method: TLSv1_3_method');
  }
});
