/**
 * Dataset inputs beyond plain arrays: snapshots read as streams (gzip NDJSON blobs), and
 * snapshots that could not be read at all, which must surface as `result: 'error'`.
 */

/** Stands in for a dataset whose snapshot could not be read; its rules yield errors with this reason. */
export class UnreadableDataset {
  /** `stage`: what could not be done with it (its snapshot read, or the dataset collected at all). */
  constructor(readonly reason: string, readonly stage: 'read' | 'collected' = 'read') {}
}

export type DatasetSource = readonly unknown[] | AsyncIterable<unknown> | Iterable<unknown> | UnreadableDataset;

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && (Symbol.asyncIterator in value || Symbol.iterator in value);
}

/**
 * Reads the datasets a mapping needs into arrays (the rules look at whole selections, so a
 * dataset is materialised once, and datasets no rule reads are not read at all). A stream
 * that fails part-way becomes an UnreadableDataset rather than a partial list: half a
 * dataset must not be able to pass a check.
 */
export async function collectDatasets(sources: Readonly<Record<string, DatasetSource | undefined>>, needed: readonly string[]): Promise<Record<string, unknown>> {
  const datasets: Record<string, unknown> = {};
  for (const name of needed) {
    if (!Object.hasOwn(sources, name)) continue;
    const source = sources[name];
    if (Array.isArray(source) || !isIterable(source)) {
      datasets[name] = source;
      continue;
    }
    try {
      const records: unknown[] = [];
      for await (const record of source) records.push(record);
      datasets[name] = records;
    } catch (error) {
      datasets[name] = new UnreadableDataset(error instanceof Error ? error.message : String(error));
    }
  }
  return datasets;
}
