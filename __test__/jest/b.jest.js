'use strict';
const net = require('node:net');
const { tls, fx } = require('./impl');

const doc = { key: fx('doc-key.pem'), cert: fx('doc-cert.pem') };

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

describe('rustls-tls inside jest (b)', () => {
  let server;
  afterEach(() => new Promise((resolve) => (server && server.listening ? server.close(() => resolve()) : resolve())));

  test("certificate verification 'error' is instanceof Error, with its code", async () => {
    server = tls.createServer(doc, (s) => s.end('welcome!\n'));
    server.on('tlsClientError', () => {});
    const port = await listen(server);
    const client = tls.connect({ port, host: 'localhost' });
    const err = await new Promise((resolve) => client.once('error', resolve));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  test('doc cert as ca: authorized, welcome line', async () => {
    server = tls.createServer(doc, (s) => s.end('welcome!\n'));
    const port = await listen(server);
    const client = tls.connect(port, 'localhost', { ca: [doc.cert] });
    client.setEncoding('utf8');
    let got = '';
    client.on('data', (d) => (got += d));
    await new Promise((resolve, reject) => {
      client.once('end', resolve);
      client.once('error', reject);
    });
    expect(client.authorized).toBe(true);
    expect(got).toBe('welcome!\n');
  });

  test("tlsClientError for a garbage client is instanceof Error", async () => {
    server = tls.createServer(doc, () => {});
    const port = await listen(server);
    const errP = new Promise((resolve) => server.once('tlsClientError', resolve));
    const raw = net.connect(port, '127.0.0.1', () => raw.write('definitely not TLS\r\n\r\n'));
    raw.on('error', () => {});
    raw.resume();
    const err = await errP;
    raw.destroy();
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toMatch(/^ERR_SSL_/);
  });
});
