'use strict';
// The `onread` option of tls.connect() (net.Socket's, Node docs
// "socket.connect(options)"): decrypted data is copied into the caller's
// buffer and handed to `callback(nread, buffer)` instead of 'data' events.
// `buffer` is a Buffer/Uint8Array reused for every call, or a function
// returning the buffer to fill next. A callback returning `false`, or a
// socket.pause(), stops delivery until socket.resume(); what arrived in the
// meantime waits here (and the native side stops reading, so it is bounded).

const { isUint8Array } = require('util').types;

// Whether `onread` is one Node would take (it ignores any other value).
function isOnread(onread) {
  return onread !== null && typeof onread === 'object' &&
    (isUint8Array(onread.buffer) || typeof onread.buffer === 'function') &&
    typeof onread.callback === 'function';
}

class OnreadSink {
  constructor(socket, { buffer, callback }) {
    this.socket = socket;
    this.buffer = buffer;
    this.callback = callback;
    this.queue = [];
    this.ended = false;
    this.delivering = false;
  }

  // Decrypted bytes arrived. Returns false when the native side should stop
  // reading (delivery is paused).
  deliver(data) {
    this.queue.push(data);
    this.flush();
    return this.queue.length === 0;
  }

  // The peer ended: 'end' follows once everything queued was delivered.
  end() {
    this.ended = true;
    this.flush();
  }

  // Delivers what is queued while the socket is not paused.
  flush() {
    if (this.delivering) return;
    this.delivering = true;
    const socket = this.socket;
    try {
      while (this.queue.length > 0 && !socket.destroyed && !socket.isPaused()) {
        const chunk = this.queue[0];
        const target = typeof this.buffer === 'function' ? this.buffer() : this.buffer;
        const n = Math.min(target.length, chunk.length);
        target.set(chunk.subarray(0, n));
        if (n === chunk.length) this.queue.shift();
        else this.queue[0] = chunk.subarray(n);
        if (this.callback.call(socket, n, target) === false) socket.pause();
      }
    } finally {
      this.delivering = false;
    }
    if (this.queue.length === 0 && this.ended && !socket.destroyed) {
      this.ended = false;
      // Node asks for a buffer before each read, the one that finds the end
      // of the stream too.
      if (typeof this.buffer === 'function') this.buffer();
      socket.push(null);
      socket.read(0);
    }
  }
}

module.exports = { isOnread, OnreadSink };
