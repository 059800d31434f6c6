/** Where a command writes: the process's streams in real use, arrays in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes: success, a check failed (invalid rules, failed expectation), the command was misused. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
