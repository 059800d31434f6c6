/**
 * Three webhook receivers in their own process (so the hub under test does not share its
 * event loop with them): each answers 204 at once. Prints its ports as one JSON line.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ports: number[] = [];
for (let i = 0; i < 3; i++) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  ports.push((server.address() as AddressInfo).port);
}
console.log(JSON.stringify({ ports }));
