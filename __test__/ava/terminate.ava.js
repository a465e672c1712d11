'use strict';
// A worker thread with a server and live connections is terminated (or
// exits) in the middle: the process neither crashes nor hangs, the peers on
// this side see their connections end (also one whose handshake the worker's
// server finished but had not handed to JavaScript yet), the worker's port is
// freed, and the package still works after.
const test = require('ava');
const { Worker } = require('node:worker_threads');
const { once } = require('node:events');
const { ROOT, tls, certs, listen, closeServer } = require('./shared');

// In the worker: a server of its own and a client connected to the port it
// is given (ours), both left open; it reports its server's port and then
// keeps streaming until it is stopped.
const workerSource = `
  const { parentPort, workerData } = require('node:worker_threads');
  const tls = require(workerData.root);
  const fs = require('node:fs');
  const fx = (n) => fs.readFileSync(workerData.root + '/__test__/fixtures/' + n);
  const server = tls.createServer({ key: fx('ec-key.pem'), cert: fx('ec-cert.pem') }, (s) => s.pipe(s));
  server.listen(0, '127.0.0.1', () => {
    const c = tls.connect({ port: workerData.port, host: '127.0.0.1', ca: fx('ca-cert.pem'), servername: 'localhost' });
    c.on('secureConnect', () => {
      setInterval(() => c.write(Buffer.alloc(16384, 7)), 1);
      parentPort.postMessage({ port: server.address().port });
    });
    c.on('error', () => {});
  });
  parentPort.on('message', (m) => { if (m === 'exit') process.exit(0); });
`;

async function scenario(t, stop) {
  const inbound = [];
  let gotInbound;
  const inboundArrived = new Promise((resolve) => (gotInbound = resolve));
  const srv = tls.createServer(certs.ec, (s) => {
    inbound.push(s);
    s.on('error', () => {});
    s.resume();
    gotInbound();
  });
  const port = await listen(srv);
  const worker = new Worker(workerSource, { eval: true, workerData: { root: ROOT, port } });
  const [{ port: workerPort }] = await once(worker, 'message');
  // Our client to the worker's server, mid-stream too.
  const c = tls.connect({ port: workerPort, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
  c.on('error', () => {});
  await once(c, 'secureConnect');
  c.write(Buffer.alloc(100000, 1));
  c.resume();
  // The worker's client completes its side first; our server's follows
  // when its Finished arrives (after the worker's 'secureConnect').
  await Promise.race([inboundArrived, new Promise((resolve) => setTimeout(resolve, 5000))]);
  t.is(inbound.length, 1);
  // 'close' whatever the cause (a reset is an 'error' first).
  const closed = (s) => new Promise((resolve) => s.once('close', resolve));
  const inboundClosed = closed(inbound[0]);
  const clientClosed = closed(c);
  const exited = once(worker, 'exit');
  await stop(worker);
  const [code] = await exited;
  try {
    // Both connections of the gone worker end on this side, within a bound.
    let timer;
    await Promise.race([
      Promise.all([inboundClosed, clientClosed]),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('connections of the dead worker did not close: ' +
          `inbound ${inbound[0].destroyed ? 'closed' : 'open'}, outbound ${c.destroyed ? 'closed' : 'open'}`)), 5000);
      }),
    ]);
    clearTimeout(timer);
    // The dead worker's server no longer listens, as Node closes a worker's servers.
    const probe = tls.connect({ port: workerPort, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    const [err] = await once(probe, 'error');
    t.is(err.code, 'ECONNREFUSED');
  } finally {
    c.destroy();
    await closeServer(srv);
  }
  return code;
}

test('terminate() with connections open both ways', async (t) => {
  const code = await scenario(t, (w) => w.terminate());
  t.is(code, 1);
});

test('process.exit() inside the worker with connections open', async (t) => {
  const code = await scenario(t, (w) => w.postMessage('exit'));
  t.is(code, 0);
});

test('after workers died, new connections in this thread still work', async (t) => {
  const srv = tls.createServer(certs.rsa, (s) => s.end('still here'));
  const port = await listen(srv);
  try {
    const c = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    let got = '';
    c.on('data', (d) => (got += d));
    await once(c, 'end');
    t.is(got, 'still here');
  } finally {
    await closeServer(srv);
  }
});
