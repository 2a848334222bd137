// A synchronous tar writer that can also write what no honest packer does: a declared size that
// differs from the data, a wrong checksum, any typeflag byte, names in the ustar prefix field, pax
// and GNU long-name headers, and no end-of-archive blocks. The fuzz campaign builds hundreds of
// thousands of archives with it, so it is synchronous and allocation-light (tar-stream's packer
// is asynchronous and refuses to write broken headers).

export type TarNameEncoding = 'plain' | 'prefix' | 'pax' | 'gnu-long';

export interface RawTarEntry {
  name: string;
  /** How a name is written: the 100-byte field (truncated), split into ustar prefix + name, a pax `path`, or a GNU `L` header. */
  encoding?: TarNameEncoding;
  /** The typeflag byte as a character: '0' file, '5' directory, '2' symlink, 'x' pax, any other. */
  typeflag?: string;
  body?: Uint8Array;
  /** Written into the size field instead of the body's length (data written is still `body`). */
  declaredSize?: number;
  /** Written verbatim into the 12-byte size field (e.g. base-256 or garbage), overriding declaredSize. */
  rawSize?: Uint8Array;
  linkname?: string;
  /** Extra pax records written in a pax header before the entry (e.g. `size`, `path`, `linkpath`). */
  pax?: Record<string, string>;
  /** Adds this to the computed checksum (0: correct). */
  checksumDelta?: number;
  mode?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as GNU tar writes; a value too large is truncated (tests want that too).
  return (
    value
      .toString(8)
      .padStart(width - 1, '0')
      .slice(-(width - 1)) + '\0'
  );
}

function writeText(block: Buffer, offset: number, width: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  bytes.copy(block, offset, 0, Math.min(bytes.length, width));
}

function header(entry: {
  name: string;
  prefix?: string;
  typeflag: string;
  size: number;
  rawSize?: Uint8Array;
  linkname?: string;
  checksumDelta?: number;
  mode?: number;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeText(block, 0, 100, entry.name);
  writeText(block, 100, 8, octal(entry.mode ?? 0o644, 8));
  writeText(block, 108, 8, octal(0, 8));
  writeText(block, 116, 8, octal(0, 8));
  if (entry.rawSize) Buffer.from(entry.rawSize).copy(block, 124, 0, Math.min(12, entry.rawSize.length));
  else writeText(block, 124, 12, octal(Math.max(0, entry.size), 12));
  writeText(block, 136, 12, octal(0, 12));
  block.write(entry.typeflag.slice(0, 1) || '\0', 156, 'latin1');
  if (entry.linkname !== undefined) writeText(block, 157, 100, entry.linkname);
  block.write('ustar\u000000', 257, 'latin1');
  if (entry.prefix !== undefined) writeText(block, 345, 155, entry.prefix);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeText(block, 148, 8, octal(sum + (entry.checksumDelta ?? 0), 7) + ' ');
  return block;
}

function padded(body: Uint8Array): Buffer[] {
  const rest = body.length % BLOCK;
  return rest === 0 ? [Buffer.from(body)] : [Buffer.from(body), Buffer.alloc(BLOCK - rest)];
}

/** One pax record: `<len> <key>=<value>\n`, where len counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length = String(length).length + Buffer.byteLength(rest);
  return `${length}${rest}`;
}

function longHeader(typeflag: string, data: Buffer): Buffer[] {
  return [header({ name: '././@LongLink', typeflag, size: data.length }), ...padded(data)];
}

function entryBlocks(entry: RawTarEntry): Buffer[] {
  const body = entry.body ?? new Uint8Array(0);
  const typeflag = entry.typeflag ?? '0';
  const blocks: Buffer[] = [];
  const pax: Record<string, string> = { ...(entry.pax ?? {}) };
  let name = entry.name;
  let prefix: string | undefined;
  switch (entry.encoding ?? 'plain') {
    case 'prefix': {
      const cut = name.lastIndexOf('/', 154);
      if (cut > 0) {
        prefix = name.slice(0, cut);
        name = name.slice(cut + 1);
      }
      break;
    }
    case 'pax':
      pax.path = name;
      name = name.slice(0, 99);
      break;
    case 'gnu-long':
      blocks.push(...longHeader('L', Buffer.from(name + '\0', 'utf8')));
      name = name.slice(0, 99);
      break;
  }
  const records = Object.entries(pax);
  if (records.length > 0) {
    const data = Buffer.from(records.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
    blocks.push(header({ name: 'PaxHeader', typeflag: 'x', size: data.length }), ...padded(data));
  }
  blocks.push(
    header({
      name,
      prefix,
      typeflag,
      size: entry.declaredSize ?? body.length,
      rawSize: entry.rawSize,
      linkname: entry.linkname,
      checksumDelta: entry.checksumDelta,
      mode: entry.mode,
    }),
    ...padded(body),
  );
  return blocks;
}

/** A tar archive of `entries`, ended by two zero blocks unless `endBlocks` says otherwise. */
export function writeTar(entries: RawTarEntry[], endBlocks = 2): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) blocks.push(...entryBlocks(entry));
  for (let i = 0; i < endBlocks; i++) blocks.push(Buffer.alloc(BLOCK));
  return Buffer.concat(blocks);
}
