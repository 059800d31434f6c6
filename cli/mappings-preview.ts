/**
 * `evidence-hub mappings preview <rules-file> --data <file>`: what the rules produce on sample
 * data, evaluated here (offline); or `--url <hub> --snapshot <id>…` with the key from
 * EVIDENCE_HUB_API_KEY: on snapshots the hub collected, evaluated by the hub's preview (the
 * same as the console's studio shows). One block per rule: result, title, counts, the first
 * failing records. Exits 1 when the rules do not read or a rule's result is `error`.
 */
import { readFile } from 'node:fs/promises';
import { evaluate, failingRecordsOf, parseYamlOrJson, readRulesSource, compileRules, type EvaluationResult } from '../mappings/engine.js';
import { EXIT, type CliIo } from './io.js';

const SHOWN_FAILING = 10;

export interface PreviewOptions {
  data?: string;
  url?: string;
  snapshots?: string[];
  /** The API key, for --url (EVIDENCE_HUB_API_KEY). */
  apiKey?: string;
}

export async function previewMappingFile(rulesFile: string, options: PreviewOptions, io: CliIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(rulesFile, 'utf8');
  } catch (error) {
    io.err(`cannot read ${rulesFile}: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
  const read = readRulesSource(text);
  if (!read.ok) {
    for (const e of read.errors) io.out(`${rulesFile}:${e.line}:${e.column}: ${e.pointer || '(document)'}: ${e.message}`);
    return EXIT.failed;
  }
  const result = options.url ? await previewOnHub(text, rulesFile, options, io) : await previewOffline(read.rules, options.data!, io);
  if (!result) return EXIT.failed;
  printPreview(io, result);
  return result.evidence.some((item) => item.result === 'error') || result.errors.length > 0 ? EXIT.failed : EXIT.ok;
}

async function previewOffline(rules: unknown[], dataFile: string, io: CliIo): Promise<EvaluationResult | null> {
  let parsed;
  try {
    parsed = parseYamlOrJson(await readFile(dataFile, 'utf8'));
  } catch (error) {
    io.err(`cannot read ${dataFile}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    io.err(`${dataFile}: expected records by dataset name, e.g. {"okta.users": [...]}${parsed.ok ? '' : ` (${parsed.errors[0]?.message})`}`);
    return null;
  }
  return evaluate(compileRules({ rules }), parsed.value as Record<string, unknown>, { now: new Date() });
}

async function previewOnHub(text: string, rulesFile: string, options: PreviewOptions, io: CliIo): Promise<EvaluationResult | null> {
  if (!options.apiKey) {
    io.err('set EVIDENCE_HUB_API_KEY to an API key with config:read and runs:read');
    return null;
  }
  const format = /\.json$/i.test(rulesFile) ? 'json' : 'yaml';
  let response: Response;
  try {
    response = await fetch(new URL('/api/v1/mappings/preview', options.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify({ source: { text, format }, snapshot_ids: options.snapshots }),
    });
  } catch (error) {
    io.err(`the hub at ${options.url} is not reachable: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
  const body = await response.json().catch(() => null) as (EvaluationResult & { detail?: string; errors?: { pointer: string; message: string; line?: number; column?: number; document_pointer?: string }[] }) | null;
  if (!response.ok || !body) {
    io.err(`the hub answered ${response.status}: ${body?.detail ?? response.statusText}`);
    for (const e of body?.errors ?? []) io.err(`  ${e.line ? `${rulesFile}:${e.line}:${e.column}: ` : ''}${e.document_pointer ?? e.pointer}: ${e.message}`);
    return null;
  }
  return body;
}

function printPreview(io: CliIo, result: EvaluationResult): void {
  const stats = new Map(result.stats.map((s) => [s.rule_id, s]));
  for (const item of result.evidence) {
    const s = stats.get(item.rule_id);
    const failing = failingRecordsOf(item);
    io.out(`${item.result.toUpperCase().padEnd(5)} ${item.rule_id}: ${item.title}`);
    if (s) io.out(`      ${s.selected} selected, ${s.matched} matched, ${s.excluded} excluded${failing.length ? `, ${failing.length} failing` : ''}`);
    for (const record of failing.slice(0, SHOWN_FAILING)) io.out(`      - ${String(record.label ?? JSON.stringify(record.id))} (${record.fails.join('; ')})`);
    if (failing.length > SHOWN_FAILING) io.out(`      … and ${failing.length - SHOWN_FAILING} more`);
    const error = (item.payload._evaluation as { error?: string } | undefined)?.error;
    if (error) io.out(`      error: ${error}`);
  }
  for (const e of result.errors) io.out(`ERROR ${e.rule_id}: ${e.pointer ? `${e.pointer}: ` : ''}${e.message}`);
}
