'use strict';
// setKeepAlive(true, delay) and setNoDelay() reach the socket: the kernel's
// TCP table (/proc/net/tcp, "tr" column 2: the keepalive timer) shows the
// keepalive timer armed on the client's connection, as under node:tls,
// called before the handshake, after it, and again each time an
// https.Agent takes the socket back (the calls made after the handshake
// are applied by the JavaScript thread itself).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { once } = require('node:events');
const { impls, implNames, certs, scope, withTimeout, delay } = require('./helpers');

// The timer kind of the connection whose local port is `port` (2: keepalive).
function timerOf(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 6 && fields[1].endsWith(`:${hex}`) && fields[3] === '01') {
      return Number(fields[5].split(':')[0]);
    }
  }
  return null;
}

for (const cName of implNames) {
  test(`setKeepAlive() arms the keepalive timer, before and after the handshake: ${cName} client`, {
    skip: !fs.existsSync('/proc/net/tcp') && 'no /proc/net/tcp',
  }, async (t) => {
    const sc = scope(t);
    const { port } = await sc.server(impls.node, certs.rsa, (s) => s.resume());
    const seen = {};
    for (const when of ['before', 'after']) {
      const c = sc.connect(impls[cName], { port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
      if (when === 'before') c.setKeepAlive(true, 30000);
      await withTimeout(once(c, 'secureConnect'), 5000, 'secureConnect');
      if (when === 'after') {
        assert.notEqual(timerOf(c.localPort), 2, 'no keepalive timer before setKeepAlive');
        assert.equal(c.setKeepAlive(true, 30000), c);
        assert.equal(c.setNoDelay(true), c);
      }
      // Applied by the TLS thread when queued: give it a moment.
      for (let i = 0; i < 50 && timerOf(c.localPort) !== 2; i++) await delay(10);
      seen[when] = timerOf(c.localPort) === 2 ? 'keepalive' : 'none';
      c.setKeepAlive(false);
      for (let i = 0; i < 50 && timerOf(c.localPort) === 2; i++) await delay(10);
      seen[`${when}, then off`] = timerOf(c.localPort) === 2 ? 'keepalive' : 'none';
      c.destroy();
    }
    assert.deepEqual(seen, {
      'before': 'keepalive', 'before, then off': 'none', 'after': 'keepalive', 'after, then off': 'none',
    });
  });
}
