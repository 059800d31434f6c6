import type { FieldError } from '../lib/errors.js';
import type { CliIo } from './io.js';

/** `file: pointer: message`, the line format editors and CI annotations can pick apart. */
export function printFieldErrors(io: CliIo, file: string, errors: readonly FieldError[]): void {
  for (const error of errors) io.out(`${file}: ${error.pointer || '(document)'}: ${error.message}`);
}
