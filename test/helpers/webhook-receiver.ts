import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  /** What the receiver answered. */
  status: number;
}

export type Responder = (hook: ReceivedWebhook) => { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };

/**
 * A webhook receiver for tests: records every request with its raw body (the bytes that were
 * signed), answers what `respond` says, and can go down (connection refused) and come back on
 * the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  respond: Responder = () => ({ status: 204 });
  inFlight = 0;
  maxInFlight = 0;
  private server: Server | null = null;
  port = 0;

  static async start(port = 0): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    await r.up(port);
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async up(port = this.port): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening: the next connections are refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((h) => h.status < 300 && (JSON.parse(h.body) as { type: string }).type === type);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
    const hook: ReceivedWebhook = {
      id: headers['webhook-id'] ?? '', timestamp: headers['webhook-timestamp'] ?? '', signature: headers['webhook-signature'] ?? '',
      headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now(), status: 0,
    };
    const answer = this.respond(hook);
    hook.status = answer.status;
    this.received.push(hook);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
    } finally {
      this.inFlight--;
    }
  }
}
