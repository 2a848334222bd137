// Blobs as objects in an S3 bucket (AWS, or any S3 implementation: Swift's s3api, MinIO, Ceph...),
// so that several stateless replicas can share the crate files.
//
// - put() sends Content-Length and Content-MD5: the server refuses a body that arrived corrupted or
//   truncated, and a PUT that resolves is stored (S3 acknowledges only after the write).
// - The SDK's newer default CRC32 "flexible checksums" (and checksum-mode on reads) are turned off
//   ("WHEN_REQUIRED"): many S3 implementations reject or mishandle them, and Content-MD5 already
//   protects the upload.
// - open() returns the response body as a Node stream with its Content-Length; a missing key is
//   undefined. delete() is idempotent (S3 answers 204 for a missing key; a 404 is accepted too).
// - Keys go in the request path; the SDK percent-encodes them, so `+` stays `+` (tested against a
//   real server, because some decode a raw `+` as a space).
// - Without explicit credentials the SDK's default chain is used (AWS_ACCESS_KEY_ID and friends,
//   profiles, instance roles).
// Errors from S3 are rethrown with the operation, bucket, key, S3 error code and HTTP status in
// the message (the original error is the `cause`), so "wrong secret" is readable in a log.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { BlobStore } from '../../ports/blob-store.js';

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  /** For S3 implementations other than AWS, e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key`; most self-hosted S3 need it. */
  forcePathStyle?: boolean;
  /** Prepended to every key, with a `/` between, to share a bucket with other data. */
  prefix?: string;
  /** Explicit credentials; when absent, the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix === '' ? '' : `${prefix}/`;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.prefix + key,
      Body: bytes,
      ContentLength: bytes.length,
      ContentMD5: createHash('md5').update(bytes).digest('base64'),
      ContentType: 'application/octet-stream',
    });
    try {
      await this.client.send(command);
    } catch (error) {
      throw this.describe('put', key, error);
    }
  }

  async open(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      const body = reply.Body;
      if (!(body instanceof Readable)) throw new Error('S3 reply body is not a Node stream');
      if (reply.ContentLength === undefined) {
        body.destroy();
        throw new Error('S3 reply has no Content-Length');
      }
      return { stream: body, size: reply.ContentLength };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.describe('open', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw this.describe('delete', key, error);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private describe(operation: string, key: string, error: unknown): Error {
    const where = `s3 ${operation} ${this.bucket}/${this.prefix}${key}`;
    if (error instanceof S3ServiceException) {
      const status = error.$metadata.httpStatusCode ?? '?';
      return new Error(`${where}: ${error.name} (HTTP ${status}): ${error.message}`, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new Error(`${where}: ${message}`, { cause: error });
  }
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  // Only a missing key: a missing bucket (NoSuchBucket, also 404) is a configuration error.
  return error.name === 'NoSuchKey' || (error.name === 'NotFound' && error.$metadata.httpStatusCode === 404);
}
