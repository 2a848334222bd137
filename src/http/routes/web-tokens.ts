// "My tokens" in the browser: list, create (shown once) and revoke the signed-in user's tokens, and
// end their other browser sessions. The same AccountService as /api/v1/me/tokens; audited alike.

import { WEB_SESSION_ORIGIN } from '../../auth/web-sessions.js';
import { invalid } from '../../domain/errors.js';
import type { AccountService } from '../../services/accounts.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import { auditSource } from '../audit-source.js';
import { formField, formList } from '../form-body.js';
import { sendPage } from '../pages/html.js';
import { EXPIRY_CHOICES, newTokenBody, tokensBody } from '../pages/tokens-page.js';
import { pageOptions, viewerOf } from '../page-viewer.js';
import { pageTokenIdParams } from '../schemas/token-request.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import type { DeviceSession } from '../../ports/device-flow.js';
import { DEVICE_TOKEN_ORIGIN } from '../../services/device-flow.js';

export interface TokenPageDeps {
  accounts: AccountService;
  audit: AuditRecorder;
  registryName: string;
  indexUrl: () => string;
  /** The user's signed-in devices (terminal sign-in). */
  devices?: (userId: number) => Promise<DeviceSession[]>;
}

function parseExpiry(value: string, capMs: number | undefined): Date | null {
  if (value === 'cap' && capMs !== undefined) return new Date(Date.now() + capMs);
  const choice = EXPIRY_CHOICES.find((c) => c.value === value);
  if (!choice) throw invalid('invalid-expiry', `choose an expiry of ${EXPIRY_CHOICES.map((c) => c.label).join(', ')}`);
  return choice.value === 'never' ? null : new Date(Date.now() + Number(choice.value) * 86_400_000);
}

export const tokenPageRoutes: RoutePlugin<TokenPageDeps> = async (app, deps) => {
  app.get<{ Querystring: { revoked?: string } }>('/tokens', async (request, reply) => {
    const viewer = viewerOf(request);
    const now = Date.now();
    const active = (await deps.accounts.listTokens(viewer.login)).filter(
      (t) => t.revokedAt === null && (t.expiresAt === null || Date.parse(t.expiresAt) > now),
    );
    const notice = request.query.revoked !== undefined ? 'Revoked: it no longer works.' : undefined;
    return sendPage(
      reply,
      200,
      'My tokens',
      tokensBody({
        // A device's access tokens are its session's: the device is listed (and revoked) instead.
        tokens: active.filter((t) => t.origin !== WEB_SESSION_ORIGIN && t.origin !== DEVICE_TOKEN_ORIGIN),
        devices: (await deps.devices?.(viewer.userId)) ?? [],
        sessions: active.filter((t) => t.origin === WEB_SESSION_ORIGIN),
        currentSessionId: viewer.tokenId,
        csrf: request.csrf!,
        notice,
        capMs: deps.accounts.tokenLifetimeCapMs,
      }),
      pageOptions(request),
    );
  });

  app.post('/tokens', async (request, reply) => {
    const viewer = viewerOf(request);
    const patterns = formField(request.body, 'crates')
      .split(/[\s,]+/)
      .filter(Boolean);
    const { token, record } = await deps.accounts.createToken(viewer.login, formField(request.body, 'name').trim(), {
      scopes: formList(request.body, 'scopes'),
      cratePatterns: patterns.length > 0 ? patterns : undefined,
      expiresAt: parseExpiry(formField(request.body, 'expiry'), deps.accounts.tokenLifetimeCapMs),
      byHand: true,
    });
    deps.audit.record('token-create', auditSource(request), {
      detail: `token ${record.id} "${record.name}" scopes ${record.scopes?.join(',') ?? 'all'} crates ${record.cratePatterns?.join(',') ?? 'all'} (web)`,
    });
    return sendPage(
      reply,
      201,
      'Your new token',
      newTokenBody({ token, record, registryName: deps.registryName, indexUrl: deps.indexUrl() }),
      pageOptions(request),
    );
  });

  app.post('/tokens/:id/revoke', { schema: { params: pageTokenIdParams } }, async (request, reply) => {
    const viewer = viewerOf(request);
    await deps.accounts.revokeToken(Number(request.params.id), await deps.accounts.requireUser(viewer.login));
    deps.audit.record('token-revoke', auditSource(request), { detail: `token ${request.params.id} (web)` });
    return reply.redirect(`/tokens?revoked=${request.params.id}`, 303);
  });
};
