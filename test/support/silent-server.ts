// A TCP server on 127.0.0.1 that accepts connections and never answers: what a frozen service looks
// like to its clients (the kernel completes the handshake, then nothing). `forwardTo(port)` turns it
// into a plain relay to a real server for the connections that come after: the service is back.

import { connect, createServer, type Socket } from 'node:net';

export interface SilentServer {
  port: number;
  url: string;
  /** From now on, relays new connections to 127.0.0.1:port. */
  forwardTo(port: number): void;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let target: number | undefined;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (target === undefined) return; // accepted, never answered
    const upstream = connect(target, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    forwardTo(to) {
      target = to;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
