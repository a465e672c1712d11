'use strict';
// A server that requires a client certificate, and a client that has none:
// the server reports ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE, the client
// sees the alert OpenSSL sends: handshake_failure on TLS 1.2,
// certificate_required on TLS 1.3. As node:tls, in every pairing.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, withTimeout } = require('./helpers');

async function noCert(sName, cName, maxVersion, t) {
  const sc = scope(t);
  const { server, port } = await sc.server(impls[sName], { ...certs.rsa, ca: certs.ca, requestCert: true },
    () => assert.fail('no secureConnection'));
  const serverErr = once(server, 'tlsClientError');
  const c = sc.connect(impls[cName], { port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, maxVersion });
  const [clientErr] = await withTimeout(once(c, 'error').catch((e) => [e]), 5000, 'client error');
  const [sErr] = await withTimeout(serverErr, 5000, 'tlsClientError');
  return { client: clientErr.code, server: sErr.code };
}

for (const [sName, cName] of implPairs()) {
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3']) {
    test(`requestCert without a client certificate, ${maxVersion}: ${sName} server, ${cName} client`, async (t) => {
      const ours = await noCert(sName, cName, maxVersion, t);
      assert.deepEqual(ours, await noCert('node', 'node', maxVersion, t));
    });
  }
}
