'use strict';
// What a finished handshake means for a TLSSocket, as Node decides it: a
// client made by tls.connect() checks the server (verify result, then
// checkServerIdentity) and rejects or goes on; one made directly leaves that
// to the application ('secure' only); a server socket records its client's
// verification. Then writes held back for the handshake are released.

const errors = require('./errors');
const sessions = require('./session');
const handle = require('./handle');
const ocsp = require('./ocsp');
const { kConnectOptions, kRejected } = require('./symbols');
const { checkServerIdentity: nodeCheckServerIdentity } = require('tls');

// `checkServerIdentity(hostname, cert)`. Node's own check reads only
// `cert.subject.CN` and `cert.subjectaltname`; when the addon could read
// those from the certificate (plain names, rendered as Node renders them;
// neither is given otherwise), a match needs no parsed certificate. A
// mismatch, a custom check, or an unusual certificate gets the full object,
// as in Node (a certificate with neither name fails Node's check anyway).
function checkIdentity(socket, check, hostname, info) {
  const named = info.peerCn !== undefined || info.peerSan !== undefined;
  if (check === nodeCheckServerIdentity && named) {
    const names = { subject: info.peerCn === undefined ? {} : { CN: info.peerCn } };
    if (info.peerSan !== undefined) names.subjectaltname = info.peerSan;
    if (check(hostname, names) === undefined) return undefined;
  }
  return check(hostname, socket.getPeerCertificate(true));
}

// A client's `servername` is null until the handshake is done, then the
// name it sent in SNI, or false (Node's _finishInit asks the handle).
function clientServername(socket, options) {
  if (socket.servername === null || socket.servername === undefined) {
    socket.servername = (options && (options.servername || options.sni)) || false;
  }
}

// Client side: the handshake is done; decide as Node does whether the
// connection stands, then let held writes through.
function onClientSecure(socket, info) {
  const options = socket[kConnectOptions];
  if (!ocsp.reportResponse(socket, options, info)) return;
  socket._secureEstablished = true;
  socket.alpnProtocol = info.alpn || false;
  clientServername(socket, options);
  let verifyError = null;
  if (info.verifyCode) {
    verifyError = errors.verifyError(info.verifyCode, info.verifyMessage);
  } else {
    // Over a given socket without host or servername, the name the socket
    // itself connected to (net's `_host`), as in Node.
    const hostname = options.servername || options.host ||
      (options.socket && options.socket._host) || 'localhost';
    verifyError = checkIdentity(socket, options.checkServerIdentity, hostname, info);
  }
  socket.authorized = !verifyError;
  if (verifyError) socket.authorizationError = verifyError.code || verifyError.message;
  // Node decides in the first 'secure' listener, which tls.connect() adds:
  // so 'secureConnect' comes before the user's 'secure', and a rejected
  // connection still reaches the user's 'secure', after destroy(). A
  // TLSSocket made directly has no such listener and gets 'secure' alone
  // (onStandaloneSecure).
  if (verifyError && options.rejectUnauthorized) {
    socket[kRejected] = true;
    socket.destroy(verifyError);
  } else {
    socket.secureConnecting = false;
    socket.emit('secureConnect');
    sessions.sessionVerified(socket);
  }
  socket.emit('secure');
  if (!socket.destroyed) socket._releaseHeld();
}

// A client TLSSocket made with `new TLSSocket()`: 'secure' only; whether
// the server is trusted is the application's call (`ssl.verifyError()`),
// as in Node, where nothing is verified or rejected for it.
function onStandaloneSecure(socket, info) {
  socket._secureEstablished = true;
  socket.alpnProtocol = info.alpn || false;
  clientServername(socket, socket[kConnectOptions]);
  socket.emit('secure');
  socket._releaseHeld();
}

// Server side of a wrapped stream. A tls.Server's own socket records the
// client's verification as Node does, then the server takes it over
// ('secureConnection'). One the application made leaves `authorized` to the
// application (verifyError()), as in Node.
function onServerSecure(socket, info) {
  const options = socket._tlsOptions;
  const byServer = options[handle.kByServer] === true;
  const server = options.server;
  socket._secureEstablished = true;
  socket.alpnProtocol = info.alpn || false;
  socket.servername = info.servername || false;
  if (byServer && server.requestCert) {
    socket.authorized = !info.verifyCode;
    socket.authorizationError = info.verifyCode || null;
  }
  if (byServer) {
    socket._releaseControl();
    socket.secureConnecting = false;
  }
  socket.emit('secure');
  socket._releaseHeld();
  if (byServer && !socket.destroyed) server.emit('secureConnection', socket);
}

module.exports = { onClientSecure, onStandaloneSecure, onServerSecure };
