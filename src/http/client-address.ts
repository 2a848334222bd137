// The client's address, for the audit log, rate limits and sign-in sessions. Behind a reverse proxy
// or a load balancer every request comes from the proxy: the address it received the request from
// is the last one it appends to `X-Forwarded-For`. That header is read only from the peers named in
// `server.trusted_proxies`; from anyone else it is the client's own claim, and ignored. fastify reads
// it the same way for `request.ip` (its `trustProxy` option, given the same list); the lean path
// (fast-lane.ts), which answers before fastify, reads it through this.

import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** The client address of a request, trusting `X-Forwarded-For` from `trustedProxies` only. */
export function clientAddressOf(trustedProxies: readonly string[]): (req: IncomingMessage) => string {
  if (trustedProxies.length === 0) return (req) => req.socket.remoteAddress!;
  const trust = proxyAddr.compile([...trustedProxies]);
  return (req) => proxyAddr(req, trust);
}
