// Reference point for the benchmark, not part of cratekeeper: the least a Node process can do to
// serve an authenticated sparse-index file. node:http, no framework, no hooks, no logging; per
// request it hashes the token (SHA-256, as cratekeeper stores tokens), looks the hash up in a Map,
// looks the file up in a Map, answers 304 on a matching If-None-Match, else 200 with the buffer.
// The gap between this and cratekeeper is what the framework and the registry's own code cost;
// the gap between this and nginx is what one Node process costs.
//
// Started by index-throughput.mjs: node bench/bare-node-server.mjs WWW_DIR
//   env BENCH_TOKEN (the accepted token), BENCH_WORKERS (processes; default 1).
// Prints `listening on http://127.0.0.1:PORT` on stdout. Loopback only.

import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const www = process.argv[2];
const workers = Number(process.env.BENCH_WORKERS ?? 1);

if (workers > 1 && cluster.isPrimary) {
  // Workers share one listening socket; the primary prints the URL once all of them listen.
  cluster.setupPrimary({ silent: false });
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', (_w, address) => {
    if (++listening === workers) console.log(`listening on http://127.0.0.1:${address.port}`);
  });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const tokens = new Map([[sha256(process.env.BENCH_TOKEN ?? ''), { user: 'admin' }]]);
  const files = new Map();
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const p = path.join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const body = readFileSync(p);
        files.set('/' + path.relative(www, p), { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` });
      }
    }
  };
  walk(www);

  const server = http.createServer((req, res) => {
    const token = req.headers.authorization;
    if (token === undefined || !tokens.has(sha256(token))) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('token required\n');
    }
    const file = files.get(req.url);
    if (!file) {
      res.writeHead(404);
      return res.end();
    }
    const headers = { etag: file.etag, 'cache-control': 'private, no-cache', vary: 'accept-encoding' };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    headers['content-type'] = 'text/plain; charset=utf-8';
    headers['content-length'] = file.body.length;
    res.writeHead(200, headers);
    res.end(file.body);
  });
  // In a cluster, every worker's listen(0) gets the same port.
  server.listen(0, '127.0.0.1', () => {
    if (!cluster.isWorker) console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
