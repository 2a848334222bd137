// The OAuth endpoints of terminal sign-in (issue 17): discovery (RFC 8414), device authorization
// (RFC 8628), the token endpoint (device code and refresh token grants) and revocation (RFC 7009).
// No token: the client has none yet. Bodies are forms; answers and errors are the RFCs' JSON
// (`{ error, error_description }`), not cargo's shape. The endpoints that a stranger can call are
// rate limited per client address with a limiter shared across replicas; all state is in the
// database (services/device-flow.ts), so any replica answers any step.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../domain/errors.js';
import { OAuthError } from '../../domain/oauth-error.js';
import { TOKEN_SCOPES } from '../../domain/token-scope.js';
import type { RateLimiter } from '../../lib/rate-limiter.js';
import type { DeviceFlowService } from '../../services/device-flow.js';
import { auditSource } from '../audit-source.js';
import { acceptFormBodies, type FormBody } from '../form-body.js';
import { addressKey } from '../../lib/address-key.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface OAuthOptions {
  deviceFlow: DeviceFlowService;
  /** Requests per client address (device authorizations, token requests, revocations). */
  limiter: RateLimiter;
  publicUrl: () => string;
}

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const FIELD_LIMIT = 4096;

/** The form's fields as single strings; a repeated or oversized field is refused (RFC 6749 section 3.2). */
function fields(body: unknown): Record<string, string> {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new OAuthError('invalid_request', 'send the parameters as a form body (application/x-www-form-urlencoded)');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body as FormBody)) {
    if (Array.isArray(value)) throw new OAuthError('invalid_request', `the parameter \`${name.slice(0, 40)}\` is given more than once`);
    if (value.length > FIELD_LIMIT) throw new OAuthError('invalid_request', `the parameter \`${name.slice(0, 40)}\` is too long`);
    out[name] = value;
  }
  return out;
}

function oauthErrors(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const send = (status: number, name: string, description: string) =>
    reply.code(status).header('cache-control', 'no-store').send({ error: name, error_description: description });
  if (error instanceof OAuthError) {
    return send(error.status, error.error, error.description);
  }
  if (error instanceof RegistryError && error.kind === 'rate-limited') {
    reply.header('retry-after', String(error.retryAfterSeconds ?? 60));
    return send(429, 'slow_down', error.message);
  }
  if (error instanceof RegistryError && error.kind === 'unavailable') {
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    request.log.warn({ err: error }, 'OAuth endpoint: a dependency is unavailable');
    return send(503, 'temporarily_unavailable', error.message);
  }
  const status = (error as FastifyError).statusCode;
  if (status === 415) return send(400, 'invalid_request', 'send the parameters as a form body (application/x-www-form-urlencoded)');
  if (status === 413) return send(400, 'invalid_request', 'the request body is too large');
  if (status !== undefined && status >= 400 && status < 500) return send(400, 'invalid_request', 'the request body is not a form');
  request.log.error({ err: error }, 'OAuth endpoint failed');
  return send(500, 'server_error', 'the registry failed to answer; the server log says why');
}

export const oauthRoutes: RoutePlugin<OAuthOptions> = async (app, options) => {
  const { deviceFlow, limiter } = options;
  acceptFormBodies(app);
  app.setErrorHandler(oauthErrors);
  // Only forms (RFC 6749 section 3.2): a JSON body would be parsed by the app's own parser.
  app.addHook('preValidation', async (request) => {
    if (request.method !== 'POST') return;
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new OAuthError('invalid_request', 'send the parameters as a form body (application/x-www-form-urlencoded)');
    }
  });
  const limited = { preHandler: async (request: FastifyRequest) => limiter.take(addressKey(request.ip)) };

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    const base = options.publicUrl();
    return reply.header('cache-control', 'public, max-age=300').send({
      issuer: base,
      device_authorization_endpoint: `${base}/oauth/device_authorization`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      grant_types_supported: [DEVICE_CODE_GRANT, 'refresh_token'],
      scopes_supported: [...TOKEN_SCOPES],
      token_endpoint_auth_methods_supported: ['none'],
      response_types_supported: [],
    });
  });

  app.post('/oauth/device_authorization', limited, async (request, reply) => {
    const form = fields(request.body);
    const answer = await deviceFlow.requestAuthorization(form, auditSource(request), options.publicUrl());
    return reply.header('cache-control', 'no-store').send(answer);
  });

  app.post('/oauth/token', limited, async (request, reply) => {
    const form = fields(request.body);
    const source = auditSource(request);
    let tokens;
    if (form.grant_type === DEVICE_CODE_GRANT) tokens = await deviceFlow.exchangeDeviceCode(form, source);
    else if (form.grant_type === 'refresh_token') tokens = await deviceFlow.refresh(form, source);
    else if (form.grant_type === undefined) throw new OAuthError('invalid_request', 'grant_type is missing');
    else {
      throw new OAuthError(
        'unsupported_grant_type',
        `grant_type \`${form.grant_type.slice(0, 80)}\` is not supported; use ${DEVICE_CODE_GRANT} or refresh_token`,
      );
    }
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(tokens);
  });

  app.post('/oauth/revoke', limited, async (request, reply) => {
    await deviceFlow.revoke(fields(request.body), auditSource(request));
    return reply.header('cache-control', 'no-store').send({});
  });
};
