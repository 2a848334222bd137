// Parses the proxy's --listen value: `host:port`, `[v6]:port` or a bare port (loopback).

export class ListenAddressError extends Error {
  readonly code = 'LISTEN_ADDRESS';
}

export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text) ?? (/^\d{1,5}$/.test(text) ? [text, undefined, '127.0.0.1', text] : null);
  if (!m || Number(m[3]) > 65535) throw new ListenAddressError(`--listen: \`${text}\` is not host:port (e.g. 127.0.0.1:8771, [::1]:0)`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}
