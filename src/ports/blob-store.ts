// Where .crate files live. Keys are content-addressed by the publisher (they include the SHA-256),
// so writing the same key twice writes the same bytes and a half-finished publish can never
// overwrite a file that a committed version points to.

import type { Readable } from 'node:stream';

export interface BlobStore {
  /** Stores the bytes durably; when it resolves, the blob survives a crash. */
  put(key: string, bytes: Buffer): Promise<void>;
  /** A stream of the blob, or undefined when there is no such blob. */
  open(key: string): Promise<{ stream: Readable; size: number } | undefined>;
  /** Removes a blob; no error when it does not exist. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
