import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FormData, Response } from 'undici';
import { boundaryOf, readMultipartForm, type MultipartLimits } from './multipart.js';

const LIMITS: MultipartLimits = { maxFileBytes: 1024 * 1024, maxFieldBytes: 1024, retainFileBytes: 1024 * 1024 };

/** A body cut into pieces of `size` bytes, as a socket might deliver it. */
function chunked(body: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) pieces.push(body.subarray(at, at + size));
  return Readable.from(pieces);
}

async function serialise(form: FormData): Promise<{ body: Buffer; boundary: string }> {
  const response = new Response(form);
  const boundary = boundaryOf(response.headers.get('content-type') ?? undefined);
  if (!boundary) throw new Error('no boundary');
  return { body: Buffer.from(await response.arrayBuffer()), boundary };
}

describe('streaming multipart reader', () => {
  // Bytes that look like the start of a boundary, inside the file itself.
  const tricky = Buffer.concat([Buffer.from('line\r\n--'), Buffer.from(Array.from({ length: 600 }, (_, i) => i % 256)), Buffer.from('\r\n-\r\n--x\r\n\r\n')]);

  it('reads the same form whatever the chunking', async () => {
    const form = new FormData();
    form.set('source', 'jamf-export');
    form.set('note', 'é ✓ "quoted"');
    form.set('file', new Blob([tricky], { type: 'application/octet-stream' }), 'report "v2".bin');
    const { body, boundary } = await serialise(form);
    for (const size of [1, 2, 3, 7, 64, 1000, body.length]) {
      const result = await readMultipartForm(chunked(body, size), boundary, LIMITS);
      if (!('form' in result)) throw new Error(`chunk size ${size}: ${result.message}`);
      expect(result.form.fields).toEqual({ source: 'jamf-export', note: 'é ✓ "quoted"' });
      expect(result.form.files).toHaveLength(1);
      expect(result.form.files[0]).toMatchObject({ field: 'file', contentType: 'application/octet-stream', size: tricky.length, sha256: createHash('sha256').update(tricky).digest('hex') });
      expect(result.form.files[0]?.content?.equals(tricky)).toBe(true);
    }
  });

  it('skips preamble, transport padding and epilogue', async () => {
    const body = Buffer.from('preamble\r\n--b \t\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--b--\r\nepilogue');
    expect(await readMultipartForm(chunked(body, 5), 'b', LIMITS)).toEqual({ form: { fields: { a: '1', b: '2' }, files: [] } });
  });

  it('rejects a truncated body, a part without a name and a file over the limit, reading each to its end', async () => {
    const truncated = Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1');
    expect(await readMultipartForm(chunked(truncated, 4), 'b', LIMITS)).toMatchObject({ rejected: 'malformed' });
    const nameless = Buffer.from('--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--');
    expect(await readMultipartForm(chunked(nameless, 4), 'b', LIMITS)).toMatchObject({ rejected: 'malformed' });

    const form = new FormData();
    form.set('file', new Blob([Buffer.alloc(2000)]), 'big.bin');
    const { body, boundary } = await serialise(form);
    const stream = chunked(body, 100);
    expect(await readMultipartForm(stream, boundary, { ...LIMITS, maxFileBytes: 1999 })).toMatchObject({ rejected: 'file-too-large' });
    expect(stream.readableEnded).toBe(true);
  });

  it('keeps only small files, and hashes every one', async () => {
    const form = new FormData();
    form.set('file', new Blob([tricky]), 'a.bin');
    const { body, boundary } = await serialise(form);
    const result = await readMultipartForm(chunked(body, 64), boundary, { ...LIMITS, retainFileBytes: 100 });
    if (!('form' in result)) throw new Error(result.message);
    expect(result.form.files[0]).toMatchObject({ size: tricky.length, sha256: createHash('sha256').update(tricky).digest('hex') });
    expect(result.form.files[0]?.content).toBeUndefined();
  });

  it('finds the boundary in a Content-Type', () => {
    expect(boundaryOf('multipart/form-data; boundary=----abc')).toBe('----abc');
    expect(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b"')).toBe('a b');
    expect(boundaryOf('application/json')).toBeUndefined();
    expect(boundaryOf('multipart/form-data')).toBeUndefined();
  });
});
