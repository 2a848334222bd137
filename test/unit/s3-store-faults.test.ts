// The S3 blob store against endpoints that misbehave, on loopback: one that accepts connections and
// never answers, one that stops in the middle of a download, one that answers 503. Each fails with
// an error instead of hanging; the first and last are `unavailable` errors that name the storage
// and nothing else. Each await has a deadline that only detects a hang.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { S3BlobStore } from '../../src/adapters/blob/s3-store.js';
import { RegistryError } from '../../src/domain/errors.js';
import { withinOrHang } from '../support/hang-guard.js';
import { startSilentServer } from '../support/silent-server.js';

const HANG_MS = 20_000;

const noHang = <T>(promise: Promise<T>, what: string): Promise<T> => withinOrHang(promise, HANG_MS, what);

function storeAt(endpoint: string): S3BlobStore {
  return new S3BlobStore({
    bucket: 'crates',
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' },
    timeouts: { connectMs: 500, idleMs: 500, maxAttempts: 2 },
  });
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, port };
}

function storageUnavailable(port: number) {
  return (error: unknown) => {
    assert.ok(error instanceof RegistryError, `not a RegistryError: ${String(error)}`);
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.message, 'the storage is not answering; try again shortly');
    assert.ok(!error.message.includes(String(port)));
    assert.match(String((error.cause as Error).message), /^s3 (open|put|delete) crates\//, 'the cause for the log names the operation');
    return true;
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('S3 blob store against a storage that misbehaves', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup) await step();
  });

  it('a storage that accepts connections and never answers: unavailable, for reads and writes', async () => {
    const silent = await startSilentServer();
    const store = storeAt(silent.url);
    cleanup.push(
      () => store.close(),
      () => silent.close(),
    );
    await noHang(assert.rejects(store.open('a/1.0.0.crate'), storageUnavailable(silent.port)), 'open');
    await noHang(assert.rejects(store.put('a/1.0.0.crate', Buffer.from('bytes')), storageUnavailable(silent.port)), 'put');
    await noHang(assert.rejects(store.delete('a/1.0.0.crate'), storageUnavailable(silent.port)), 'delete');
  });

  it('a download that stalls after its first bytes ends with an error', async () => {
    const { server, url } = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 1)); // then nothing, the connection held open
    });
    const store = storeAt(url);
    cleanup.push(
      () => store.close(),
      () => new Promise((resolve) => server.close(() => resolve())),
    );
    const blob = await noHang(store.open('a/1.0.0.crate'), 'open');
    assert.ok(blob);
    assert.equal(blob.size, 100000);
    await noHang(assert.rejects(readAll(blob.stream)), 'reading the stalled stream');
  });

  it('a storage that answers 503: unavailable after the bounded retries', async () => {
    let requests = 0;
    const { server, url, port } = await listen((_req, res) => {
      requests++;
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>');
    });
    const store = storeAt(url);
    cleanup.push(
      () => store.close(),
      () => new Promise((resolve) => server.close(() => resolve())),
    );
    await noHang(assert.rejects(store.open('a/1.0.0.crate'), storageUnavailable(port)), 'open');
    assert.equal(requests, 2, 'max_attempts bounds the retries');
  });
});
