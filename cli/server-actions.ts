// What the server-side commands do (`serve`, `user`, `token`). Loaded only when one of them runs,
// so that the client toolkit's commands (credential provider, proxy) start without the server's
// modules.

import { ConfigError, loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { isClusterWorker, startCluster, startClusterWorker } from '../src/cluster.js';
import { openRegistry, type Registry } from '../src/registry.js';
import type { AuditFilter } from '../src/services/audit-query.js';
import { startServer } from '../src/server.js';
import { TokenDirectory } from '../src/services/token-directory.js';
import type { TokenRecord } from '../src/ports/tokens.js';
import { shellWord, startupMessages } from './startup-messages.js';

export interface CommonOptions {
  config?: string;
  dataDir?: string;
}

export interface ServeOptions extends CommonOptions {
  host?: string;
  port?: string;
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  workers?: string;
  /** Apply pending schema migrations first. */
  migrate?: boolean;
}

function configFrom(options: CommonOptions, flags: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    file: options.config,
    env: process.env,
    flags: { 'storage.data_dir': options.dataDir, ...flags },
  });
}

export async function withRegistry(options: CommonOptions, action: (registry: Registry) => Promise<void>): Promise<void> {
  const registry = await openRegistry(configFrom(options));
  try {
    await action(registry);
  } finally {
    await registry.close();
  }
}

export async function serve(options: ServeOptions): Promise<void> {
  const config = configFrom(options, {
    'server.host': options.host,
    'server.port': options.port,
    'server.public_url': options.publicUrl,
    'server.tls_cert': options.tlsCert,
    'server.tls_key': options.tlsKey,
    'server.workers': options.workers,
  });
  if (options.migrate === true && !isClusterWorker()) {
    const { migrateDatabase } = await import('../src/ops/migrate.js');
    await migrateDatabase(config);
  }
  const starting = isClusterWorker()
    ? startClusterWorker(config, process.env, options.config)
    : config.server.workers > 1
      ? startCluster(config, process.env)
      : startServer(config, { env: process.env, bootstrap: true, configFile: options.config });
  // Signal handlers are installed before anything is printed: a script that reads the URL line may
  // send SIGTERM at once. A signal during start-up stops the server as soon as it has started;
  // repeated signals join the shutdown already under way.
  const shutdown = () => {
    starting
      .then((server) => server.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  const server = await starting;
  if (!isClusterWorker()) {
    // The token line and the cargo setup come first, so that a script that waits for the URL line has them.
    const selectFlags = [
      ...(options.config !== undefined ? [`--config ${shellWord(options.config)}`] : []),
      ...(options.dataDir !== undefined ? [`--data-dir ${shellWord(options.dataDir)}`] : []),
    ].join(' ');
    const lines = startupMessages({
      publicUrl: server.publicUrl,
      registryName: config.login.registry_name,
      firstToken: server.firstToken,
      adminLockout: server.adminLockout,
      selectFlags,
    });
    for (const line of lines) console.log(line);
    console.log(`cratekeeper listening on ${server.url}`);
  }
}

/** `user list`: who exists, whether they administer, how they sign in, and how many live tokens they hold. */
export async function listUsers(options: CommonOptions): Promise<void> {
  await withRegistry(options, async (registry) => {
    console.log(['NAME', 'ADMIN', 'ORIGIN', 'CREATED', 'TOKENS'].join('\t'));
    for (const u of await registry.catalog.users()) {
      const origin = u.identities.length > 0 ? 'OpenID' : 'local';
      console.log([u.login, u.isAdmin ? 'yes' : 'no', origin, u.createdAt, u.activeTokens].join('\t'));
    }
  });
}

export async function addUser(name: string, options: CommonOptions & { admin?: boolean }): Promise<void> {
  await withRegistry(options, async (registry) => {
    const created = await registry.accounts.addUser(name, options.admin === true);
    console.log(`created user ${created.login}${created.isAdmin ? ' (admin)' : ''}`);
  });
}

/** A password from stdin: the first line when piped; typed twice, unechoed, on a terminal. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]!;
  }
  const ask = (prompt: string) =>
    new Promise<string>((resolve) => {
      process.stderr.write(prompt);
      let typed = '';
      process.stdin.setRawMode(true);
      process.stdin.resume();
      const onData = (data: Buffer) => {
        for (const ch of data.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            process.stdin.setRawMode(false);
            process.stdin.pause();
            process.stdin.off('data', onData);
            process.stderr.write('\n');
            resolve(typed);
            return;
          }
          if (ch === '\u0003') process.exit(130);
          typed = ch === '\u007f' ? typed.slice(0, -1) : typed + ch;
        }
      };
      process.stdin.on('data', onData);
    });
  const first = await ask('New password: ');
  if ((await ask('Again: ')) !== first) throw new ConfigError(['the two passwords differ']);
  return first;
}

export async function setPassword(name: string, options: CommonOptions & { remove?: boolean }): Promise<void> {
  const { hashPassword } = await import('../src/auth/password.js');
  const hash = options.remove ? null : await hashPassword(await readPassword());
  await withRegistry(options, async (registry) => {
    await registry.accounts.setPassword(name, hash);
    console.log(hash === null ? `removed the password of ${name}` : `set the password of ${name}`);
  });
}

export interface CreateTokenOptions extends CommonOptions {
  user: string;
  name: string;
  expiresInDays?: string;
  scopes?: string;
  crates?: string;
  /** Outside auth.max_token_lifetime (a service account's token, made on purpose). */
  serviceAccount?: boolean;
}

const commaList = (text: string | undefined) =>
  text
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export async function createToken(options: CreateTokenOptions): Promise<void> {
  let expiresAt: Date | null = null;
  if (options.expiresInDays !== undefined) {
    const days = Number(options.expiresInDays);
    if (!Number.isFinite(days) || days <= 0) throw new ConfigError([`--expires-in-days: expected a positive number of days`]);
    expiresAt = new Date(Date.now() + days * 86_400_000);
  }
  await withRegistry(options, async (registry) => {
    const { token } = await registry.accounts.createToken(options.user, options.name, {
      expiresAt,
      scopes: commaList(options.scopes),
      cratePatterns: commaList(options.crates),
      byHand: options.serviceAccount !== true,
    });
    console.log(token);
  });
}

export async function changeGroup(action: 'add' | 'remove', group: string, login: string, options: CommonOptions): Promise<void> {
  await withRegistry(options, async (registry) => {
    const changed =
      action === 'add' ? await registry.accounts.addGroupMember(group, login) : await registry.accounts.removeGroupMember(group, login);
    const verb = action === 'add' ? 'added to' : 'removed from';
    console.log(changed ? `${login} ${verb} group ${group}` : `${login} was already ${action === 'add' ? 'in' : 'not in'} group ${group}`);
  });
}

export async function listGroup(group: string, options: CommonOptions): Promise<void> {
  await withRegistry(options, async (registry) => {
    for (const member of await registry.accounts.listGroupMembers(group)) console.log(member.login);
  });
}

const directoryOf = (registry: Registry) => new TokenDirectory({ catalog: registry.catalog, tokens: registry.metadata.tokens });

function tokenColumns(t: TokenRecord): (string | number)[] {
  const status = t.revokedAt ? `revoked ${t.revokedAt}` : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active';
  const scopes = t.scopes?.join(',') ?? 'all';
  const crates = t.cratePatterns?.join(',') ?? 'all';
  return [t.id, t.name, t.createdAt, t.lastUsedAt ?? 'never', t.expiresAt ?? 'never', status, scopes, crates];
}

const TOKEN_HEADER = ['ID', 'NAME', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS', 'SCOPES', 'CRATES'];

/** `token list --user NAME`, or with `--all` every user's tokens (a USER column first). */
export async function listTokens(options: CommonOptions & { user?: string; all?: boolean }): Promise<void> {
  if ((options.user === undefined) === (options.all !== true)) {
    throw new ConfigError(["give --user NAME for one user's tokens, or --all for every user's"]);
  }
  await withRegistry(options, async (registry) => {
    if (options.all === true) {
      console.log(['USER', ...TOKEN_HEADER].join('\t'));
      for (const { login, token } of await directoryOf(registry).all()) console.log([login, ...tokenColumns(token)].join('\t'));
      return;
    }
    console.log(TOKEN_HEADER.join('\t'));
    for (const t of await registry.accounts.listTokens(options.user!)) console.log(tokenColumns(t).join('\t'));
  });
}

/** `token revoke ID|NAME`: by id, or by a name only one active token carries (of `--user`, when given). */
export async function revokeToken(reference: string, options: CommonOptions & { user?: string }): Promise<void> {
  await withRegistry(options, async (registry) => {
    const { login, token } = await directoryOf(registry).resolve(reference, options.user);
    await registry.accounts.revokeToken(token.id);
    console.log(`revoked token ${token.id} (${token.name}) of ${login}`);
  });
}

export interface AuditOptions extends CommonOptions, AuditFilter {
  format?: string;
}

/** The audit log, newest first: a table for people, or CSV / JSON lines for scripts. */
export async function showAudit(options: AuditOptions): Promise<void> {
  const { toCsv } = await import('../src/services/audit-query.js');
  await withRegistry(options, async (registry) => {
    const { crate, user, action, since, until, limit, offset } = options;
    const { total, events } = await registry.auditQuery.query(null, { crate, user, action, since, until, limit, offset });
    if (options.format === 'csv') {
      process.stdout.write(toCsv(events));
    } else if (options.format === 'json') {
      for (const e of events) console.log(JSON.stringify(e));
    } else {
      console.log(['AT', 'ACTION', 'USER', 'TOKEN', 'CRATE', 'VERSION', 'ADDRESS', 'COUNT', 'DETAIL'].join('\t'));
      for (const e of events) {
        console.log(
          [
            e.at,
            e.action,
            e.userLogin ?? '-',
            e.tokenId ?? '-',
            e.crate ?? '-',
            e.version ?? '-',
            e.clientIp ?? '-',
            e.count,
            e.detail ?? '',
          ].join('\t'),
        );
      }
      if (total > events.length) console.error(`(${events.length} of ${total} events; use --limit for more)`);
    }
  });
}
