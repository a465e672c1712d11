'use strict';
// The private state of a TLSSocket, shared by the files that make one up
// (socket.js: the stream; connect.js: the client's way there; secure.js:
// what a finished handshake means). Node keeps such state in Symbol keys too.

const kNative = Symbol('kNative');
const kInfo = Symbol('kInfo');
const kHeld = Symbol('kHeld');
const kDrainCb = Symbol('kDrainCb');
const kFinalCb = Symbol('kFinalCb');
const kConnectOptions = Symbol('kConnectOptions');
const kRefed = Symbol('kRefed');
const kSockOpts = Symbol('kSockOpts');
const kClosed = Symbol('kClosed');
const kEndpoints = Symbol('kEndpoints');
const kBytesRead = Symbol('kBytesRead');
const kBytesWritten = Symbol('kBytesWritten');
const kOnEvent = Symbol('kOnEvent');
const kContext = Symbol('kContext');
const kAttach = Symbol('kAttach');
const kSetHold = Symbol('kSetHold');
const kHolding = Symbol('kHolding');
const kId = Symbol('kId');
const kPeerEnded = Symbol('kPeerEnded');
const kWrapped = Symbol('kWrapped');
const kWrapStart = Symbol('kWrapStart');
const kFeed = Symbol('kFeed');
const kFeedEnd = Symbol('kFeedEnd');
const kDeliver = Symbol('kDeliver');
// destroy() has run once: the native connection's end is no news then,
// even on a socket revived by _undestroy().
const kDestroyRan = Symbol('kDestroyRan');
// The connection is to be traced (enableTrace).
const kTrace = Symbol('kTrace');
// A server's enableTrace option as given (its sockets' option, as in Node).
const kServerTrace = Symbol('kServerTrace');
const kWrapGone = Symbol('kWrapGone');
// A taken-over net.Socket's read failure, handed to the native side in
// order after the bytes read before it.
const kWrapFailed = Symbol('kWrapFailed');
// The wrapped stream has emitted 'close'.
const kWrapClosed = Symbol('kWrapClosed');
const kWrapListen = Symbol('kWrapListen');
const kLeftOpen = Symbol('kLeftOpen');
const kRejected = Symbol('kRejected');
const kAwaitConnect = Symbol('kAwaitConnect');
const kWrapEarly = Symbol('kWrapEarly');
const kOnread = Symbol('kOnread');
const kFed = Symbol('kFed');
const kSubmitted = Symbol('kSubmitted');
const kIdle = Symbol('kIdle');
const kBusy = Symbol('kBusy');
const kServerOptions = Symbol.for('rustls-tls.serverOptions');
const kShutdownCbs = Symbol('kShutdownCbs');
const kWrappedIo = Symbol('kWrappedIo');
const kOutputEnded = Symbol('kOutputEnded');
const kFinalWaits = Symbol('kFinalWaits');
const kPairNamesServer = Symbol.for('rustls-tls.pairNamesServer');

module.exports = {
  kNative,
  kInfo,
  kHeld,
  kDrainCb,
  kFinalCb,
  kConnectOptions,
  kRefed,
  kSockOpts,
  kClosed,
  kEndpoints,
  kBytesRead,
  kBytesWritten,
  kOnEvent,
  kContext,
  kAttach,
  kSetHold,
  kHolding,
  kId,
  kPeerEnded,
  kWrapped,
  kWrapStart,
  kFeed,
  kFeedEnd,
  kDeliver,
  kDestroyRan,
  kTrace,
  kServerTrace,
  kWrapGone,
  kWrapFailed,
  kWrapClosed,
  kWrapListen,
  kLeftOpen,
  kRejected,
  kAwaitConnect,
  kWrapEarly,
  kOnread,
  kFed,
  kSubmitted,
  kIdle,
  kBusy,
  kServerOptions,
  kShutdownCbs,
  kWrappedIo,
  kOutputEnded,
  kFinalWaits,
  kPairNamesServer,
};
