'use strict';
// rustls-tls/https inside an ava worker, next to the other files' workers.
const test = require('ava');
const path = require('node:path');
const nodeHttps = require('node:https');
const { ROOT, certs, listen, readAll, closeServer } = require('./shared');

const https = require(path.join(ROOT, 'https'));

for (const [cName, client] of [['rustls', https], ['node', nodeHttps]]) {
  test(`rustls-tls/https server, ${cName} https client, keep-alive`, async (t) => {
    const srv = https.createServer(certs.rsa, (req, res) => res.end(`${req.method} ${req.url}`));
    const port = await listen(srv);
    const agent = new client.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (p) => new Promise((resolve, reject) => {
        client.get({ host: '127.0.0.1', port, path: p, agent, ca: certs.ca, servername: 'localhost' },
          (res) => readAll(res).then((b) => resolve(`${res.statusCode} ${b}`), reject)).on('error', reject);
      });
      t.deepEqual(await Promise.all([get('/a'), get('/b'), get('/c')]), ['200 GET /a', '200 GET /b', '200 GET /c']);
    } finally {
      await closeServer(srv);
      agent.destroy();
    }
  });
}
