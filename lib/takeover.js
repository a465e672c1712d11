'use strict';
// How a TLSSocket reads the stream it wraps.
//
// In Node, TLS over a connected net.Socket takes over that socket's handle:
// the bytes read from it go to TLS and nowhere else, so the net.Socket
// itself emits no 'data' and no 'end' any more (only 'close', when TLS is
// done with it). Libraries rely on that: mysql leaves the raw socket piped
// into its protocol parser, and an 'end' of the raw socket would end the
// parser before the last decrypted bytes (a server's final error packet)
// reach it. Here the socket's own reads are redirected the same way: what
// its handle delivers (`push`) is fed to TLS instead of its readable side,
// and TLS shuts its handle down after close_notify without ending the
// socket's writable side (so it emits no 'finish' either).
//
// Its I/O failures are TLS's too: the socket emits no 'error' of its own
// for them, and closes with `close(false)` (`fail(err)` hears of them
// instead). An error the application raises on it (`destroy(err)`,
// `emit('error')`) is the socket's own, as in Node, and is also reported by
// the TLS socket (`raised(err)`: '_tlsError', then 'error'), which closes
// with it.
//
// Any other Duplex is read through its 'data' and 'end' events, which its
// other listeners see too, as with Node's JSStreamSocket; its errors are its
// own and are reported by the TLS socket too (`raised(err)`), which closes
// with it.

const { EventEmitter } = require('events');
const net = require('net');

// Reads `stream` into `feed(chunk)` (false: stop reading for now) and
// `end()`, from the next tick on (as Node's TLSSocket starts reading), and
// reports a taken-over socket's failures to `fail(err)`. Returns
// `{ resume, write, endOutput }`: `resume()` reads again after a stop;
// `write(data, cb)` writes to the stream; `endOutput(done)` ends the
// stream's writable side once what was written to it is flushed, and calls
// `done()` then (or when the stream is gone).
function readInto(stream, feed, end, fail, raised) {
  if (stream instanceof net.Socket && stream._handle && !stream.destroyed) {
    hideEvents(stream, fail, raised);
    return takeOver(stream, feed, end);
  }
  stream.on('error', raised);
  stream.on('data', (chunk) => {
    if (!feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) stream.pause();
  });
  stream.on('end', end);
  if (typeof stream.resume === 'function') process.nextTick(() => stream.resume());
  return {
    resume: () => stream.resume(),
    write: (data, cb) => stream.write(data, cb),
    endOutput: (done) => {
      if (!stream.writableEnded) stream.end();
      whenFlushed(stream, 'finish', done);
    },
  };
}

// Calls `done` once `stream` has emitted `event` or closed, at most once.
function whenFlushed(stream, event, done) {
  if (stream.destroyed || (event === 'finish' && stream.writableFinished)) {
    done();
    return;
  }
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    stream.removeListener(event, once);
    stream.removeListener('close', once);
    done();
  };
  stream.on(event, once);
  stream.on('close', once);
}

// The events of a taken-over net.Socket that are TLS's, not its own: its
// bytes and end (which push() below redirects anyway), its 'finish', and
// its failures, which go to `fail` alone.
const kTaken = ['data', 'end', 'finish'];

function hideEvents(socket, fail, raised) {
  const own = new EventEmitter();
  own.on('error', fail);
  const emit = socket.emit;
  let raisedHere = false;
  socket.emit = function emitNotTaken(name, ...args) {
    if (name === 'error') {
      if (isIoError(args[0])) return own.emit(name, ...args);
      // The application's: its listeners hear it (Node's TLS socket listens
      // too, so none is needed), then the TLS socket.
      raisedHere = true;
      if (this.listenerCount('error') > 0) emit.call(this, name, ...args);
      raised(args[0]);
      return true;
    }
    if (kTaken.includes(name)) return false;
    // Its I/O failures were TLS's: it closes without one of its own.
    if (name === 'close') return emit.call(this, name, raisedHere && Boolean(args[0]));
    return emit.call(this, name, ...args);
  };
}

// A failure of the socket's own reads or writes (what libuv reports), as
// opposed to an error the application gave it.
function isIoError(err) {
  return Boolean(err) && typeof err.syscall === 'string' && Number.isInteger(err.errno);
}

function takeOver(socket, feed, end) {
  // What the socket read before TLS started is TLS's too.
  let buffered;
  while ((buffered = socket.read()) !== null) {
    feed(typeof buffered === 'string' ? Buffer.from(buffered) : buffered);
  }
  let ended = false;
  socket.push = function push(chunk, encoding) {
    if (chunk === null) {
      if (!ended) {
        ended = true;
        end();
      }
      return false;
    }
    return feed(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
  };
  const resume = () => {
    if (!socket.destroyed && socket._handle && !ended) socket._read();
  };
  process.nextTick(resume);
  // Our writes, counted, so that the end can wait for them.
  let writing = 0;
  let afterWrites = null;
  const write = (data, cb) => {
    writing++;
    socket.write(data, (err) => {
      writing--;
      cb(err);
      if (writing === 0 && afterWrites) {
        const run = afterWrites;
        afterWrites = null;
        run();
      }
    });
  };
  // Our side ends as TLS ends it in Node: a shutdown of the handle once the
  // writes before it are done, without the socket's own end() (no 'finish').
  const endOutput = (done) => {
    let called = false;
    const finish = () => {
      if (called) return;
      called = true;
      socket.removeListener('close', finish);
      done();
    };
    socket.on('close', finish);
    const shutdown = () => {
      if (socket.destroyed || !socket._handle) finish();
      else socket._final(() => finish());
    };
    if (writing > 0) afterWrites = shutdown;
    else shutdown();
  };
  return { resume, write, endOutput };
}

module.exports = { readInto };
