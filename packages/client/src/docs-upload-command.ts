// `docs upload CRATE@VERSION DIR`: sends rustdoc's output (`target/doc`) to a cratekeeper registry,
// for crates whose docs need features or a target the registry's builder lacks (CI runs
// `cargo doc`, then this). The folder is packed with the system's `tar` (on every CI runner) and
// sent to `PUT /api/v1/crates/<name>/<version>/docs` with the registry token cargo would use: from
// CARGO_REGISTRIES_<NAME>_TOKEN (or CARGO_REGISTRY_TOKEN), cargo's credentials.toml, or a
// terminal sign-in's session (`login`). The server checks the archive; this sends it as it is.

import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { helpExamples } from './help-examples.js';
import { resolveRegistry } from './registry-lookup.js';
import { sessionContext, sessionToken } from './session-credentials.js';
import { openSessionStore } from './session-store-choice.js';
import { sessionKey } from './session-store.js';

export class DocsUploadError extends Error {
  readonly code = 'DOCS_UPLOAD';
}

type Reported = <A extends unknown[]>(action: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

/** `name@version`, split; throws on anything else. */
export function parseCrateVersion(spec: string): { name: string; version: string } {
  const m = /^([A-Za-z0-9_-]+)@([0-9A-Za-z.+-]+)$/.exec(spec);
  if (!m) throw new DocsUploadError(`expected CRATE@VERSION (e.g. mycrate@1.2.3), not \`${spec}\``);
  return { name: m[1]!, version: m[2]! };
}

function tokenFromCredentials(env: NodeJS.ProcessEnv, registry: string): string | undefined {
  const cargoHome = env.CARGO_HOME || join(env.HOME ?? homedir(), '.cargo');
  for (const file of ['credentials.toml', 'credentials'].map((f) => join(cargoHome, f))) {
    if (!existsSync(file)) continue;
    const doc = parseToml(readFileSync(file, 'utf8')) as { registries?: Record<string, { token?: unknown }> };
    const token = doc.registries?.[registry]?.token;
    if (typeof token === 'string') return token;
  }
  return undefined;
}

/** The token cargo would send to this registry, looked up in cargo's order; undefined when none. */
export async function registryToken(registry: string, indexUrl: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const isName = !/^(sparse\+)?https?:\/\//i.test(registry);
  if (isName) {
    const variable = `CARGO_REGISTRIES_${registry.toUpperCase().replace(/-/g, '_')}_TOKEN`;
    if (env[variable]) return env[variable];
    const stored = tokenFromCredentials(env, registry);
    if (stored !== undefined) return stored;
  }
  if (env.CARGO_REGISTRY_TOKEN) return env.CARGO_REGISTRY_TOKEN;
  const session = await sessionToken(sessionKey(indexUrl), sessionContext(openSessionStore(env), env), `login --registry ${registry}`);
  return session?.token;
}

/** A .tar.gz of the folder's contents, made by the system's tar. */
function packFolder(dir: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-czf', '-', '-C', dir, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let errors = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    child.on('error', (error) => reject(new DocsUploadError(`could not run tar: ${error.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new DocsUploadError(`tar failed: ${errors.trim()}`))));
  });
}

export async function uploadDocs(spec: string, dir: string, registry: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { name, version } = parseCrateVersion(spec);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DocsUploadError(`${dir} is not a folder (give the target/doc folder)`);
  const indexUrl = resolveRegistry(registry, env);
  const token = await registryToken(registry, indexUrl, env);
  if (token === undefined)
    throw new DocsUploadError(`no token for ${registry}: set CARGO_REGISTRY_TOKEN, run cargo login, or sign in with login`);
  const indexBase = indexUrl.replace(/^sparse\+/, '').replace(/\/?$/, '/');
  const configAnswer = await fetch(new URL('config.json', indexBase), { headers: { authorization: token } });
  if (!configAnswer.ok) throw new DocsUploadError(`reading ${indexBase}config.json failed: HTTP ${configAnswer.status}`);
  const api = ((await configAnswer.json()) as { api?: string }).api;
  if (!api) throw new DocsUploadError(`${indexBase}config.json names no API; is this a cratekeeper registry?`);
  const archive = await packFolder(dir);
  const url = `${api.replace(/\/$/, '')}/api/v1/crates/${encodeURIComponent(name)}/${encodeURIComponent(version)}/docs`;
  const answer = await fetch(url, {
    method: 'PUT',
    headers: { authorization: token, 'content-type': 'application/gzip' },
    body: new Uint8Array(archive),
  });
  const body = (await answer.json().catch(() => ({}))) as { url?: string; errors?: { detail: string }[] };
  if (!answer.ok)
    throw new DocsUploadError(`the registry refused the docs (HTTP ${answer.status}): ${body.errors?.[0]?.detail ?? 'no reason given'}`);
  return body.url ?? url;
}

export function registerDocsCommands(program: Command, reported: Reported): void {
  const docs = program
    .command('docs')
    .description('rustdoc hosted by a cratekeeper registry')
    .addHelpText('after', helpExamples(`${program.name()} docs upload mycrate@1.2.3 target/doc --registry mycompany`));
  docs
    .command('upload')
    .description("send a version's rustdoc output (target/doc) to the registry, which serves it at /docs/<crate>/<version>/")
    .argument('<crate@version>', 'the crate and version the docs are of, e.g. mycrate@1.2.3')
    .argument('<dir>', 'the folder rustdoc wrote, usually target/doc')
    .requiredOption('--registry <name-or-url>', "the registry's name in cargo's configuration, or its index URL")
    .addHelpText(
      'after',
      helpExamples('cargo doc --no-deps --all-features', `${program.name()} docs upload mycrate@1.2.3 target/doc --registry mycompany`),
    )
    .action(
      reported(async (spec: string, dir: string, options: { registry: string }) => {
        const url = await uploadDocs(spec, dir, options.registry, process.env);
        process.stdout.write(`Uploaded the docs of ${spec}: ${url}\n`);
      }),
    );
}
