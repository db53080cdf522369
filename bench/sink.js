// sink.js: a webhook receiver for the benchmarks: answers every POST 204 at
// once and counts them; GET / answers the count. No signature is checked
// here (tests/integration/webhook_receiver does that).
//
//   node bench/sink.js PORT_FILE
'use strict';
const http = require('http');
const fs = require('fs');

let received = 0;
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    if (req.method === 'POST') {
      received++;
      res.writeHead(204);
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(String(received));
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], String(server.address().port));
});
