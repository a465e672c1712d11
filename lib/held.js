'use strict';
// Writes made before the handshake is done are held by the socket (they go
// to the native side once it is secure); this is what becomes of them when
// the socket is destroyed first.

const errors = require('./errors');

// Writes made before the connection was secure, when it is destroyed
// instead. As in Node: before the TCP connection was made they fail once
// 'close' has been emitted; after it, the TLS layer had taken them, and
// their callbacks succeed (after 'error', before 'close').
// From Node 22 on they fail instead: EBADF when the server was rejected
// (its 'secure' destroyed the socket), ECANCELED otherwise.
const kHeldWritesFail = Number(process.versions.node.split('.')[0]) >= 22;

function heldWriteError(rejected) {
  if (rejected) return errors.systemError('EBADF', 'write');
  const err = errors.systemError('ECANCELED', 'write');
  err.message += ' Canceled because of SSL destruction';
  return err;
}

function completeHeldWrites(socket, callbacks, connecting, rejected) {
  if (connecting) {
    setImmediate(() => {
      for (const cb of callbacks) {
        cb(errors.nodeError(Error, 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
                            'Socket closed before the connection was established'));
      }
    });
  } else {
    process.nextTick(finishHeldWrites, socket, callbacks, rejected);
  }
}

function finishHeldWrites(socket, callbacks, rejected) {
  for (const cb of callbacks) {
    // Node 20 completes them as its handle does a write cancelled by the
    // close: an error only for a socket that is not destroyed by then (an
    // 'error' listener may have called _undestroy()).
    if (kHeldWritesFail || !socket.destroyed) cb(heldWriteError(rejected));
    else cb();
  }
}

module.exports = { completeHeldWrites, finishHeldWrites };
