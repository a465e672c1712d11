'use strict';
// A net.Socket that TLS runs over belongs to TLS, as in Node, where the TLS
// socket takes the net.Socket's handle over: from then on the net.Socket
// reports no 'data', 'end', 'finish' or 'error' of its own (those bytes and
// failures are the TLS socket's), and only its 'close' remains to be seen.
// Here the TLS socket still reads and writes the net.Socket through its
// stream interface, so those four events are routed to TLS alone.

const { EventEmitter } = require('events');
const net = require('net');

const kTaken = ['data', 'end', 'finish', 'error'];

// The emitter on which TLS listens for the stream's events: a private one
// for a net.Socket (whose own emit() then keeps those events from the
// application), the stream itself for any other Duplex (Node's JSStreamSocket
// leaves a plain stream's events in place).
function takeOver(socket) {
  if (!(socket instanceof net.Socket)) return socket;
  const own = new EventEmitter();
  const emit = socket.emit;
  socket.emit = function emitNotTaken(name, ...args) {
    if (kTaken.includes(name)) return own.emit(name, ...args);
    // Its failures were TLS's: it closes without one of its own.
    if (name === 'close') return emit.call(this, name, false);
    return emit.call(this, name, ...args);
  };
  return own;
}

module.exports = { takeOver };
