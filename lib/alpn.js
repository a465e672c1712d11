'use strict';
// ALPNCallback({ servername, protocols }) (Node docs, tls.createServer()):
// asked, for a client that offered ALPN, which of its protocols to select.
// Shared by a tls.Server (lib/server.js) and a server TLSSocket over a
// wrapped stream (lib/socket.js).

const errors = require('./errors');

// Calls `callback`, with `socket` as `this` (its setKeyCert() chooses the
// certificate), for a client that offered `wire` (its ALPN list in wire
// format: each name after its length byte) and sent `servername` (false
// when none). Returns { protocol } with the Buffer to select (null:
// refused, the callback returned undefined), or { error } when the callback
// threw or returned a protocol the client did not offer
// (ERR_TLS_ALPN_CALLBACK_INVALID_RESULT).
function choose(callback, socket, wire, servername) {
  const protocols = [];
  for (let at = 0; at < wire.length; at += 1 + wire[at]) {
    protocols.push(wire.toString('ascii', at + 1, at + 1 + wire[at]));
  }
  let selected;
  try {
    selected = callback.call(socket, { servername: servername || false, protocols });
  } catch (error) {
    return { error };
  }
  if (selected === undefined) return { protocol: null };
  if (!protocols.includes(selected)) {
    return {
      error: errors.nodeError(TypeError, 'ERR_TLS_ALPN_CALLBACK_INVALID_RESULT',
                              `ALPN callback returned a value (${selected}) that did not match any of ` +
                              `the client's offered protocols (${protocols.join(', ')})`),
    };
  }
  return { protocol: Buffer.from(selected, 'ascii') };
}

module.exports = { choose };
