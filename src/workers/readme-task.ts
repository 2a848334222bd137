// README work for the CPU pool's worker threads (listed in cpu-tasks.ts): everything that parses what
// a publisher wrote, whose cost the publisher chooses. Cargo.toml is TOML of up to the manifest limit
// (a crafted one of 1 MiB takes smol-toml over a second), .cargo_vcs_info.json is JSON, and the README
// is Markdown with HTML (readme-markdown.ts bounds its nesting). services/readme.ts reads the
// archive and calls these with the files' text.

import { posix } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { readmeLinkBase, renderReadme } from './readme-markdown.js';
import { plainReadme } from './readme-text.js';

/** What a manifest says of its README: a path, `false` (none), or undefined (use the default names). */
export function readmeFieldOf(manifest: string | undefined): string | false | undefined {
  if (manifest === undefined) return undefined;
  try {
    const pkg = (parseToml(manifest) as { package?: { readme?: unknown } }).package;
    const field = pkg?.readme;
    if (field === false) return false;
    if (field === true) return 'README.md';
    return typeof field === 'string' ? field : undefined;
  } catch {
    return undefined;
  }
}

export interface ReadmeRenderInput {
  /** The README's text (already cut to the size limit). */
  source: string;
  /** Its path in the package: the extension says Markdown or plain text. */
  path: string;
  /** The crate's repository URL, against which relative links resolve. */
  repositoryUrl: string | null;
  /** .cargo_vcs_info.json and Cargo.toml.orig, when present and whole. */
  vcsInfo: string | undefined;
  originalManifest: string | undefined;
  maxNesting: number;
}

/** The README's path in the repository: under `path_in_vcs`, where Cargo.toml.orig says it is. */
function repositoryPath(input: ReadmeRenderInput): string {
  let folder = '';
  try {
    const info = JSON.parse(input.vcsInfo ?? '{}') as { path_in_vcs?: unknown };
    if (typeof info.path_in_vcs === 'string') folder = info.path_in_vcs;
  } catch {
    // no usable VCS info: the package is taken to sit at the repository root
  }
  const original = readmeFieldOf(input.originalManifest);
  return posix.join(folder, typeof original === 'string' ? original.replace(/\\/g, '/') : input.path);
}

/** The README as safe HTML, relative links pointing into the repository. */
export function renderReadmeHtml(input: ReadmeRenderInput): string {
  return renderReadme(input.source, input.path, readmeLinkBase(input.repositoryUrl, repositoryPath(input)), input.maxNesting);
}

/** The README as escaped text, for one that could not be rendered (escaping 512 KiB of `<` takes ~50 ms). */
export function readmeAsText(source: string): string {
  return plainReadme(source);
}
