'use strict';
// Real libraries, unchanged: `smtp-server` (STARTTLS with
// `new TLSSocket(raw, { isServer: true, server: aNetServer, requestCert,
// rejectUnauthorized, secureContext, SNICallback })`, then judges the client
// certificate itself with `socket._handle.verifyError()`) and `nodemailer`
// (STARTTLS with `tls.connect({ socket, key, cert, ca, servername })`), in
// every pairing of node:tls and this package (each library loaded with
// require('tls') resolved to its side's implementation, ./libs.js). What the
// server saw of the client (authorized, authorizationError, the
// certificate's CN) and the mail delivered must be what node:tls gives, and
// a refused client must be refused in every pairing.

const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implPairs, certs, withTimeout } = require('./helpers');
const { useTls, freshRequire } = require('./libs');

after(() => useTls(null));

// smtp-server and nodemailer, each loaded over its own implementation.
function load(sName, cName) {
  try {
    useTls(impls[sName]);
    const { SMTPServer } = freshRequire('smtp-server');
    useTls(impls[cName]);
    const nodemailer = freshRequire('nodemailer');
    return { SMTPServer, nodemailer };
  } finally {
    useTls(null);
  }
}

// A STARTTLS server on 127.0.0.1 that records what onSecure saw and the
// messages it received; resolves { server, port, seen, mail }.
async function smtpServer(t, SMTPServer, sImpl, tlsOptions) {
  const seen = [];
  const mail = [];
  const server = new SMTPServer({
    key: certs.rsa.key,
    cert: certs.rsa.cert,
    ca: certs.ca,
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    ...tlsOptions,
    onSecure(socket, session, cb) {
      const cert = socket.getPeerCertificate();
      seen.push({
        ours: socket instanceof sImpl.TLSSocket,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError,
        cn: cert && cert.subject ? cert.subject.CN : undefined,
        protocol: socket.getProtocol(),
      });
      cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        mail.push({ secure: session.secure, body: Buffer.concat(chunks).toString() });
        cb();
      });
    },
  });
  server.on('error', () => {});
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { server, port: server.server.address().port, seen, mail };
}

async function send(nodemailer, port, tls) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { servername: 'localhost', ...tls },
    connectionTimeout: 10000,
    greetingTimeout: 10000,
    socketTimeout: 10000,
  });
  try {
    return await withTimeout(
      transport.sendMail({
        from: 'a@example.com',
        to: 'b@example.com',
        subject: 'over STARTTLS',
        text: 'hello over TLS',
      }),
      20000,
      'sendMail',
    );
  } finally {
    transport.close();
  }
}

const baseline = {};

for (const [sName, cName] of implPairs()) {
  describe(`smtp-server over ${sName}, nodemailer over ${cName}`, () => {
    const { SMTPServer, nodemailer } = load(sName, cName);
    const sImpl = impls[sName];

    test('STARTTLS with a client certificate: the server judges it authorized, the mail arrives', async (t) => {
      const { port, seen, mail } = await smtpServer(t, SMTPServer, sImpl, { requestCert: true, rejectUnauthorized: false });
      const info = await send(nodemailer, port, { ca: certs.ca, ...certs.client });
      assert.equal(info.accepted.length, 1);
      assert.deepEqual(seen, [
        { ours: true, authorized: true, authorizationError: null, cn: 'client', protocol: 'TLSv1.3' },
      ]);
      assert.equal(mail.length, 1);
      assert.equal(mail[0].secure, true);
      assert.match(mail[0].body, /hello over TLS/);
    });

    test('without a client certificate, or with an untrusted one: what node:tls reports, and the mail still arrives', async (t) => {
      const { port, seen, mail } = await smtpServer(t, SMTPServer, sImpl, { requestCert: true, rejectUnauthorized: false });
      await send(nodemailer, port, { ca: certs.ca });
      await send(nodemailer, port, { ca: certs.ca, ...certs.doc });
      assert.equal(mail.length, 2);
      assert.ok(seen.every((s) => s.ours && s.authorized === false));
      const got = seen.map(({ authorizationError, cn }) => ({ authorizationError, cn }));
      if (sName === 'node' && cName === 'node') baseline.unauthorized = got;
      else assert.deepEqual(got, baseline.unauthorized);
    });

    test('rejectUnauthorized on the server: a client without a certificate is refused in the handshake, no mail', async (t) => {
      const { port, mail } = await smtpServer(t, SMTPServer, sImpl, { requestCert: true, rejectUnauthorized: true });
      const err = await send(nodemailer, port, { ca: certs.ca }).then(() => null, (e) => e);
      assert.ok(err, 'sendMail must fail');
      // The server fails the handshake with the alert OpenSSL sends for a
      // required certificate not sent (TLS 1.3 certificate_required).
      assert.equal(err.code, 'ESOCKET');
      assert.match(err.message, /tlsv13 alert certificate required/);
      assert.equal(mail.length, 0);
      const ok = await send(nodemailer, port, { ca: certs.ca, ...certs.client });
      assert.equal(ok.accepted.length, 1);
      assert.equal(mail.length, 1);
    });
  });
}
