import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

export interface DroppingProxyOptions {
  /** PUT requests let through whole before the proxy starts cutting. */
  skip?: number;
  /** How many PUT requests to cut (Infinity: every one). */
  drops: number;
  /** Bytes of a cut request that reach the server before both connections are destroyed. */
  afterBytes: number;
}

/**
 * A TCP proxy in front of an HTTP endpoint (the local S3) that simulates a network drop during an
 * upload: once `skip` PUTs have gone through, each PUT connection is cut after `afterBytes` of the
 * request, half-way through its body, without an answer, as a lost Wi-Fi link or a NAT timeout
 * leaves it. Everything else is passed through untouched.
 */
export const startDroppingProxy = async (target: string, options: DroppingProxyOptions) => {
  const { hostname, port } = new URL(target);
  let skipLeft = options.skip ?? 0;
  let dropsLeft = options.drops;
  let dropped = 0;
  let puts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    let cutting = false;
    let seen = 0;
    client.on('data', (chunk: Buffer) => {
      if (!cutting && chunk.subarray(0, 4).toString('latin1') === 'PUT ') {
        puts++;
        if (skipLeft > 0) skipLeft--;
        else if (dropsLeft > 0) {
          dropsLeft--;
          cutting = true;
        }
      }
      if (!cutting) {
        upstream.write(chunk);
        return;
      }
      const room = options.afterBytes - seen;
      seen += chunk.length;
      if (room > 0) upstream.write(chunk.subarray(0, room));
      if (seen >= options.afterBytes) {
        dropped++;
        client.destroy();
        upstream.destroy();
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    /** Requests cut so far. */
    dropped: () => dropped,
    /** PUT requests seen, cut or not. */
    puts: () => puts,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};
