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
// A storage that does not answer must not hang the registry: connecting has a deadline, and so has
// any moment without progress on a request's socket (`timeoutMs`: a request unanswered, an upload
// stuck, or a download whose stream stalls, which then ends with an error). Retries are bounded.
// A timeout, a network failure or an S3 5xx becomes an `unavailable` error naming the storage (a
// 503; dependency-unavailable.ts), with the described error as its cause for the log.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../ports/blob-store.js';
import { dependencyUnavailable, isNetworkError } from '../dependency-unavailable.js';

export interface S3Timeouts {
  /** Establishing a connection. */
  connectMs: number;
  /** Longest time without progress on a request's socket, answer and download streams included. */
  idleMs: number;
  /** Attempts per operation, the first included. */
  maxAttempts: number;
}

/** The configuration schema's defaults (storage.s3.*), for callers without a configuration. */
export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connectMs: 3_000, idleMs: 5_000, maxAttempts: 2 };

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
  timeouts?: S3Timeouts;
}

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix === '' ? '' : `${prefix}/`;
    const timeouts = options.timeouts ?? DEFAULT_S3_TIMEOUTS;
    this.client = new S3Client({
      region: options.region,
      // socketTimeout is inactivity: it also ends a download stream that stalls after its headers.
      requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
      maxAttempts: timeouts.maxAttempts,
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
    let described: Error;
    if (error instanceof S3ServiceException) {
      const status = error.$metadata.httpStatusCode ?? '?';
      described = new Error(`${where}: ${error.name} (HTTP ${status}): ${error.message}`, { cause: error });
    } else {
      const message = error instanceof Error ? error.message : String(error);
      described = new Error(`${where}: ${message}`, { cause: error });
    }
    return isUnavailable(error) ? dependencyUnavailable('storage', described) : described;
  }
}

/** A storage that did not answer, could not be reached, or says it cannot serve now (5xx). */
function isUnavailable(error: unknown): boolean {
  if (error instanceof S3ServiceException) return (error.$metadata.httpStatusCode ?? 0) >= 500;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || isNetworkError(error) || isNetworkError((error as { cause?: unknown } | null)?.cause);
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  // Only a missing key: a missing bucket (NoSuchBucket, also 404) is a configuration error.
  return error.name === 'NoSuchKey' || (error.name === 'NotFound' && error.$metadata.httpStatusCode === 404);
}
