// `/api/v1/me/tokens`: the signed-in user lists, creates and revokes their own tokens. Only an
// unrestricted token (all scopes, all crates) may manage tokens, so that a narrow token cannot mint
// a wider one.

import type { FastifyRequest } from 'fastify';
import { forbidden } from '../../domain/errors.js';
import type { TokenPrincipal, TokenRecord } from '../../ports/tokens.js';
import type { AccountService } from '../../services/accounts.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import { auditSource } from '../audit-source.js';
import { principalOf } from '../authentication.js';
import { createTokenBody, tokenIdParams } from '../schemas/token-request.js';
import type { RoutePlugin } from '../zod-type-provider.js';

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

export interface MyTokenOptions {
  accounts: AccountService;
  audit: AuditRecorder;
}

export const myTokenRoutes: RoutePlugin<MyTokenOptions> = async (app, { accounts, audit }) => {
  // Before the body and the id are checked: a narrow token learns nothing about what it may not do.
  app.addHook('preValidation', async (request) => {
    unrestricted(request);
  });

  app.get('/api/v1/me/tokens', async (request) => {
    const principal = unrestricted(request);
    return { tokens: (await accounts.listTokens(principal.login)).filter((t) => t.revokedAt === null).map(show) };
  });

  app.post('/api/v1/me/tokens', { schema: { body: createTokenBody } }, async (request, reply) => {
    const principal = unrestricted(request);
    const body = request.body;
    const { token, record } = await accounts.createToken(principal.login, body.name, {
      scopes: body.scopes,
      cratePatterns: body.crates,
      expiresAt: body.expiresAt,
      byHand: true,
    });
    audit.record('token-create', auditSource(request), {
      detail: `token ${record.id} "${record.name}" scopes ${record.scopes?.join(',') ?? 'all'} crates ${record.cratePatterns?.join(',') ?? 'all'}`,
    });
    return reply.code(201).send({ token: { ...show(record), token } });
  });

  app.delete('/api/v1/me/tokens/:id', { schema: { params: tokenIdParams } }, async (request) => {
    const principal = unrestricted(request);
    await accounts.revokeToken(Number(request.params.id), await accounts.requireUser(principal.login));
    audit.record('token-revoke', auditSource(request), { detail: `token ${request.params.id}` });
    return { ok: true };
  });
};
