// Builds .crate files and publish bodies in memory, including deliberately broken ones.

import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { encodePublishBody } from '../../src/domain/publish-body.js';

export interface TarEntrySpec {
  name: string;
  body?: string;
  type?: Header['type'];
  linkname?: string;
}

export async function makeTar(entries: TarEntrySpec[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => archive.on('end', resolve));
  for (const e of entries) {
    const header: Partial<Header> & { name: string } = { name: e.name, type: e.type ?? 'file', mode: 0o644 };
    if (e.linkname !== undefined) header.linkname = e.linkname;
    if (header.type === 'file') archive.entry(header, e.body ?? '');
    else archive.entry(header, '');
  }
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function manifestFor(name: string, version: string): string {
  return `[package]\nname = "${name}"\nversion = "${version}"\nedition = "2021"\n`;
}

/** A valid .crate for `name`@`version`, with extra entries if given. */
export async function makeCrate(name: string, version: string, extra: TarEntrySpec[] = []): Promise<Buffer> {
  const prefix = `${name}-${version}`;
  return gzipSync(
    await makeTar([
      { name: `${prefix}/Cargo.toml`, body: manifestFor(name, version) },
      { name: `${prefix}/src/lib.rs`, body: 'pub fn f() {}\n' },
      ...extra,
    ]),
  );
}

export function metadataFor(name: string, version: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    vers: version,
    deps: [],
    features: {},
    authors: [],
    description: `${name} for tests`,
    documentation: null,
    homepage: null,
    readme: null,
    readme_file: null,
    keywords: [],
    categories: [],
    license: 'MIT',
    license_file: null,
    repository: null,
    badges: {},
    links: null,
    rust_version: null,
    ...overrides,
  };
}

export function dependency(name: string, req: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    version_req: req,
    features: [],
    optional: false,
    default_features: true,
    target: null,
    kind: 'normal',
    registry: null,
    explicit_name_in_toml: null,
    ...overrides,
  };
}

/** A complete, valid publish body. */
export async function publishBodyFor(name: string, version: string, overrides: Record<string, unknown> = {}): Promise<Buffer> {
  return encodePublishBody(metadataFor(name, version, overrides), await makeCrate(name, version));
}
