// Decides which headers a request to a URL carries: the host's rule from the auth file (chosen by
// operation, or by the longest matching path prefix), filled with the secrets from the .netrc or from
// the host's token command. The one place that answers "what credentials does this URL get?", shared
// by the credential provider, the proxy, and (later) the server's mirroring of private upstreams.
//
// Rules that keep secrets where they belong:
// - the host must match exactly (and the port, when the configured key names one);
// - the .netrc `default` entry answers only for a host the auth file lists with
//   `use_netrc_default = true`; never for an unlisted host (with no auth file, for no host at all),
//   so a registry the user never named cannot collect the fallback password;
// - callers that follow redirects ask again for every hop (see authenticated-fetch.ts).

import type { AuthConfig, HeaderRule, HostConfig, Operation } from './auth-config.js';
import { renderAuthPattern, type Credentials } from './auth-pattern.js';
import { formatHostPort, hostKeyMatches, urlHostPort } from './host-key.js';
import { findNetrcMachine, netrcDefault, type NetrcDocument, type NetrcEntry } from './netrc-parse.js';
import { runTokenCommand, type IssuedToken, type TokenCommandRunner } from './token-command.js';

export interface ResolvedAuth {
  /** Header name and value pairs to set on the request. */
  headers: Array<[string, string]>;
  /** Unix seconds after which the headers stop working (token commands that say so). */
  expiresAt: number | undefined;
  /** The configured host, when the auth file lists it. */
  host: HostConfig | undefined;
  /** Whether the host sends different headers for different operations. */
  operationSpecific: boolean;
  /** Where the secrets came from, for messages (never the secrets themselves). */
  source: string;
}

export interface CredentialResolverOptions {
  config: AuthConfig;
  netrc: NetrcDocument | undefined;
  runTokenCommand?: TokenCommandRunner;
  env?: NodeJS.ProcessEnv;
  /** Current time in Unix seconds (tests). */
  now?: () => number;
}

/** How long a token without a stated expiry is reused by a long-running caller (the proxy). */
const UNDATED_TOKEN_REUSE_SECONDS = 15 * 60;
/** A dated token is renewed this long before it expires. */
const EXPIRY_MARGIN_SECONDS = 60;

export class CredentialResolver {
  private readonly tokens = new Map<string, Promise<IssuedToken & { fetchedAt: number }>>();
  private readonly run: TokenCommandRunner;
  private readonly now: () => number;

  constructor(private readonly options: CredentialResolverOptions) {
    this.run = options.runTokenCommand ?? runTokenCommand;
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  get config(): AuthConfig {
    return this.options.config;
  }

  /** The auth file's entry for a host and port; a key naming the port wins over one without. */
  hostConfig(host: string, port: number): HostConfig | undefined {
    const candidates = this.options.config.hosts.filter((h) => hostKeyMatches(h.match, host, port));
    return candidates.find((h) => h.match.port !== undefined) ?? candidates[0];
  }

  /** The rule for a request: by operation when the caller knows it, else by the longest path prefix. */
  static ruleFor(host: HostConfig, path: string, operation?: Operation): HeaderRule {
    if (operation !== undefined) return host.operations.find((r) => r.operation === operation) ?? host.base;
    let best: HeaderRule | undefined;
    let bestLength = -1;
    for (const rule of host.operations) {
      for (const prefix of rule.pathPrefixes) {
        if (path.startsWith(prefix) && prefix.length > bestLength) {
          best = rule;
          bestLength = prefix.length;
        }
      }
    }
    return best ?? host.base;
  }

  private netrcEntry(host: string, port: number, configured: HostConfig | undefined): { entry: NetrcEntry; source: string } | undefined {
    const doc = this.options.netrc;
    if (doc === undefined) return undefined;
    const names = configured?.netrcMachine !== undefined ? [configured.netrcMachine] : [formatHostPort(host, port), host];
    for (const name of names) {
      const entry = findNetrcMachine(doc, name);
      if (entry) return { entry, source: `${doc.file} (machine ${name})` };
    }
    const fallback = configured?.useNetrcDefault === true ? netrcDefault(doc) : undefined;
    return fallback ? { entry: fallback, source: `${doc.file} (default)` } : undefined;
  }

  private issuedToken(host: HostConfig): Promise<IssuedToken & { fetchedAt: number }> {
    const now = this.now();
    const cached = this.tokens.get(host.key);
    if (cached !== undefined) {
      return cached.then((t) => {
        const fresh =
          t.expiresAt !== undefined ? t.expiresAt - EXPIRY_MARGIN_SECONDS > now : t.fetchedAt + UNDATED_TOKEN_REUSE_SECONDS > now;
        if (fresh) return t;
        this.tokens.delete(host.key);
        return this.issuedToken(host);
      });
    }
    const env = { ...(this.options.env ?? process.env), CRATEKEEPER_HOST: host.key };
    const pending = this.run(host.tokenCommand!, env).then((t) => ({ ...t, fetchedAt: now }));
    this.tokens.set(host.key, pending);
    pending.catch(() => this.tokens.delete(host.key));
    return pending;
  }

  /** The headers for a URL, or undefined when nothing is configured for its host. */
  async resolve(url: URL, operation?: Operation): Promise<ResolvedAuth | undefined> {
    const { host, port } = urlHostPort(url);
    const configured = this.hostConfig(host, port);
    const found = this.netrcEntry(host, port, configured);
    let credentials: Credentials;
    let expiresAt: number | undefined;
    let source: string;
    if (configured?.tokenCommand !== undefined) {
      const issued = await this.issuedToken(configured);
      credentials = { login: found?.entry.login, password: issued.token };
      expiresAt = issued.expiresAt;
      source = `token command of ${configured.key}`;
    } else if (found !== undefined) {
      credentials = { login: found.entry.login, password: found.entry.password };
      source = found.source;
    } else {
      return undefined;
    }
    const where = `credentials for ${formatHostPort(host, port)} from ${source}`;
    const rule = configured ? CredentialResolver.ruleFor(configured, url.pathname, operation) : undefined;
    const headers: Array<[string, string]> = [];
    if (rule === undefined) {
      headers.push([
        'Authorization',
        renderAuthPattern({ kind: 'template', template: '<password>', needsLogin: false, needsPassword: true }, credentials, where),
      ]);
    } else {
      if (rule.auth) headers.push([rule.header, renderAuthPattern(rule.auth, credentials, where)]);
      for (const [name, pattern] of rule.extraHeaders) headers.push([name, renderAuthPattern(pattern, credentials, where)]);
    }
    return { headers, expiresAt, host: configured, operationSpecific: (configured?.operations.length ?? 0) > 0, source };
  }
}
