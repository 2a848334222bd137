// The BlobStore contract against the S3 adapter, talking to a real S3 implementation that checks
// SigV4 signatures (OpenStack Swift with s3api and tempauth, started once for this file), plus
// what only S3 has: credentials that are refused, uploads that arrive corrupted, key prefixes.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/adapters/blob/s3-store.js';
import { startSwiftS3, type SwiftS3 } from '../support/swift-s3-server.js';
import { blobStoreContract, readAll } from './blob-store.contract.js';

describe('S3 blob store against OpenStack Swift (s3api, SigV4)', () => {
  let swift: SwiftS3;
  const options = (extra: Partial<S3BlobStoreOptions> = {}): S3BlobStoreOptions => ({
    bucket: swift.bucket,
    region: swift.region,
    endpoint: swift.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    ...extra,
  });

  before(async () => {
    const started = Date.now();
    swift = await startSwiftS3();
    console.log(`# Swift with s3api started in ${Date.now() - started} ms at ${swift.endpoint}`);
  });
  after(async () => {
    await swift?.stop();
  });

  blobStoreContract('S3 (explicit credentials)', async () => new S3BlobStore(options()));

  blobStoreContract('S3 (credentials from the environment, key prefix)', async () => {
    process.env.AWS_ACCESS_KEY_ID = swift.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = swift.secretAccessKey;
    return new S3BlobStore(options({ credentials: undefined, prefix: 'tenant-a/blobs/' }));
  });

  describe('S3 only', () => {
    const refused = (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^s3 (put|open|delete) .*: (SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied) \(HTTP 403\)/);
      return true;
    };

    it('refuses requests signed with a wrong secret, with a clear error', async () => {
      const secretAccessKey = `${swift.secretAccessKey.slice(0, -1)}${swift.secretAccessKey.endsWith('0') ? '1' : '0'}`;
      const store = new S3BlobStore(options({ credentials: { accessKeyId: swift.accessKeyId, secretAccessKey } }));
      try {
        await assert.rejects(store.put('wrong-secret/x.crate', Buffer.from('x')), (error: Error) => {
          refused(error);
          assert.match(error.message, /SignatureDoesNotMatch/);
          return true;
        });
        // A refused read is an error, never "no such blob".
        await assert.rejects(store.open('wrong-secret/x.crate'), refused);
        await assert.rejects(store.delete('wrong-secret/x.crate'), refused);
      } finally {
        await store.close();
      }
    });

    it('refuses an unknown access key', async () => {
      const store = new S3BlobStore(options({ credentials: { accessKeyId: 'test:nobody', secretAccessKey: swift.secretAccessKey } }));
      try {
        await assert.rejects(store.put('unknown-key/x.crate', Buffer.from('x')), refused);
      } finally {
        await store.close();
      }
    });

    it('refuses unsigned requests', async () => {
      const store = new S3BlobStore(options());
      try {
        await store.put('unsigned/x.crate', Buffer.from('secret crate'));
        // Both through the S3 path and through Swift's own API, which shares the same objects.
        for (const path of [`/${swift.bucket}/unsigned/x.crate`, `/v1/AUTH_test/${swift.bucket}/unsigned/x.crate`]) {
          const reply = await fetch(`${swift.endpoint}${path}`);
          const body = await reply.text();
          assert.ok(reply.status >= 400 && reply.status < 500, `an unsigned GET ${path} got HTTP ${reply.status}`);
          assert.doesNotMatch(body, /secret crate/);
        }
        const swiftApi = await fetch(`${swift.endpoint}/v1/AUTH_test/${swift.bucket}/unsigned/x.crate`);
        await swiftApi.arrayBuffer();
        assert.equal(swiftApi.status, 401);
      } finally {
        await store.close();
      }
    });

    it('refuses an upload whose bytes do not match its Content-MD5', async () => {
      const client = new S3Client({ ...options(), requestChecksumCalculation: 'WHEN_REQUIRED' });
      try {
        const sent = Buffer.from('the bytes that arrived');
        const meant = Buffer.from('the bytes that were sent');
        const command = new PutObjectCommand({
          Bucket: swift.bucket,
          Key: 'corrupted/x.crate',
          Body: sent,
          ContentLength: sent.length,
          ContentMD5: createHash('md5').update(meant).digest('base64'),
        });
        await assert.rejects(client.send(command), { name: 'BadDigest' });
      } finally {
        client.destroy();
      }
    });

    it('stores keys under the prefix', async () => {
      const prefixed = new S3BlobStore(options({ prefix: '/team-b/' }));
      const plain = new S3BlobStore(options());
      try {
        const bytes = randomBytes(64);
        await prefixed.put('crates/p/1.0.0+x/p.crate', bytes);
        const blob = await plain.open('team-b/crates/p/1.0.0+x/p.crate');
        assert.ok(blob, 'the object is not under the prefix');
        assert.ok((await readAll(blob.stream)).equals(bytes));
        assert.equal(await plain.open('crates/p/1.0.0+x/p.crate'), undefined);
      } finally {
        await Promise.all([prefixed.close(), plain.close()]);
      }
    });

    it('treats a missing bucket as an error, not as a missing blob', async () => {
      const store = new S3BlobStore(options({ bucket: 'no-such-bucket-here' }));
      try {
        await assert.rejects(store.open('x.crate'), /NoSuchBucket \(HTTP 404\)/);
      } finally {
        await store.close();
      }
    });
  });
});
