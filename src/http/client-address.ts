// The client's address, for the audit log, rate limits and sign-in sessions. Behind a reverse proxy
// or a load balancer every request comes from the proxy: the address it received the request from
// is the last one it appends to `X-Forwarded-For`. That header is read only from the peers named in
// `server.trusted_proxies`; from anyone else it is the client's own claim, and ignored. fastify reads
// it for `request.ip` with the same compiled check (its `trustProxy` option); the lean path
// (fast-lane.ts), which answers before fastify, reads it through this.

import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** Whether a peer (or, walking back through X-Forwarded-For, an earlier hop) is a trusted proxy. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/** The check of `trustedProxies`, or undefined when there are none; fastify's `trustProxy` takes it too. */
export function proxyTrust(trustedProxies: readonly string[]): ProxyTrust | undefined {
  return trustedProxies.length === 0 ? undefined : proxyAddr.compile([...trustedProxies]);
}

/** The client address of a request, trusting `X-Forwarded-For` from the peers `trust` accepts only. */
export function clientAddressOf(trust: ProxyTrust | undefined): (req: IncomingMessage) => string {
  if (trust === undefined) return (req) => req.socket.remoteAddress!;
  return (req) => proxyAddr(req, trust);
}
