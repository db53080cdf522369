// receiver.js: a webhook receiver for vodhook's integration tests. Every
// message is checked with the Standard Webhooks reference library from npm
// (standardwebhooks, pinned in package.json), written by others, never with
// vodhook's own code.
//
//   node receiver.js PORT_FILE [PORT]  listens on 127.0.0.1:PORT (a free
//                                   one by default), written to PORT_FILE
//
// Each path is an endpoint, configured by the test:
//   POST /_ctl/config {"path": "/a", "secrets": ["whsec_..."],
//                      "statuses": [500, 200], "delay_ms": 0,
//                      "reply_hex": "ff00"}   (the answer's body, else JSON)
//     statuses are answered in turn, the last one for ever after.
//   GET  /_ctl/received?path=/a    what arrived there, in order:
//     {id, timestamp, verified: [true|false per secret], body, at}
//     (recorded once answered; a delayed answer comes later)
//   GET  /_ctl/arrived?path=/a     {"n": requests arrived there, answered
//     or not}
//   POST /_ctl/reset
'use strict';
const http = require('http');
const fs = require('fs');
const { Webhook } = require('standardwebhooks');

const endpoints = new Map();
const received = new Map();

function endpoint(path) {
  if (!endpoints.has(path))
    endpoints.set(path, { secrets: [], statuses: [200], delay_ms: 0, n: 0 });
  return endpoints.get(path);
}

function verifyWith(secret, body, headers) {
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': headers['webhook-id'],
      'webhook-timestamp': headers['webhook-timestamp'],
      'webhook-signature': headers['webhook-signature'],
    });
    return true;
  } catch (e) {
    return false;
  }
}

function reply(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body);
}

function control(req, res, url, body) {
  if (url.pathname === '/_ctl/config') {
    const c = JSON.parse(body);
    const e = endpoint(c.path);
    if (c.secrets) e.secrets = c.secrets;
    if (c.statuses) { e.statuses = c.statuses; e.n = 0; }
    if (c.delay_ms !== undefined) e.delay_ms = c.delay_ms;
    if (c.reply_hex !== undefined) e.reply_hex = c.reply_hex;
    return reply(res, 200, {});
  }
  if (url.pathname === '/_ctl/arrived') {
    const e = endpoints.get(url.searchParams.get('path'));
    return reply(res, 200, { n: e ? e.arrived || 0 : 0 });
  }
  if (url.pathname === '/_ctl/received')
    return reply(res, 200, received.get(url.searchParams.get('path')) || []);
  if (url.pathname === '/_ctl/reset') {
    endpoints.clear();
    received.clear();
    return reply(res, 200, {});
  }
  return reply(res, 404, {});
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname.startsWith('/_ctl/'))
      return control(req, res, url, body);
    const e = endpoint(url.pathname);
    const status = e.statuses[Math.min(e.n, e.statuses.length - 1)];
    e.n++;
    e.arrived = (e.arrived || 0) + 1;
    const rec = {
      id: req.headers['webhook-id'],
      timestamp: req.headers['webhook-timestamp'],
      signature: req.headers['webhook-signature'],
      verified: e.secrets.map((s) => verifyWith(s, body, req.headers)),
      status: status,
      body: body,
      at: Date.now(),
    };
    const answer = () => {
      if (!received.has(url.pathname)) received.set(url.pathname, []);
      received.get(url.pathname).push(rec);
      if (e.reply_hex !== undefined) {
        res.writeHead(status, { 'Content-Type': 'application/octet-stream' });
        return res.end(Buffer.from(e.reply_hex, 'hex'));
      }
      reply(res, status, { ok: status < 300 });
    };
    if (e.delay_ms > 0) setTimeout(answer, e.delay_ms);
    else answer();
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[3] || 0), '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], String(server.address().port));
});
