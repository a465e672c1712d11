'use strict';
// A real client and a real broker: `mqtt` (mqtt.js v5, from npm), unchanged,
// against Debian's `mosquitto` (OpenSSL) with two TLS listeners, one of
// which requires a client certificate (./libs.js Mosquitto). mqtt.js is
// loaded once per implementation with its require('tls') resolved to it
// (./libs.js useTls + freshRequire); node:tls runs first as the baseline and
// every outcome of this package must equal it: messages, QoS levels, the
// reconnect after the broker drops the client, and the error codes of the
// connections that must fail.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { once } = require('node:events');
const { impls, implNames, certs, delay, withTimeout } = require('./helpers');
const { useTls, freshRequire, Mosquitto } = require('./libs');

let broker;

before(async () => {
  broker = new Mosquitto();
  process.once('exit', () => broker.killNow());
  await broker.start();
}, { timeout: 900000 });

after(async () => {
  useTls(null);
  if (broker) await broker.stop();
});

const baseline = {};

/** Compares with node:tls's value (recorded first) or records it. */
function same(name, key, value) {
  if (name === 'node') baseline[key] = value;
  else assert.deepEqual(value, baseline[key], `${key}: differs from node:tls`);
}

for (const name of implNames) {
  describe(`mqtt.js over ${name} against mosquitto`, () => {
    let mqtt;
    before(() => {
      useTls(impls[name]);
      mqtt = freshRequire('mqtt', ['ws']);
    });
    after(() => useTls(null));

    const options = (extra) => ({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port: broker.port,
      servername: 'localhost',
      ca: certs.ca,
      connectTimeout: 10000,
      reconnectPeriod: 0,
      clientId: `rustls-tls-${name}-${crypto.randomBytes(4).toString('hex')}`,
      ...extra,
    });

    /** Connects; resolves with the client, or rejects with the connection's error. */
    function connect(extra) {
      return withTimeout(mqtt.connectAsync(options(extra), undefined, false), 15000, 'mqtt connect');
    }

    /** What a connection that must fail fails with (its error's code). */
    async function failure(extra) {
      const client = mqtt.connect(options(extra));
      try {
        const err = await withTimeout(once(client, 'error').then(([e]) => e), 15000, 'mqtt error');
        return { code: err.code, message: err.message };
      } finally {
        await client.endAsync(true);
      }
    }

    /** Resolves with the next `n` messages on the client, as { topic, payload, qos }. */
    function nextMessages(client, n) {
      const got = [];
      return new Promise((resolve) => {
        const onMessage = (topic, payload, packet) => {
          got.push({ topic, payload, qos: packet.qos });
          if (got.length === n) {
            client.off('message', onMessage);
            resolve(got);
          }
        };
        client.on('message', onMessage);
      });
    }

    test("connect, subscribe, QoS 0/1/2 round trips, a 1 MiB payload, a clean end: over this implementation's socket", async () => {
      const client = await connect();
      const stream = client.stream;
      assert.ok(stream instanceof impls[name].TLSSocket, `mqtt's stream is a ${stream.constructor.name}`);
      assert.equal(stream.authorized, true, String(stream.authorizationError));
      assert.equal(stream.getProtocol(), 'TLSv1.3');
      const topic = `t/${client.options.clientId}`;
      const granted = await client.subscribeAsync(`${topic}/#`, { qos: 2 });
      assert.deepEqual(granted.map((g) => g.qos), [2]);

      const small = nextMessages(client, 3);
      for (const qos of [0, 1, 2]) await client.publishAsync(`${topic}/q${qos}`, `qos ${qos} over TLS`, { qos });
      const got = (await withTimeout(small, 10000, 'QoS messages')).map((m) => ({ ...m, payload: m.payload.toString() }));
      assert.deepEqual(got.sort((a, b) => a.qos - b.qos), [0, 1, 2].map((qos) => ({
        topic: `${topic}/q${qos}`, payload: `qos ${qos} over TLS`, qos,
      })));

      const big = crypto.randomBytes(1 << 20);
      const bigBack = nextMessages(client, 1);
      await client.publishAsync(`${topic}/big`, big, { qos: 1 });
      const [back] = await withTimeout(bigBack, 15000, '1 MiB message');
      assert.equal(back.payload.length, big.length);
      assert.ok(back.payload.equals(big), 'the 1 MiB payload came back intact');

      const closed = once(stream, 'close');
      await withTimeout(client.endAsync(), 10000, 'mqtt end');
      const [hadError] = await withTimeout(closed, 10000, 'stream close');
      assert.equal(hadError, false);
      assert.equal(client.connected, false);
      assert.equal(stream.destroyed, true);
    });

    test('the broker drops the client (session taken over): it reconnects on a new TLS socket and carries on', async () => {
      const clientId = `rustls-tls-takeover-${name}-${crypto.randomBytes(4).toString('hex')}`;
      const client = await connect({ clientId, reconnectPeriod: 200, clean: false });
      try {
        const topic = `t/${clientId}`;
        await client.subscribeAsync(topic, { qos: 1 });
        const first = client.stream;
        const events = [];
        for (const e of ['offline', 'close', 'reconnect', 'error']) client.on(e, (x) => events.push(e === 'error' ? `error:${x.code}` : e));
        const reconnected = once(client, 'connect');
        // A second client with the same id makes mosquitto drop the first.
        const intruder = await connect({ clientId, clean: false });
        intruder.on('error', () => {});
        await withTimeout(reconnected, 15000, 'reconnect');
        await intruder.endAsync(true);
        assert.notEqual(client.stream, first, 'a new socket');
        assert.ok(client.stream instanceof impls[name].TLSSocket);
        assert.equal(first.destroyed, true);
        const msg = nextMessages(client, 1);
        await client.publishAsync(topic, 'after the reconnect', { qos: 1 });
        const [m] = await withTimeout(msg, 10000, 'message after reconnect');
        assert.equal(m.payload.toString(), 'after the reconnect');
        // (How many 'close' events precede the new 'connect' depends on timing.)
        same(name, 'reconnectEvents', [...new Set(events)].sort());
      } finally {
        await client.endAsync(true);
      }
    });

    test('the broker is killed (SIGKILL) and started again: the client reconnects over TLS and its subscription is restored', async () => {
      const client = await connect({ reconnectPeriod: 100, resubscribe: true });
      try {
        const topic = `t/${client.options.clientId}/restart`;
        await client.subscribeAsync(topic, { qos: 1 });
        const first = client.stream;
        const errors = [];
        client.on('error', (e) => errors.push(e.code));
        const firstClose = new Promise((resolve) => first.once('close', resolve));
        const reconnected = once(client, 'connect');
        await broker.restart('SIGKILL');
        await withTimeout(reconnected, 20000, 'reconnect after the restart');
        assert.equal(await withTimeout(firstClose, 5000, 'the first socket closes'), false);
        assert.ok(client.stream instanceof impls[name].TLSSocket);
        assert.notEqual(client.stream, first);
        await delay(200);
        const msg = nextMessages(client, 1);
        await client.publishAsync(topic, 'after the restart', { qos: 1 });
        assert.equal((await withTimeout(msg, 10000, 'message after the restart'))[0].payload.toString(), 'after the restart');
        same(name, 'restartErrors', [...new Set(errors)].sort());
      } finally {
        await client.endAsync(true);
      }
    });

    test('MQTT over WebSockets over TLS (wss, through ws): a QoS 1 round trip; a wrong name fails as under node:tls', async () => {
      const made = [];
      const tlsConnect = impls[name].connect;
      impls[name].connect = function watched(...args) {
        const socket = tlsConnect.apply(this, args);
        made.push(socket);
        return socket;
      };
      let client;
      try {
        client = await connect({ protocol: 'wss', port: broker.wssPort, path: '/mqtt' });
      } finally {
        impls[name].connect = tlsConnect;
      }
      try {
        const topic = `t/${client.options.clientId}/wss`;
        await client.subscribeAsync(topic, { qos: 1 });
        const msg = nextMessages(client, 1);
        // (Small: mosquitto's websockets listener reads large frames slowly, ~40 KiB/s, whatever the client.)
        const payload = crypto.randomBytes(8 * 1024);
        await client.publishAsync(topic, payload, { qos: 1 });
        assert.ok((await withTimeout(msg, 10000, 'wss message'))[0].payload.equals(payload));
        assert.equal(made.length, 1, 'ws made its socket with this implementation');
        assert.ok(made[0] instanceof impls[name].TLSSocket);
        assert.equal(made[0].authorized, true);
      } finally {
        await client.endAsync();
      }
      const wrongName = await failure({ protocol: 'wss', port: broker.wssPort, path: '/mqtt', wsOptions: { servername: 'wrong.example' } });
      assert.equal(wrongName.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    });

    test('require_certificate listener: the client certificate gets in; without it the broker refuses, as under node:tls', async () => {
      const client = await connect({ port: broker.mtlsPort, ...certs.client });
      try {
        assert.equal(client.stream.authorized, true);
        const topic = `t/${client.options.clientId}/mtls`;
        await client.subscribeAsync(topic, { qos: 1 });
        const msg = nextMessages(client, 1);
        await client.publishAsync(topic, 'with a client certificate', { qos: 1 });
        assert.equal((await withTimeout(msg, 10000, 'mTLS message'))[0].payload.toString(), 'with a client certificate');
      } finally {
        await client.endAsync();
      }
      const refused = await failure({ port: broker.mtlsPort });
      // OpenSSL's message carries an address and a source path; the reason is what compares.
      assert.equal(refused.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', refused.message);
      assert.match(refused.message, /tlsv13 alert certificate required:.*SSL alert number 116/);
    });

    test('the wrong CA and the wrong host name fail with node:tls\'s codes', async () => {
      const wrongCa = await failure({ ca: certs.client.cert });
      const noCa = await failure({ ca: undefined });
      const wrongName = await failure({ servername: 'wrong.example' });
      assert.equal(wrongName.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(noCa.code, 'SELF_SIGNED_CERT_IN_CHAIN');
      assert.ok(wrongCa.code, wrongCa.message);
      same(name, 'failures', { wrongCa, noCa, wrongName });
    });
  });
}
