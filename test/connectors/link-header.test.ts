import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { linkUrl } from '../../connectors/link-header.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('Link header parser', () => {
  it('follows RFC 8288: quoted values with commas and semicolons, several rels, case, first rel wins', () => {
    expect(linkUrl('<https://a/1>; title="a, b; c"; rel="next"', 'next')).toBe('https://a/1');
    expect(linkUrl('<https://a/1>; rel="self", <https://a/2?x=1,2;3>; rel="prev next"', 'next')).toBe('https://a/2?x=1,2;3');
    expect(linkUrl('<https://a/1>;rel=NEXT', 'next')).toBe('https://a/1');
    expect(linkUrl('<https://a/1> ; rel = next ; type="text/html"', 'next')).toBe('https://a/1');
    expect(linkUrl('<https://a/1>; rel="self"; rel="next", <https://a/2>; rel=next', 'next')).toBe('https://a/2');
    expect(linkUrl('<https://a/1>; title="say \\"rel=next\\""', 'next')).toBeNull();
    expect(linkUrl('<https://a/1>; rel="nextpage"', 'next')).toBeNull();
    expect(linkUrl('junk, <https://a/2>; rel="next"', 'next')).toBe('https://a/2');
    expect(linkUrl('', 'next')).toBeNull();
  });

  // Run in a child process: a parser that backtracks would block this process's event loop
  // for hours on these inputs, and then the test could never report. Killing the child at the
  // deadline turns "never returns" into a failure; the deadline is far above what a linear scan needs.
  it('parses 1 MB hostile headers and still finds the right link', async () => {
    const script = `
      const { linkUrl } = await import(${JSON.stringify(path.join(root, 'connectors/link-header.ts'))});
      const MB = 1 << 20;
      const results = {
        unclosedAngles: linkUrl(['<https://a/1>; rel="self", ' + '<'.repeat(MB), '<https://a/2>; rel="next"'], 'next'),
        anglesNoRel: linkUrl('<https://a/1>; rel="self", ' + '<'.repeat(MB), 'next'),
        manyParams: linkUrl('<https://a/3>' + '; x=y'.repeat(MB / 5) + '; rel="next"', 'next'),
        unterminatedQuote: linkUrl('<https://a/4>; title="' + 'a;,<'.repeat(MB / 4), 'next'),
        manyEmptyLinks: linkUrl('<>'.repeat(MB / 2) + ', <https://a/5>; rel=next', 'next'),
        semicolonsAndSpaces: linkUrl('<https://a/6>' + '; '.repeat(MB / 2) + ';rel=next', 'next'),
      };
      process.stdout.write(JSON.stringify(results));
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      timeout: 40_000,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 20,
    }).catch((err: { killed?: boolean; stderr?: string }) => {
      throw new Error(err.killed ? 'the parser did not return on a hostile header' : `the parser child failed: ${err.stderr}`);
    });
    expect(JSON.parse(stdout)).toEqual({
      unclosedAngles: 'https://a/2',
      anglesNoRel: null,
      manyParams: 'https://a/3',
      unterminatedQuote: null,
      manyEmptyLinks: 'https://a/5',
      semicolonsAndSpaces: 'https://a/6',
    });
  });
});
