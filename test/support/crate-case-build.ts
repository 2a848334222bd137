// Builds the bytes of a crate case (crate-case.ts): the entries in order, the tar with its damage,
// the gzip with its damage, and the first reason an honest registry must refuse the result.

import { gzipSync } from 'node:zlib';
import type { BuiltCrate, CrateCase, CrateLimits, GzipDamage, TarDamage } from './crate-case.js';
import {
  encodingFor,
  manifestProblem,
  manifestText,
  nameSurvives,
  pathFor,
  pathProblem,
  respell,
  samePathKey,
} from './crate-case-paths.js';
import { writeTar, type RawTarEntry } from './tar-writer.js';

function gzipMember(data: Buffer): Buffer {
  return gzipSync(data, { level: 1 });
}

const zeroMembers = new Map<number, Buffer>();
/** A gzip member of `kib` KiB of zeros (a few bytes per KiB): the compression bomb. */
function zeros(kib: number): Buffer {
  let member = zeroMembers.get(kib);
  if (member === undefined) {
    member = gzipSync(Buffer.alloc(kib * 1024), { level: 9 });
    zeroMembers.set(kib, member);
  }
  return member;
}

interface Assembled {
  entries: RawTarEntry[];
  /** Problems that hold whatever a reader makes of the entries (the manifest's content, the folder). */
  problems: string[];
  /** Problems judged entry by entry: they hold only while every entry is read as written. */
  entryProblems: string[];
}

function isWellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/**
 * The entries of a crate case. Entry problems are judged only while the archive is read as written:
 * once an entry's size lies (declared size, raw size field, pax size), what follows may be read as
 * data, and a registry that accepts the result sees, like cargo would, a different archive.
 */
function assembleEntries(c: CrateCase, prefix: string, name: string, version: string, limits: CrateLimits): Assembled {
  const problems: string[] = [];
  const entryProblems: string[] = [];
  const entries: RawTarEntry[] = [];
  const seen = new Map<string, string>();
  let count = 0;
  let sound = true;
  /** Adds an entry; `seenAs` is the name a reader sees (undefined: not predictable, not judged). */
  const add = (entry: RawTarEntry, seenAs: string | undefined = entry.name) => {
    entries.push(entry);
    count++;
    if (!sound || seenAs === undefined) return;
    const problem = pathProblem(seenAs, prefix);
    if (problem) entryProblems.push(problem);
    const key = samePathKey(seenAs);
    const earlier = seen.get(key);
    if (earlier !== undefined) entryProblems.push(`\`${seenAs}\` is \`${earlier}\` again`);
    else seen.set(key, seenAs);
  };

  const text = manifestText(c.manifest, name, version);
  const manifestPath = `${prefix}/Cargo.toml`;
  const manifestEntry: RawTarEntry | undefined =
    text === undefined
      ? undefined
      : { name: manifestPath, encoding: encodingFor(manifestPath, c.manifestEncoding), body: Buffer.from(text, 'utf8') };
  const problem = manifestProblem(c.manifest, name, version, text, limits);
  if (problem) problems.push(problem);

  if (manifestEntry && !c.manifestLast) add(manifestEntry);
  const plainFile = (name: string, body: string): RawTarEntry => ({ name, encoding: encodingFor(name), body: Buffer.from(body) });
  add(plainFile(`${prefix}/src/lib.rs`, 'pub fn f() {}\n'));
  for (let i = 0; i < c.fillerFiles; i++) add(plainFile(`${prefix}/src/filler${i}.rs`, `// ${i}\n`));

  for (const extra of c.extras) {
    switch (extra.kind) {
      case 'file': {
        const path = pathFor(extra.path, prefix);
        add({ name: path, encoding: extra.encoding, body: Buffer.from(extra.body) }, nameSurvives(path, extra.encoding) ? path : undefined);
        break;
      }
      case 'type': {
        const name = `${prefix}/${extra.rel}`;
        const entry: RawTarEntry = { name, encoding: encodingFor(name), typeflag: extra.typeflag, linkname: extra.linkname };
        if (['g', 'x', 'L', 'K'].includes(extra.typeflag)) {
          // Pax and GNU headers are not entries: they change the next one, so stop judging.
          entries.push(entry);
          sound = false;
          break;
        }
        if (sound && ['1', '2', '3', '4', '6'].includes(extra.typeflag)) entryProblems.push(`an entry of typeflag ${extra.typeflag}`);
        add(entry);
        break;
      }
      case 'duplicate': {
        let original = extra.of === 'manifest' ? manifestPath : `${prefix}/src/lib.rs`;
        if (extra.of === 'accent') {
          original = `${prefix}/src/caf\u00e9.rs`;
          add(plainFile(original, '// é\n'));
        }
        add(plainFile(respell(original, extra.spelling), '// again\n'));
        break;
      }
      case 'declared-size': {
        // A size past the end of the archive cannot be read; a smaller lie may go unnoticed.
        if (sound && extra.declared >= 2 ** 30) entryProblems.push('an entry declares more data than the archive holds');
        const body = Buffer.from(extra.body);
        add({ ...plainFile(`${prefix}/${extra.rel}`, extra.body), declaredSize: extra.declared });
        if (extra.declared !== body.length) sound = false;
        break;
      }
      case 'raw-size':
        add({ ...plainFile(`${prefix}/${extra.rel}`, ''), rawSize: Uint8Array.from(extra.size) });
        sound = false;
        break;
      case 'pax': {
        const body = Buffer.from(extra.body);
        const name = `${prefix}/${extra.rel}`;
        const path = extra.records.path;
        // A non-empty pax path replaces the header's name; an empty one is ignored.
        const seenAs = path
          ? isWellFormed(path) && !path.includes('\0')
            ? path
            : undefined
          : nameSurvives(name, 'plain')
            ? name
            : undefined;
        add({ name, encoding: path === undefined ? encodingFor(name) : 'plain', body, pax: extra.records }, seenAs);
        if (extra.records.size !== undefined && extra.records.size !== String(body.length)) sound = false;
        break;
      }
      case 'checksum':
        if (sound) entryProblems.push('an entry has a wrong header checksum');
        add({ ...plainFile(`${prefix}/${extra.rel}`, ''), checksumDelta: extra.delta }, undefined);
        break;
    }
  }
  if (manifestEntry && c.manifestLast) add(manifestEntry);
  if (sound && count > limits.maxEntries) entryProblems.push(`the crate has ${count} entries, more than ${limits.maxEntries}`);
  return { entries, problems, entryProblems };
}

/** Damages the tar; returns false when entries may now be read otherwise than written. */
function damageTar(tar: Buffer, damage: TarDamage, problems: string[]): { tar: Buffer; entriesIntact: boolean } {
  switch (damage.kind) {
    case 'none':
      return { tar, entriesIntact: true };
    case 'no-end-blocks':
      return { tar: tar.subarray(0, tar.length - 1024), entriesIntact: true };
    case 'truncate': {
      const at = damage.at % tar.length;
      // A tar is a sequence of 512-byte records: a partial one at the end is unreadable.
      if (at % 512 !== 0) problems.push(`the tar is cut at byte ${at}, inside a record`);
      return { tar: tar.subarray(0, at), entriesIntact: false };
    }
    case 'garbage-after':
      return { tar: Buffer.concat([tar, Buffer.from(damage.bytes)]), entriesIntact: true };
    case 'flip': {
      // A changed header byte breaks its checksum, unless it is in the checksum field itself.
      const copy = Buffer.from(tar);
      copy[damage.at % copy.length]! ^= damage.xor;
      return { tar: copy, entriesIntact: false };
    }
  }
}

function damageGzip(tar: Buffer, damage: GzipDamage, problems: string[], limits: CrateLimits): Buffer {
  switch (damage.kind) {
    case 'none':
      return gzipMember(tar);
    case 'not-gzip':
      problems.push('the crate is not gzip-compressed');
      return tar;
    case 'empty-gzip':
      problems.push('the crate is an empty gzip stream');
      return gzipMember(Buffer.alloc(0));
    case 'two-members': {
      const half = Math.floor(tar.length / 2);
      return Buffer.concat([gzipMember(tar.subarray(0, half)), gzipMember(tar.subarray(half))]);
    }
    case 'truncate': {
      const whole = gzipMember(tar);
      const at = damage.at % whole.length;
      problems.push(`the gzip stream is cut at byte ${at} of ${whole.length}`);
      return whole.subarray(0, at);
    }
    case 'flip': {
      const copy = gzipMember(tar);
      copy[damage.at % copy.length]! ^= damage.xor;
      return copy;
    }
    case 'trailing':
      return Buffer.concat([gzipMember(tar), Buffer.from(damage.bytes)]);
    case 'bomb':
      if (tar.length + damage.kib * 1024 > limits.maxUnpackedBytes)
        problems.push(`the crate unpacks to more than ${limits.maxUnpackedBytes} bytes`);
      return Buffer.concat([gzipMember(tar), zeros(damage.kib)]);
  }
}

/** The bytes of a crate case for `name`@`version`, and whether it must be refused. */
export function buildCrate(c: CrateCase, name: string, version: string, limits: CrateLimits): BuiltCrate {
  const prefix = c.otherFolder ?? `${name}-${version}`;
  const { entries, problems, entryProblems } = assembleEntries(c, prefix, name, version, limits);
  if (c.otherFolder !== null && c.otherFolder !== `${name}-${version}`) problems.push(`the crate's folder is \`${c.otherFolder}\``);
  const { tar, entriesIntact } = damageTar(writeTar(entries), c.tar, problems);
  if (entriesIntact) problems.push(...entryProblems);
  const bytes = damageGzip(tar, c.gzip, problems, limits);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) problems.push('the crate does not start like gzip');
  return { bytes, mustRefuse: problems[0] };
}
