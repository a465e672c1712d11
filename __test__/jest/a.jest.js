'use strict';
const net = require('node:net');
const { tls, fx } = require('./impl');

const ec = { key: fx('ec-key.pem'), cert: fx('ec-cert.pem') };
const ca = fx('ca-cert.pem');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

describe('rustls-tls inside jest (a)', () => {
  let server;
  afterEach(() => new Promise((resolve) => (server && server.listening ? server.close(() => resolve()) : resolve())));

  test('connect / echo round trip', async () => {
    server = tls.createServer(ec, (s) => {
      s.write('welcome!\n');
      s.pipe(s);
    });
    const port = await listen(server);
    const client = tls.connect({ port, host: '127.0.0.1', ca });
    await new Promise((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
    expect(client.authorized).toBe(true);
    expect(client.getProtocol()).toBe('TLSv1.3');
    client.setEncoding('utf8');
    let got = '';
    await new Promise((resolve, reject) => {
      client.on('data', (d) => {
        got += d;
        if (got === 'welcome!\n') client.write('echo me\n');
        if (got === 'welcome!\necho me\n') resolve();
      });
      client.once('error', reject);
    });
    client.end();
    await new Promise((resolve) => client.once('close', resolve));
    expect(got).toBe('welcome!\necho me\n');
  });

  test('synchronous option errors are instanceof Error / TypeError', () => {
    let caught;
    try {
      tls.connect({ port: 1, ca: 42 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect(caught).toBeInstanceOf(Error);
    expect(caught.code).toBe('ERR_INVALID_ARG_TYPE');

    let pemErr;
    try {
      tls.createServer({ key: 'garbage', cert: 'garbage' });
    } catch (err) {
      pemErr = err;
    }
    expect(pemErr).toBeInstanceOf(Error);
    expect(typeof pemErr.code).toBe('string');
  });

  test("ECONNREFUSED 'error' is instanceof Error", async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    const client = tls.connect({ port, host: '127.0.0.1' });
    const err = await new Promise((resolve) => client.once('error', resolve));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ECONNREFUSED');
  });
});
