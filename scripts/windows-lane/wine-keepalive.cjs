/*
 * Loaded into every node.exe of the Windows lane under Wine (NODE_OPTIONS=--require), never
 * on a real Windows machine or in the product. Wine 8's winsock does not know TCP_KEEPIDLE
 * (setsockopt IPPROTO_TCP 3: "fixme: Unknown IPPROTO_TCP optname"); libuv applies a keepalive
 * that was asked for before the connection is up while it connects, and the connect then
 * fails with UNKNOWN. fetch() (undici) asks for keepalive on every new socket before it
 * connects, so without this no fetch() works under Wine. Here such a request waits for
 * 'connect' and is applied then (an error from Wine there is ignored, as Node does); a
 * connected socket's setKeepAlive is untouched. (A second Wine effect on the same path is
 * handled below.)
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

/*
 * Second Wine timing effect, same file because it is the same keep-alive path: starting a
 * node.exe under Wine takes seconds, and a test that runs the CLI with spawnSync blocks its
 * event loop that long, while its own admin server and fetch() client wait in it. The
 * server's 5 s keep-alive timer and fetch's next request on the same idle socket then fire
 * together, and the request meets a reset (ECONNRESET). Servers here keep idle connections
 * a minute instead, so the client, whose idle limit is 4 s, always closes first.
 */
const http = require('node:http');

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function listenWithLongKeepAlive(...args) {
  if (this.keepAliveTimeout > 0 && this.keepAliveTimeout < 60_000) this.keepAliveTimeout = 60_000;
  return listen.apply(this, args);
};
