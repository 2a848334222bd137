// Asks the registry what cargo would ask, with the settings cargo resolved: config.json without a
// token (reachable? TLS trusted? does it want a token?), then with the token (accepted, or the
// server's reason for refusing it), the token's scopes and expiry where the server shows them, and one index
// file and one download.

import { createHash } from 'node:crypto';
import type { CargoConfig } from './cargo-config.js';
import { error, ok, warning, type Finding } from './finding.js';
import { downloadUrl, indexFilePath } from './index-paths.js';
import { errorDetail, httpGet, HttpProbeError, type HttpAnswer, type HttpSettings } from './registry-http.js';
import { untrustedFinding } from './tls-trust.js';

export interface RegistryConfigJson {
  dl?: string;
  api?: string;
  'auth-required'?: boolean;
}

export interface Reachability {
  findings: Finding[];
  /** Whether the registry wants a token for reads (true when config.json answered 401). */
  authRequired?: boolean;
  config?: RegistryConfigJson;
}

export interface ProbeContext {
  config: CargoConfig;
  name: string;
  base: URL;
  http: HttpSettings;
  cainfo?: string;
  proxySource?: string;
}

function parseJson<T>(answer: HttpAnswer): T | undefined {
  try {
    return JSON.parse(answer.body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A request failure as a finding that names the setting behind it. */
function failureFinding(context: ProbeContext, url: URL, failure: HttpProbeError): Finding {
  const { config, name } = context;
  if (failure.kind === 'tls') return untrustedFinding(config, name, url.host, failure.message, context.cainfo);
  if (failure.kind === 'proxy') {
    return error(
      'proxy',
      `the proxy (${context.proxySource}) did not get through to ${url.host}: ${failure.message}`,
      `fix the proxy setting, or let ${url.hostname} go direct: export NO_PROXY=${url.hostname}`,
      name,
    );
  }
  const via = context.http.proxy ? ` through the proxy ${context.http.proxy.host} (${context.proxySource})` : '';
  return error('reach', `cannot reach ${url.href}${via}: ${failure.message}`, 'check the index URL and that the registry is running', name);
}

async function get(context: ProbeContext, url: URL, token?: string, method?: string): Promise<HttpAnswer | Finding> {
  try {
    return await httpGet(url, context.http, { token, method });
  } catch (failure) {
    if (failure instanceof HttpProbeError) return failureFinding(context, url, failure);
    throw failure;
  }
}

const isFinding = (value: HttpAnswer | Finding): value is Finding => 'status' in value && typeof value.status === 'string';

export async function reachRegistry(context: ProbeContext): Promise<Reachability> {
  const url = new URL('config.json', context.base);
  const answer = await get(context, url);
  if (isFinding(answer)) return { findings: [answer] };
  const secure = url.protocol === 'https:' ? ', certificate trusted' : '';
  if (answer.status === 401)
    return { authRequired: true, findings: [ok('reach', `${url.href} answers (401: it wants a token)${secure}`, context.name)] };
  if (answer.status === 200) {
    const json = parseJson<RegistryConfigJson>(answer);
    if (!json) return { findings: [error('reach', `${url.href} is not JSON: is this a cargo index URL?`, undefined, context.name)] };
    const auth = json['auth-required'] === true;
    return {
      authRequired: auth,
      config: json,
      findings: [ok('reach', `${url.href} answers (auth-required: ${auth})${secure}`, context.name)],
    };
  }
  return {
    findings: [error('reach', `${url.href} answered ${answer.status}: ${errorDetail(answer)}`, 'check the index URL', context.name)],
  };
}

/** config.json with the token: the server's verdict on it. */
export async function checkToken(context: ProbeContext, token: string): Promise<{ findings: Finding[]; config?: RegistryConfigJson }> {
  const url = new URL('config.json', context.base);
  const answer = await get(context, url, token);
  if (isFinding(answer)) return { findings: [answer] };
  if (answer.status === 200) {
    return { config: parseJson<RegistryConfigJson>(answer), findings: [ok('token-valid', 'the registry accepts the token', context.name)] };
  }
  const login = `\`cargo login --registry ${context.name}\` with a new token from the registry's /me page`;
  if (answer.status === 401)
    return { findings: [error('token-valid', `the registry rejected the token (401): ${errorDetail(answer)}`, login, context.name)] };
  return {
    findings: [error('token-valid', `config.json with the token answered ${answer.status}: ${errorDetail(answer)}`, login, context.name)],
  };
}

/** Tokens that expire within this long get a warning, so the user renews before cargo fails. */
const EXPIRES_SOON_MS = 7 * 86_400_000;
const PUBLISH_SCOPES = ['publish-new', 'publish-update'];

interface CurrentToken {
  expires_at?: string | null;
  scopes?: string[] | null;
  crates?: string[] | null;
}

/** What the token may do and until when, as the server's `GET /api/v1/me/token` describes it. */
export async function checkScopes(context: ProbeContext, api: string, token: string, now = new Date()): Promise<Finding[]> {
  const answer = await get(context, new URL(`${api.replace(/\/$/, '')}/api/v1/me/token`), token);
  if (isFinding(answer)) return [answer];
  if (answer.status !== 200) {
    return [
      ok(
        'scopes',
        `the server does not describe tokens (${answer.status}: ${errorDetail(answer)}); scopes and expiry not checked`,
        context.name,
      ),
    ];
  }
  const described = parseJson<CurrentToken>(answer);
  if (described === undefined)
    return [ok('scopes', "the server's token description is not JSON; scopes and expiry not checked", context.name)];
  return [scopeFinding(context.name, described), expiryFinding(context.name, described, now)];
}

function scopeFinding(registry: string, described: CurrentToken): Finding {
  const scopes = described.scopes ?? null;
  const crates = described.crates ?? null;
  const limitedTo = crates === null ? '' : ` (only crates matching ${crates.map((c) => `\`${c}\``).join(', ')})`;
  if (scopes === null) return ok('scopes', `the token has every scope${limitedTo || ' and no crate limits'}`, registry);
  const missing = PUBLISH_SCOPES.filter((s) => !scopes.includes(s));
  if (missing.length > 0) {
    return warning(
      'scopes',
      `the token can ${scopes.includes('read') ? 'read but ' : ''}not publish: it lacks ${missing.map((s) => `\`${s}\``).join(' and ')} (it has: ${scopes.join(', ') || 'none'})${limitedTo}`,
      'for `cargo publish`, use a token with the publish-new and publish-update scopes (`cratekeeper token create --user NAME --scopes read,publish-new,publish-update`)',
      registry,
    );
  }
  return ok('scopes', `the token has the scopes ${scopes.join(', ')}${limitedTo}`, registry);
}

function expiryFinding(registry: string, described: CurrentToken, now: Date): Finding {
  const expiresAt = described.expires_at ?? null;
  if (expiresAt === null) return ok('expiry', 'the token never expires', registry);
  const left = Date.parse(expiresAt) - now.getTime();
  if (left < EXPIRES_SOON_MS) {
    return warning(
      'expiry',
      `the token expires on ${expiresAt} (in ${Math.max(0, Math.floor(left / 3_600_000))} hours)`,
      `create a new token on the registry's /me page before then and run \`cargo login --registry ${registry}\``,
      registry,
    );
  }
  return ok('expiry', `the token expires on ${expiresAt}`, registry);
}

interface IndexLine {
  name: string;
  vers: string;
  cksum: string;
}

/** A crate of this registry to try: the project's Cargo.lock first, else the registry's search. */
async function pickCrate(
  context: ProbeContext,
  api: string | undefined,
  token: string | undefined,
  fromLockfile: string | undefined,
): Promise<string | Finding | undefined> {
  if (fromLockfile !== undefined) return fromLockfile;
  if (api === undefined) return undefined;
  const answer = await get(context, new URL(`${api.replace(/\/$/, '')}/api/v1/crates?q=&per_page=1`), token);
  if (isFinding(answer)) return answer;
  const found = answer.status === 200 ? parseJson<{ crates?: Array<{ name?: string }> }>(answer) : undefined;
  return found?.crates?.[0]?.name;
}

export async function checkFiles(
  context: ProbeContext,
  json: RegistryConfigJson,
  token: string | undefined,
  fromLockfile: string | undefined,
): Promise<Finding[]> {
  const picked = await pickCrate(context, json.api, token, fromLockfile);
  if (picked === undefined)
    return [ok('index-file', 'no crate found to try (empty registry?); index file and download not tried', context.name)];
  if (typeof picked !== 'string') return [picked];
  const sendToken = json['auth-required'] === true ? token : undefined;
  const fileUrl = new URL(indexFilePath(picked), context.base);
  const file = await get(context, fileUrl, sendToken);
  if (isFinding(file)) return [file];
  if (file.status !== 200)
    return [error('index-file', `${fileUrl.href} answered ${file.status}: ${errorDetail(file)}`, undefined, context.name)];
  const lines = file.body
    .toString('utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as IndexLine];
      } catch {
        return [];
      }
    });
  const last = lines[lines.length - 1];
  const findings = [ok('index-file', `${fileUrl.href}: ${lines.length} version(s)`, context.name)];
  if (!last || json.dl === undefined) return findings;
  let url = new URL(downloadUrl(json.dl, last.name, last.vers, last.cksum));
  let answer: HttpAnswer | Finding | undefined;
  for (let hop = 0; hop < 5; hop++) {
    answer = await get(context, url, url.origin === context.base.origin ? sendToken : undefined);
    if (isFinding(answer) || ![301, 302, 303, 307, 308].includes(answer.status) || !answer.headers.location) break;
    url = new URL(answer.headers.location, url);
  }
  if (answer === undefined || isFinding(answer)) return [...findings, ...(answer ? [answer] : [])];
  if (answer.status !== 200) {
    return [...findings, error('download', `${url.href} answered ${answer.status}: ${errorDetail(answer)}`, undefined, context.name)];
  }
  const sum = createHash('sha256').update(answer.body).digest('hex');
  if (sum !== last.cksum) {
    return [
      ...findings,
      error('download', `${last.name} ${last.vers}: the download's checksum differs from the index's`, undefined, context.name),
    ];
  }
  return [...findings, ok('download', `${last.name} ${last.vers} downloads, checksum matches`, context.name)];
}
