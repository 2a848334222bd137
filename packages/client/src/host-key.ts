// Host keys: how a configured host is written (`name`, `name:port`, `[v6]:port`) and how a URL is
// matched against it. Matching is exact on the host name (case-insensitive) and on the port when
// the key names one; there is no wildcard and no suffix matching, so credentials for
// `registry.example.com` never reach `evil-registry.example.com` or `registry.example.com.evil`.

import { isIP } from 'node:net';

export interface HostKey {
  /** Lower-case host name or IP address, without brackets. */
  host: string;
  /** The port when the key names one. */
  port: number | undefined;
}

export class HostKeyError extends Error {
  readonly code = 'HOST_KEY';
}

/** Parses `host`, `host:port` or `[v6]` / `[v6]:port`; throws HostKeyError. */
export function parseHostKey(key: string): HostKey {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(key);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
    if (isIP(host) !== 6) throw new HostKeyError(`\`${key}\`: \`${host}\` is not an IPv6 address`);
  } else {
    const parts = key.split(':');
    if (parts.length > 2) throw new HostKeyError(`\`${key}\`: write an IPv6 address in brackets, e.g. \`[::1]:8080\``);
    host = parts[0]!;
    portText = parts[1];
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host) || host.includes('..')) {
      throw new HostKeyError(`\`${key}\` is not a host name (expected e.g. \`registry.example.com\` or \`registry.example.com:8443\`)`);
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new HostKeyError(`\`${key}\`: \`${portText}\` is not a port number`);
    }
    port = Number(portText);
  }
  return { host: host.toLowerCase(), port };
}

/** The host of a URL without IPv6 brackets, lower-cased, and its effective port. */
export function urlHostPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : 0;
  return { host, port };
}

/** Whether a key matches a host and port: same host, and same port when the key has one. */
export function hostKeyMatches(key: HostKey, host: string, port: number): boolean {
  return key.host === host.toLowerCase() && (key.port === undefined || key.port === port);
}

/** Writes host and port as a key (`[::1]:8080` for IPv6). */
export function formatHostPort(host: string, port?: number): string {
  const name = isIP(host) === 6 ? `[${host}]` : host;
  return port === undefined ? name : `${name}:${port}`;
}
