import { Client, Connection } from '@temporalio/client';

/**
 * The API's lazy handle on Temporal: connects on first use (so the API can start and report
 * "not ready" while Temporal is still coming up) and reconnects after a failed attempt.
 */
export class TemporalGateway {
  private connecting: Promise<Client> | null = null;

  constructor(private readonly options: { address: string; namespace: string; taskQueue: string }) {}

  get taskQueue(): string {
    return this.options.taskQueue;
  }

  client(): Promise<Client> {
    this.connecting ??= Connection.connect({ address: this.options.address, connectTimeout: '3 seconds' })
      .then((connection) => new Client({ connection, namespace: this.options.namespace }))
      .catch((err: unknown) => {
        this.connecting = null;
        throw err;
      });
    return this.connecting;
  }

  async check(): Promise<void> {
    const client = await this.client();
    await client.workflowService.getSystemInfo({});
  }

  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = null;
    if (pending) await (await pending.catch(() => null))?.connection.close();
  }
}
