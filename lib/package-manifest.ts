import { createHash, type Hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * The manifest of an evidence package (`manifest.json`, the last file of the ZIP): what the
 * package is, and every other file with its size and SHA-256, sealed by one
 * `verification_hash` that an auditor can recompute with standard tools.
 */
export const MANIFEST_PATH = 'manifest.json';
export const MANIFEST_FORMAT = 'evidence-hub.evidence-package';
export const MANIFEST_FORMAT_VERSION = 1;

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export const VERIFICATION_METHOD = {
  algorithm: 'SHA-256',
  canonicalization: 'RFC 8785 (JSON Canonicalization Scheme)',
  covers: 'files',
  description:
    'verification_hash is the lowercase hex SHA-256 of the RFC 8785 canonical JSON of the "files" array of this manifest ' +
    '(each element {path, sha256, size}, in the order listed; every file of the package except manifest.json itself). ' +
    'To verify the package: check that every listed file exists with the listed size and SHA-256, then recompute the hash of the list. ' +
    'Each line of evidence.ndjson (one evidence item) also carries payload_sha256, the SHA-256 of the RFC 8785 canonical JSON of its payload; ' +
    'each snapshots/<id>.ndjson hashes to the sha256 recorded for that snapshot in runs/*.json; ' +
    'audit-log-verification.json is the hub’s verification report of the audit log’s hash chain over the period, and its ' +
    'verification_hash is the SHA-256 over the "hash" of every entry of audit-log.ndjson, each followed by a newline.',
  example: "jq -jcS '.files' manifest.json | sha256sum",
} as const;

/**
 * SHA-256 of the canonical JSON of a list of files, fed one file at a time: the canonical JSON
 * of an array is its elements' canonical JSON joined by commas inside brackets, so the list
 * never has to exist as one string.
 */
export class FileListHasher {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;

  add(file: ManifestFile): void {
    this.hash.update((this.count++ === 0 ? '[' : ',') + canonicalJson({ path: file.path, sha256: file.sha256, size: file.size }));
  }

  digest(): string {
    if (this.count === 0) this.hash.update('[');
    return this.hash.update(']').digest('hex');
  }
}

/** `verification_hash` of a list of files held at once (tests, small lists). */
export function fileListHash(files: Iterable<ManifestFile>): string {
  const hasher = new FileListHasher();
  for (const file of files) hasher.add(file);
  return hasher.digest();
}

/**
 * The manifest as text pieces: the header pretty-printed, then `files` one per line, so a
 * manifest listing many thousands of files is written without building it as one string.
 * `header` must not contain `files`.
 */
export function* manifestChunks(header: Record<string, unknown>, files: readonly ManifestFile[]): Generator<string> {
  const head = JSON.stringify(header, null, 2);
  // `{\n  …\n}` without its closing brace, continued with the files array.
  yield head === '{}' ? '{\n  "files": [' : head.slice(0, head.lastIndexOf('}')).trimEnd() + ',\n  "files": [';
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    yield (i === 0 ? '\n    ' : ',\n    ') + canonicalJson({ path: f.path, sha256: f.sha256, size: f.size });
  }
  yield files.length ? '\n  ]\n}\n' : ']\n}\n';
}
