// How the names and manifest of a crate case (crate-case.ts) read: the path an entry gets, whether
// a tar reader sees that path as written, the rule every path must follow, the same path in other
// spellings, and the Cargo.toml text of a manifest case with the reason it must be refused, if any.

import { FRAGMENTS, type CrateLimits, type ManifestCase, type PathShape, type Spelling } from './crate-case.js';
import type { TarNameEncoding } from './tar-writer.js';

/** The form under which two paths are the same file on Linux, macOS (case, NFD) or Windows (case, `\`). */
export function samePathKey(path: string): string {
  return path
    .split(/[/\\]+/)
    .filter((s) => s !== '' && s !== '.')
    .join('/')
    .normalize('NFC')
    .toLowerCase();
}

export function pathFor(shape: PathShape, prefix: string): string {
  switch (shape.shape) {
    case 'inside':
      return `${prefix}/${shape.rel}`;
    case 'dotdot':
      return `${prefix}/../${shape.rel}`;
    case 'dotdot-backslash':
      return `${prefix}\\..\\${shape.rel}`;
    case 'absolute':
      return `/${prefix}/${shape.rel}`;
    case 'drive':
      return `C:${prefix}/${shape.rel}`;
    case 'outside':
      return `not-${prefix}/${shape.rel}`;
    case 'dot-first':
      return `./${prefix}/${shape.rel}`;
    case 'prefix-only':
      return `${prefix}${shape.rel}`;
    case 'long': {
      let path = `${prefix}/`;
      while (path.length < shape.length) path += 'd123456789/';
      return `${path}f.rs`;
    }
    case 'raw':
      return shape.text;
  }
}

/** Whether a reader sees exactly `name` when it is written with `encoding` (else the oracle stays silent). */
export function nameSurvives(name: string, encoding: TarNameEncoding): boolean {
  if (name.includes('\0') || name === '') return false;
  const bytes = Buffer.byteLength(name);
  if (encoding === 'plain') return bytes < 100;
  if (encoding === 'prefix') {
    const cut = name.lastIndexOf('/', 154);
    return cut > 0 ? Buffer.byteLength(name.slice(cut + 1)) < 100 && Buffer.byteLength(name.slice(0, cut)) < 155 : bytes < 100;
  }
  return true;
}

/** `preferred`, unless a reader would not see the whole name written so: then a GNU long name, as cargo writes one. */
export function encodingFor(name: string, preferred: TarNameEncoding = 'plain'): TarNameEncoding {
  return nameSurvives(name, preferred) ? preferred : 'gnu-long';
}

/** Why a path must be refused, by the rule that every entry stays inside `prefix/`. */
export function pathProblem(name: string, prefix: string): string | undefined {
  if (!name.startsWith(`${prefix}/`)) return `\`${name}\` is outside \`${prefix}/\``;
  if (name.split(/[/\\]/).includes('..')) return `\`${name}\` has a \`..\` segment`;
  return undefined;
}

export function respell(path: string, spelling: Spelling): string {
  switch (spelling) {
    case 'upper':
      return path.toUpperCase() === path ? path.toLowerCase() : path.replace(/[a-z]/, (c) => c.toUpperCase());
    case 'dot-segment':
      return path.replace('/', '/./');
    case 'double-slash':
      return path.replace('/', '//');
    case 'backslash':
      return path.replace(/\/([^/]*)$/, '\\$1');
    case 'trailing-slash':
      return `${path}/`;
    case 'nfd':
      return path.normalize('NFD') === path ? path.toUpperCase() : path.normalize('NFD');
  }
}

export function manifestText(c: ManifestCase, name: string, version: string): string | undefined {
  const head = `[package]\nname = ${JSON.stringify(name)}\nversion = ${JSON.stringify(version)}\nedition = "2021"\n`;
  switch (c.kind) {
    case 'valid': {
      const chosen = c.fragments.map((i) => FRAGMENTS[i]!);
      const keys = chosen.filter((f) => !f.startsWith('[') && !f.startsWith('#'));
      const tables = chosen.filter((f) => f.startsWith('[') || f.startsWith('#'));
      return [head + keys.map((k) => `${k}\n`).join(''), ...tables].join('\n');
    }
    case 'other-name':
      return `[package]\nname = ${JSON.stringify(c.name)}\nversion = ${JSON.stringify(version)}\n`;
    case 'other-version':
      return `[package]\nname = ${JSON.stringify(name)}\nversion = ${JSON.stringify(c.version)}\n`;
    case 'no-package':
      return `[dependencies]\nname = ${JSON.stringify(name)}\n`;
    case 'package-not-table':
      return `package = ${JSON.stringify(name)}\n`;
    case 'missing':
      return undefined;
    case 'bom':
      return `\uFEFF${head}`;
    case 'crlf':
      return head.replaceAll('\n', '\r\n');
    case 'malformed': {
      const at = c.at % (head.length + 1);
      return head.slice(0, at) + c.junk + head.slice(at);
    }
    case 'deep': {
      const n = c.depth;
      switch (c.style) {
        case 'array':
          return `${head}[package.metadata]\nx = ${'['.repeat(n)}${']'.repeat(n)}\n`;
        case 'inline-table':
          return `${head}[package.metadata]\nx = ${'{ a = '.repeat(n)}1${' }'.repeat(n)}\n`;
        case 'dotted-key':
          return `${head}[package.metadata]\n${Array.from({ length: n }, () => 'a').join('.')} = 1\n`;
        case 'table-header':
          return `${head}[package.metadata.${Array.from({ length: n }, () => 'a').join('.')}]\nx = 1\n`;
      }
      break;
    }
    case 'huge':
      return `${head}# ${'x'.repeat(c.bytes)}\n`;
  }
  return undefined;
}

/** Why the manifest must make the registry refuse the crate, when it certainly must. */
export function manifestProblem(
  c: ManifestCase,
  name: string,
  version: string,
  text: string | undefined,
  limits: CrateLimits,
): string | undefined {
  if (text === undefined) return 'the crate has no Cargo.toml';
  if (Buffer.byteLength(text) > limits.maxManifestBytes) return 'the Cargo.toml is larger than the limit';
  switch (c.kind) {
    case 'other-name':
      return c.name !== name ? 'the Cargo.toml names another package' : undefined;
    case 'other-version':
      return c.version !== version ? 'the Cargo.toml has another version' : undefined;
    case 'no-package':
    case 'package-not-table':
      return 'the Cargo.toml has no [package] table';
    default:
      return undefined;
  }
}
