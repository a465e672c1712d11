'use strict';
// Sessions as Node has them, on both ends.
//
// Client: every session the server gives (one per TLS 1.3 ticket, one per
// TLS 1.2 handshake) arrives as a SESSION event carrying a session Buffer
// (src/session.rs: it names this process's copy of the rustls session, and
// carries the ticket for getTLSTicket()). As in Node, 'session' is emitted
// only once the connection is verified ('secureConnect' has been emitted);
// one that arrives earlier waits until then.
//
// Server: 'newSession' / 'resumeSession' listeners are counted and reported
// to the native server, which then holds each handshake for them (the
// ClientHello's session id is looked up before the handshake goes on, and a
// new session is announced before 'secureConnection'), as Node does.

const { binding, EV } = require('./native');
const errors = require('./errors');

const kSession = Symbol('kSession');
const kPending = Symbol('kPendingSession');
const kVerified = Symbol('kVerified');
const kPlaceholder = Symbol('kPlaceholder');
const kGiven = Symbol('kGivenSession');
// What becomes of the socket's newest session: `escaped` once it reached
// the program ('session' listened to, or getSession()). A session that never
// did is dropped from the process's registry when the socket is collected
// (not at 'close': getSession() is still allowed then).
const kFate = Symbol('kFate');
const forgotten = new FinalizationRegistry((fate) => {
  if (!fate.escaped && !sameSession(fate.session, fate.given)) binding.forgetSession(fate.session);
});

// Offsets in a session Buffer: 'RTLS', format, token (16), protocol, length.
const kTicketLength = 22;
const kTicketStart = 24;

// A client socket got a new session from its server.
function onSession(socket, session) {
  socket[kSession] = session;
  let fate = socket[kFate];
  if (!fate) {
    fate = socket[kFate] = { session, given: socket[kGiven], escaped: false };
    forgotten.register(socket, fate);
  }
  // Sessions of one connection share their registry slot unless a refused
  // resumption started a new one: the newest is the one that matters.
  if (!sameSession(fate.session, session)) fate.escaped = false;
  fate.session = session;
  if (socket[kVerified]) announce(socket, session);
  else socket[kPending] = session;
}

function announce(socket, session) {
  if (socket.emit('session', session)) socket[kFate].escaped = true;
}

// The token (bytes 5 to 20) of a session Buffer.
function sameSession(a, b) {
  return Boolean(a && b && a.length > 21 && b.length > 21 && a.compare(b, 5, 21, 5, 21) === 0);
}

// The client connection was accepted ('secureConnect' emitted): sessions
// may be announced from now on.
function sessionVerified(socket) {
  socket[kVerified] = true;
  const pending = socket[kPending];
  socket[kPending] = null;
  if (pending) announce(socket, pending);
}

// Whether the running Node takes sessions through getSessionForReuse()
// (Node 22 and later): the `session` option may then be a string (its
// bytes, latin1), and setSession(undefined) does nothing; Node 20 refuses
// both. Read from Node's own TLSSocket, so each version answers as its own.
let reuseForm;
function takesReuseForm() {
  if (reuseForm === undefined) {
    reuseForm = /getSessionForReuse/.test(String(require('tls').TLSSocket.prototype.setSession));
  }
  return reuseForm;
}

// A session as the native side takes it (a Buffer, or nothing). The
// `session` option is ignored when falsy, as Node's, and a string is taken
// where the running Node takes one (see takesReuseForm). setSession()
// (`fromOption` false) takes a string on every version and refuses anything
// else that is not bytes; `undefined` is refused on Node 20 and ignored
// (nothing returned) from Node 22.
function sessionParam(session, fromOption = true) {
  if (fromOption && !session) return undefined;
  if (!fromOption && session === undefined && takesReuseForm()) return undefined;
  if (typeof session === 'string' && (!fromOption || takesReuseForm())) {
    return Buffer.from(session, 'latin1');
  }
  if (!ArrayBuffer.isView(session)) {
    throw errors.nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'Session must be a buffer');
  }
  return Buffer.from(session.buffer, session.byteOffset, session.byteLength);
}

// Remembers the session a client was given, which stays its session when
// resumed without a new one.
function setGivenSession(socket, session) {
  socket[kGiven] = session;
}

// getSession(): the newest session; after a resumption without a new one,
// the session resumed; before any (TLS 1.3 sends its tickets after the
// handshake), a placeholder that resumes nothing, as Node's does.
function getSession(socket, info) {
  if (!info) return undefined;
  if (socket[kSession]) {
    socket[kFate].escaped = true;
    return socket[kSession];
  }
  if (info.resumed && socket[kGiven]) return socket[kGiven];
  if (!socket[kPlaceholder]) socket[kPlaceholder] = binding.placeholderSession();
  return socket[kPlaceholder];
}

function ticketOf(session) {
  if (!session || session.length < kTicketStart) return undefined;
  const len = session.readUInt16BE(kTicketLength);
  if (len === 0) return undefined;
  return Buffer.from(session.subarray(kTicketStart, kTicketStart + len));
}

// getTLSTicket(): a client's newest ticket; after a resumption without a
// new one, the ticket of the session resumed (the session Buffer's, which
// rustls may have stood in for with a newer ticket of the same session,
// using each ticket once); a server has none.
function getTLSTicket(socket, info, isServer) {
  if (!info || isServer) return undefined;
  const ticket = ticketOf(socket[kSession]);
  if (ticket) return ticket;
  if (!info.resumed) return undefined;
  return ticketOf(socket[kGiven]) || (info.ticket ? Buffer.from(info.ticket) : undefined);
}

function isSessionReused(info) {
  return Boolean(info && info.resumed);
}

// Keeps the native server told which session cache listeners exist.
function trackSessionListeners(server, nativeOf) {
  const update = () => {
    const native = nativeOf();
    if (native) {
      native.setSessionEvents(server.listenerCount('newSession') > 0,
                              server.listenerCount('resumeSession') > 0);
    }
  };
  const onChange = (event) => {
    if (event === 'newSession' || event === 'resumeSession') process.nextTick(update);
  };
  server.on('newListener', onChange);
  server.on('removeListener', onChange);
  return update;
}

// 'newSession' (sessionId, sessionData, callback): the handshake goes on
// once the callback is called.
function emitNewSession(server, native, info, data) {
  let done = false;
  const callback = () => {
    if (done) return;
    done = true;
    native.answerSession(info.id, null, false);
  };
  if (!server.emit('newSession', Buffer.from(info.sessionId), data, callback)) callback();
}

// 'resumeSession' (sessionId, callback(err, sessionData)): the handshake
// resumes the session given, or goes on as a full one; an error is for
// `fail(err)` to end it with ('tlsClientError', as in Node).
function emitResumeSession(server, native, info, fail) {
  let done = false;
  const callback = (err, sessionData) => {
    if (done) return;
    done = true;
    if (err) {
      fail(err);
      return;
    }
    const data = ArrayBuffer.isView(sessionData) ?
      Buffer.from(sessionData.buffer, sessionData.byteOffset, sessionData.byteLength) : null;
    native.answerSession(info.id, data, false);
  };
  if (!server.emit('resumeSession', Buffer.from(info.sessionId), callback)) callback(null);
}

// The session cache events of a server socket over a wrapped stream, which
// its server answers.
function wrappedCacheEvent(socket, native, kind, info, data) {
  const server = socket._tlsOptions.server;
  if (!server) {
    native.answerSession(info.id, null, false);
  } else if (kind === EV.NEW_SESSION) {
    emitNewSession(server, native, info, data);
  } else {
    // Destroyed, the connection reports nothing more.
    emitResumeSession(server, native, info, (err) => {
      socket.destroy();
      require('./handle').serverClientError(socket, server, err);
    });
  }
}

// Which session cache listeners `server` has, as the native side counts
// them (1: 'newSession', 2: 'resumeSession').
function sessionEvents(server) {
  if (!server || typeof server.listenerCount !== 'function') return 0;
  return (server.listenerCount('newSession') > 0 ? 1 : 0) +
    (server.listenerCount('resumeSession') > 0 ? 2 : 0);
}

module.exports = {
  onSession,
  wrappedCacheEvent,
  sessionEvents,
  sessionVerified,
  sessionParam,
  setGivenSession,
  getSession,
  getTLSTicket,
  isSessionReused,
  trackSessionListeners,
  emitNewSession,
  emitResumeSession,
};
