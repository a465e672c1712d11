'use strict';
// OCSP stapling, as Node has it. A server with an 'OCSPRequest' listener is
// asked, for each client that wants a stapled response, with the
// certificate and its issuer (DER) and a callback(err, response) that may be
// called later; the response is stapled. A client with `requestOCSP` gets
// 'OCSPResponse' (the stapled bytes, or null) before 'secureConnect'.
//
// The native side reads the ClientHello first only while the server has a
// listener, so servers without one pay nothing.

// A server starts asking when its first listener is added.
function watchServer(server, native) {
  server.on('newListener', (event) => {
    if (event === 'OCSPRequest') {
      const n = native();
      if (n) n.setOcsp(true);
    }
  });
}

function serverWants(server) {
  return server.listenerCount('OCSPRequest') > 0;
}

// An OCSP_REQUEST event: ask the listeners, answer the native side once.
function onRequest(server, native, cert, info) {
  const id = info.id;
  if (!serverWants(server)) {
    native.answerOcsp(id, null, false);
    return;
  }
  const issuer = info.peerCerts && info.peerCerts.length > 0 ? info.peerCerts[0] : null;
  let answered = false;
  const callback = (err, response) => {
    if (answered) return;
    answered = true;
    if (err) {
      native.answerOcsp(id, null, true);
      server._clientError(err, info);
      return;
    }
    const staple = ArrayBuffer.isView(response) ?
      Buffer.from(response.buffer, response.byteOffset, response.byteLength) : null;
    native.answerOcsp(id, staple && staple.length > 0 ? staple : null, false);
  };
  server.emit('OCSPRequest', cert, issuer, callback);
}

// Client side, at the end of the handshake: 'OCSPResponse' for a socket
// that asked. False when a listener destroyed the socket.
function reportResponse(socket, options, info) {
  if (!options || !options.requestOCSP) return true;
  const response = info.ocsp && info.ocsp.length > 0 ? info.ocsp : null;
  socket.emit('OCSPResponse', response);
  return !socket.destroyed;
}

module.exports = { watchServer, serverWants, onRequest, reportResponse };
