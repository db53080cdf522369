// Preloaded with `node --require ./preload.js`: sends every connection for a cloud host name to the
// emulator (127.0.0.1:EMU_HTTPS_PORT) while keeping the real name for SNI, certificate checks and the
// Host header -- the Node equivalent of libcurl's CONNECT_TO.
'use strict';
const tls = require('tls');
const dns = require('dns');
const PORT = parseInt(process.env.EMU_HTTPS_PORT, 10);
const CLOUD = /(\.myqcloud\.com|\.tencentcloudapi\.com|\.aliyuncs\.com|\.tencentcos\.cn)$/i;

const origConnect = tls.connect;
tls.connect = function (...args) {
  let opts;
  const cb = args.find((a) => typeof a === 'function');
  if (args[0] !== null && typeof args[0] === 'object') {
    opts = Object.assign({}, args[0]);
  } else {
    opts = Object.assign({}, (args[2] && typeof args[2] === 'object') ? args[2] : {});
    opts.port = args[0];
    if (typeof args[1] === 'string') opts.host = args[1];
  }
  const host = opts.servername || opts.host;
  if (host && CLOUD.test(host)) {
    opts.servername = host;
    opts.host = '127.0.0.1';
    opts.port = PORT;
    delete opts.path;
  }
  return cb ? origConnect.call(tls, opts, cb) : origConnect.call(tls, opts);
};

const origLookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (hostname && CLOUD.test(hostname)) {
    if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(callback, null, '127.0.0.1', 4);
  }
  return origLookup.call(dns, hostname, options, callback);
};
