/**
 * A line diff of two texts by longest common subsequence, and its side-by-side rows (a run of
 * removed lines next to the run of added lines that replaced it).
 */

export type DiffOp = { kind: 'same'; text: string; a: number; b: number } | { kind: 'removed'; text: string; a: number } | { kind: 'added'; text: string; b: number };

export interface DiffRow {
  kind: 'same' | 'changed' | 'removed' | 'added';
  left: { line: number; text: string } | null;
  right: { line: number; text: string } | null;
}

/** Above this many cells (lines × lines, after the common ends), the middle is shown as replaced whole. */
const MAX_CELLS = 16_000_000;

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** The edit from `before` to `after`, line by line (line numbers 1-based). */
export function diffLines(before: string, after: string): DiffOp[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const ops: DiffOp[] = [];
  for (let i = 0; i < start; i++) ops.push({ kind: 'same', text: a[i]!, a: i + 1, b: i + 1 });
  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_CELLS) {
    for (let i = start; i < endA; i++) ops.push({ kind: 'removed', text: a[i]!, a: i + 1 });
    for (let j = start; j < endB; j++) ops.push({ kind: 'added', text: b[j]!, b: j + 1 });
  } else {
    // lcs[i][j]: the longest common subsequence of a[start+i..endA) and b[start+j..endB).
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] = a[start + i] === b[start + j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) { ops.push({ kind: 'same', text: a[start + i]!, a: start + i + 1, b: start + j + 1 }); i++; j++; }
      else if (j < m && (i === n || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) { ops.push({ kind: 'added', text: b[start + j]!, b: start + j + 1 }); j++; }
      else { ops.push({ kind: 'removed', text: a[start + i]!, a: start + i + 1 }); i++; }
    }
  }
  for (let k = 0; k < a.length - endA; k++) ops.push({ kind: 'same', text: a[endA + k]!, a: endA + k + 1, b: endB + k + 1 });
  return ops;
}

/** Rows for a two-column view: unchanged lines side by side, a removed run beside the added run after it. */
export function sideBySide(ops: DiffOp[]): DiffRow[] {
  const rows: DiffRow[] = [];
  let k = 0;
  while (k < ops.length) {
    const op = ops[k]!;
    if (op.kind === 'same') { rows.push({ kind: 'same', left: { line: op.a, text: op.text }, right: { line: op.b, text: op.text } }); k++; continue; }
    const removed: { line: number; text: string }[] = [];
    const added: { line: number; text: string }[] = [];
    while (k < ops.length && ops[k]!.kind !== 'same') {
      const o = ops[k]!;
      if (o.kind === 'removed') removed.push({ line: o.a, text: o.text });
      else if (o.kind === 'added') added.push({ line: o.b, text: o.text });
      k++;
    }
    for (let r = 0; r < Math.max(removed.length, added.length); r++) {
      const left = removed[r] ?? null;
      const right = added[r] ?? null;
      rows.push({ kind: left && right ? 'changed' : left ? 'removed' : 'added', left, right });
    }
  }
  return rows;
}

/** Lines added and removed. */
export function diffStats(ops: DiffOp[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const op of ops) { if (op.kind === 'added') added++; else if (op.kind === 'removed') removed++; }
  return { added, removed };
}
