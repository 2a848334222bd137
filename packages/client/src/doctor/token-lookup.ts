// Gets the token cargo would send for reads, by asking the providers as cargo does: `cargo:token`
// reads `registries.NAME.token` (CARGO_REGISTRIES_NAME_TOKEN, credentials.toml, config files);
// `cargo:token-from-stdout` runs its command; any other provider is run as
// `<program> --cargo-plugin` and asked a `get` for `read` in the credential protocol. A provider that
// answers `not-found` or `url-not-supported` passes to the next one, as in cargo.

import { spawn } from 'node:child_process';
import type { CargoConfig } from './cargo-config.js';
import type { Provider } from './credential-providers.js';

export type TokenLookup =
  | { kind: 'found'; token: string; provider: Provider; where: string }
  | { kind: 'none'; asked: Provider[]; skipped: string[] }
  | { kind: 'failed'; provider: Provider; message: string };

interface Context {
  config: CargoConfig;
  registry: string;
  indexUrl: string;
  timeoutMs: number;
}

type Answer = { token: string; where: string } | 'not-found' | { unsupported: string } | { failure: string };

function run(argv: string[], input: string, env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: string }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, spawnError: error.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

function fromConfig(context: Context): Answer {
  const token = context.config.string(['registries', context.registry, 'token']);
  return token && token.value !== '' ? { token: token.value, where: token.source } : 'not-found';
}

async function fromStdout(context: Context, argv: string[]): Promise<Answer> {
  if (argv.length === 0) return { failure: 'cargo:token-from-stdout needs a command after it' };
  const env = { ...context.config.env, CARGO_REGISTRY_INDEX_URL: context.indexUrl, CARGO_REGISTRY_NAME_OPT: context.registry };
  const result = await run(argv, '', env, context.config.cwd, context.timeoutMs);
  if (result.spawnError) return { failure: `cannot run \`${argv[0]}\`: ${result.spawnError}` };
  if (result.code !== 0) return { failure: `\`${argv.join(' ')}\` exited with ${result.code}: ${result.stderr.trim()}` };
  const token = result.stdout.split('\n')[0]!.trim();
  return token === '' ? { failure: `\`${argv.join(' ')}\` printed no token` } : { token, where: `the output of \`${argv.join(' ')}\`` };
}

async function fromPlugin(context: Context, argv: string[]): Promise<Answer> {
  const request = {
    v: 1,
    registry: { 'index-url': context.indexUrl, name: context.registry },
    kind: 'get',
    operation: 'read',
    args: argv.slice(1),
  };
  const result = await run(
    [argv[0]!, '--cargo-plugin'],
    JSON.stringify(request) + '\n',
    context.config.env,
    context.config.cwd,
    context.timeoutMs,
  );
  if (result.spawnError) return { failure: `cannot run \`${argv[0]}\`: ${result.spawnError}` };
  const lines = result.stdout.split('\n').filter((l) => l.trim() !== '');
  let answer: { Ok?: { token?: string }; Err?: { kind?: string; message?: string } } | undefined;
  try {
    answer = lines[1] === undefined ? undefined : (JSON.parse(lines[1]) as typeof answer);
  } catch {
    answer = undefined;
  }
  if (!answer) {
    const said = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
    return {
      failure: `\`${argv[0]} --cargo-plugin\` did not answer in cargo's credential protocol (exit ${result.code})${said ? `: ${said}` : ''}`,
    };
  }
  if (answer.Ok?.token) return { token: answer.Ok.token, where: `the credential provider ${argv[0]}` };
  if (answer.Err?.kind === 'not-found' || answer.Err?.kind === 'url-not-supported') return 'not-found';
  return { failure: `${argv[0]} answered: ${answer.Err?.message ?? answer.Err?.kind ?? JSON.stringify(answer)}` };
}

async function ask(context: Context, provider: Provider): Promise<Answer> {
  const [first, ...rest] = provider.argv;
  if (first === 'cargo:token') return fromConfig(context);
  if (first === 'cargo:token-from-stdout') return fromStdout(context, rest);
  if (first?.startsWith('cargo:')) return { unsupported: `${first} (doctor cannot read it; cargo may)` };
  return fromPlugin(context, provider.argv);
}

export async function lookUpToken(
  config: CargoConfig,
  registry: string,
  indexUrl: string,
  providers: Provider[],
  timeoutMs = 30_000,
): Promise<TokenLookup> {
  const context = { config, registry, indexUrl, timeoutMs };
  const skipped: string[] = [];
  for (const provider of providers) {
    const answer = await ask(context, provider);
    if (answer === 'not-found') continue;
    if ('unsupported' in answer) skipped.push(answer.unsupported);
    else if ('failure' in answer) return { kind: 'failed', provider, message: answer.failure };
    else return { kind: 'found', token: answer.token, provider, where: answer.where };
  }
  return { kind: 'none', asked: providers, skipped };
}
