// A buffer kept for long (a cached index file, its gzip form) must hold exactly its own bytes. A
// buffer from Node's 8 KiB pool, a slice of a stored blob or a network read, or zlib's output (a
// view of a 16 KiB chunk for a small result) keeps the whole larger allocation alive: up to 20
// times what a cache counts (found by the long fuzz run's memory watch, fuzz/README.md, and by a
// heap snapshot after 50,000 index files, bench/README.md).

/** `bytes` itself when it is the whole of its allocation, else a copy that is. */
export function ownBytes(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own);
  return own;
}
