'use strict';
// PEM labels OpenSSL reads as certificates in `ca` and `cert`
// (PEM_read_bio_X509_AUX): "CERTIFICATE", "X509 CERTIFICATE" and "TRUSTED
// CERTIFICATE" (whose trust settings follow the certificate). The same
// connection is judged as node:tls judges it, for each label.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, withTimeout } = require('./helpers');

const relabel = (pem, label) => Buffer.from(pem.toString().replace(/CERTIFICATE/g, label));

for (const [sName, cName] of implPairs()) {
  test(`ca and cert under each certificate PEM label: ${sName} server, ${cName} client`, async (t) => {
    const sc = scope(t);
    for (const label of ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']) {
      const { port } = await sc.server(impls[sName], { key: certs.rsa.key, cert: relabel(certs.rsa.cert, label) },
        (s) => s.end());
      const c = sc.connect(impls[cName], { port, host: '127.0.0.1', servername: 'localhost', ca: relabel(certs.ca, label) });
      await withTimeout(once(c, 'secureConnect'), 5000, label);
      assert.equal(c.authorized, true, `${label}: ${c.authorizationError}`);
      c.destroy();
    }
  });
}
