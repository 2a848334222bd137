// Opens the proxy's outgoing TCP connections: directly, or through an upstream proxy given as
// `http://[user:pass@]host:port` (a CONNECT tunnel) or `socks5://[user:pass@]host:port`.

import { connect, type Socket } from 'node:net';
import { SocksClient } from 'socks';

export type Connector = (host: string, port: number) => Promise<Socket>;

export class UpstreamProxyError extends Error {
  readonly code = 'UPSTREAM_PROXY';
}

function direct(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Names the upstream proxy in an error about reaching it (a bare ECONNREFUSED names only an address). */
function proxyFailure(proxy: URL, error: Error): UpstreamProxyError {
  if (error instanceof UpstreamProxyError) return error;
  return new UpstreamProxyError(`upstream proxy ${proxy.protocol}//${proxy.host} failed: ${error.message}`, { cause: error });
}

function viaHttpProxy(proxy: URL): Connector {
  const proxyPort = Number(proxy.port || 80);
  const auth = proxy.username
    ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
    : '';
  return async (host, port) => {
    let socket: Socket;
    try {
      socket = await direct(proxy.hostname.replace(/^\[(.*)\]$/, '$1'), proxyPort);
    } catch (error) {
      throw proxyFailure(proxy, error as Error);
    }
    const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
    return new Promise((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) {
          if (buffered.length > 16384) fail(new UpstreamProxyError('upstream proxy sent an over-long response to CONNECT'));
          return;
        }
        socket.removeListener('data', onData);
        socket.removeListener('error', fail);
        socket.removeListener('end', onEnd);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(buffered.toString('latin1'))?.[1];
        if (status !== '200') {
          socket.destroy();
          reject(new UpstreamProxyError(`upstream proxy ${proxy.host} answered CONNECT ${authority} with ${status ?? 'garbage'}`));
          return;
        }
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      };
      const fail = (error: Error) => {
        socket.destroy();
        reject(proxyFailure(proxy, error));
      };
      // A proxy that hangs up before answering the CONNECT would otherwise leave the caller waiting forever.
      const onEnd = () =>
        fail(new UpstreamProxyError(`upstream proxy ${proxy.host} closed the connection before answering CONNECT ${authority}`));
      socket.on('data', onData);
      socket.once('error', fail);
      socket.once('end', onEnd);
    });
  };
}

function viaSocks5(proxy: URL): Connector {
  return async (host, port) => {
    const { socket } = await SocksClient.createConnection({
      proxy: {
        host: proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(proxy.port || 1080),
        type: 5,
        ...(proxy.username ? { userId: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) } : {}),
      },
      command: 'connect',
      destination: { host, port },
      timeout: 30_000,
    }).catch((error: Error) => {
      throw proxyFailure(proxy, error);
    });
    return socket;
  };
}

/** A connector for the given upstream proxy URL, or direct connections when there is none. */
export function makeConnector(upstream: string | undefined): Connector {
  if (upstream === undefined || upstream === '') return direct;
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    throw new UpstreamProxyError(`--upstream-proxy: \`${upstream}\` is not a URL (expected http://host:port or socks5://host:port)`);
  }
  if (url.protocol === 'http:') return viaHttpProxy(url);
  if (url.protocol === 'socks5:' || url.protocol === 'socks5h:') return viaSocks5(url);
  throw new UpstreamProxyError(`--upstream-proxy: unsupported scheme ${url.protocol} (expected http:// or socks5://)`);
}
