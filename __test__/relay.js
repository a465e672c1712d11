'use strict';
// A TCP relay that resets a connection on cue, for tests of peers that
// vanish: client -> relay -> 127.0.0.1:port. When `arm(reset, clientSide)`
// calls `reset`, the relay resets its server-facing socket (RST) and closes
// the client-facing one. No dependencies beyond `net`, so that a child
// process can use it as it is.

const net = require('node:net');

/** Listens on 127.0.0.1, an ephemeral port; `ready(relay)` once listening. */
function resetRelay(port, arm, ready) {
  const relay = net.createServer((cs) => {
    const up = net.connect(port, '127.0.0.1');
    cs.on('error', () => {});
    up.on('error', () => {});
    cs.pipe(up);
    up.pipe(cs);
    arm(() => {
      up.resetAndDestroy();
      cs.destroy();
    }, cs);
  });
  relay.listen(0, '127.0.0.1', () => ready && ready(relay));
  return relay;
}

module.exports = { resetRelay };
