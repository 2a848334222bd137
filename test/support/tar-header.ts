// The ustar header of a plain file, written by hand: tests and bench/hostile-inputs.mjs pack
// hundreds of thousands to a million entries, which tar-stream takes minutes for. One copy, so
// that the security test and the benchmark send archives of the same shape (the benchmark imports
// the built dist/test/support/tar-header.js of its own tree).

/** A 512-byte ustar header of a plain file (mode 644, uid, gid and mtime 0) named `path` holding `size` bytes. */
export function tarHeader(path: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(path, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}
