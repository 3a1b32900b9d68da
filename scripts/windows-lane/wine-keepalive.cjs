/*
 * Loaded into every node.exe of the Windows lane under Wine (NODE_OPTIONS=--require), never
 * on a real Windows machine or in the product. Wine 8's winsock does not know TCP_KEEPIDLE
 * (setsockopt IPPROTO_TCP 3: "fixme: Unknown IPPROTO_TCP optname"); libuv applies a keepalive
 * that was asked for before the connection is up while it connects, and the connect then
 * fails with UNKNOWN. fetch() (undici) asks for keepalive on every new socket before it
 * connects, so without this no fetch() works under Wine. Here such a request waits for
 * 'connect' and is applied then (an error from Wine there is ignored, as Node does); a
 * connected socket's setKeepAlive is untouched.
 */
'use strict';
const net = require('node:net');

const setKeepAlive = net.Socket.prototype.setKeepAlive;
net.Socket.prototype.setKeepAlive = function deferredWhileConnecting(enable, initialDelay) {
  if (!this.connecting) return setKeepAlive.call(this, enable, initialDelay);
  this.once('connect', () => {
    try {
      setKeepAlive.call(this, enable, initialDelay);
    } catch {
      // Keepalive is an optimisation; a socket without it still works.
    }
  });
  return this;
};
