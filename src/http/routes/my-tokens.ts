// `/api/v1/me/tokens`: the signed-in user lists, creates and revokes their own tokens. Only an
// unrestricted token (all scopes, all crates) may manage tokens, so that a narrow token cannot mint
// a wider one.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, invalid } from '../../domain/errors.js';
import type { TokenPrincipal, TokenRecord } from '../../ports/metadata-store.js';
import type { AccountService } from '../../services/accounts.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import { auditSource } from '../audit-source.js';
import { principalOf } from '../authentication.js';

interface CreateBody {
  name?: unknown;
  scopes?: unknown;
  crates?: unknown;
  expires_at?: unknown;
}

function unrestricted(request: FastifyRequest): TokenPrincipal {
  const principal = principalOf(request);
  if (principal.scopes !== null || principal.cratePatterns !== null) {
    throw forbidden('token-too-narrow', 'managing tokens needs a token with every scope and every crate');
  }
  return principal;
}

function show(t: TokenRecord) {
  return {
    id: t.id,
    name: t.name,
    created_at: t.createdAt,
    last_used_at: t.lastUsedAt,
    expires_at: t.expiresAt,
    revoked_at: t.revokedAt,
    scopes: t.scopes,
    crates: t.cratePatterns,
  };
}

const stringList = (value: unknown, field: string): string[] | undefined => {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalid('invalid-token-request', `\`${field}\` must be a list of strings`);
  return value as string[];
};

function parseCreateBody(body: unknown): { name: string; scopes?: string[]; crates?: string[]; expiresAt: Date | null } {
  let parsed: CreateBody;
  try {
    parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '') as CreateBody;
  } catch {
    throw invalid('invalid-token-request', 'the body must be JSON: {"name": "...", "scopes": [...], "crates": [...], "expires_at": "..."}');
  }
  if (typeof parsed?.name !== 'string') throw invalid('invalid-token-request', '`name` is required and must be a string');
  let expiresAt: Date | null = null;
  if (parsed.expires_at !== undefined && parsed.expires_at !== null) {
    expiresAt = typeof parsed.expires_at === 'string' ? new Date(parsed.expires_at) : new Date(NaN);
    if (Number.isNaN(expiresAt.getTime())) throw invalid('invalid-token-request', '`expires_at` must be an ISO 8601 date');
  }
  return { name: parsed.name, scopes: stringList(parsed.scopes, 'scopes'), crates: stringList(parsed.crates, 'crates'), expiresAt };
}

export function myTokenRoutes(app: FastifyInstance, accounts: AccountService, audit: AuditRecorder): void {
  app.get('/api/v1/me/tokens', async (request) => {
    const principal = unrestricted(request);
    return { tokens: (await accounts.listTokens(principal.login)).filter((t) => t.revokedAt === null).map(show) };
  });

  app.post('/api/v1/me/tokens', async (request, reply) => {
    const principal = unrestricted(request);
    const body = parseCreateBody(request.body);
    const { token, record } = await accounts.createToken(principal.login, body.name, {
      scopes: body.scopes,
      cratePatterns: body.crates,
      expiresAt: body.expiresAt,
    });
    audit.record('token-create', auditSource(request), {
      detail: `token ${record.id} "${record.name}" scopes ${record.scopes?.join(',') ?? 'all'} crates ${record.cratePatterns?.join(',') ?? 'all'}`,
    });
    return reply.code(201).send({ token: { ...show(record), token } });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/me/tokens/:id', async (request) => {
    const principal = unrestricted(request);
    if (!/^\d+$/.test(request.params.id)) throw invalid('invalid-token-request', 'a token id is a number');
    await accounts.revokeToken(Number(request.params.id), await accounts.requireUser(principal.login));
    audit.record('token-revoke', auditSource(request), { detail: `token ${request.params.id}` });
    return { ok: true };
  });
}
