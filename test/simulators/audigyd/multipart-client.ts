// Multipart uploads for the destination simulators' own tests: a FormData
// post, and a generated upload of any size that is streamed, never held in
// memory.

import { Readable } from 'node:stream';
import { FormData, request } from 'undici';
import type { HttpResult } from '../test-http.js';

async function result<T>(response: Awaited<ReturnType<typeof request>>): Promise<HttpResult<T>> {
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.statusCode, headers: response.headers, body: body as T };
}

/** Text fields and one file, as `curl -F name=value -F file=@…` sends them. */
export function formWith(fields: Record<string, string>, file?: { field?: string; name: string; type?: string; content: string | Uint8Array }): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  if (file) form.set(file.field ?? 'file', new Blob([file.content], { type: file.type ?? 'application/octet-stream' }), file.name);
  return form;
}

export async function postMultipart<T = unknown>(url: string, form: FormData, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
  return result<T>(await request(url, { method: 'POST', headers, body: form }));
}

/** The content of a generated file: `bytes` bytes of a repeating pattern, in 256 KiB chunks. */
export function* generatedFile(bytes: number): Generator<Buffer> {
  const chunk = Buffer.alloc(256 * 1024, 'evidence\r\n--');
  for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, bytes - sent));
}

/** A multipart body with text fields and a `generatedFile(fileBytes)`, produced chunk by chunk as the request is sent. */
export async function postGeneratedUpload<T = unknown>(url: string, fields: Record<string, string>, fileBytes: number, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
  const boundary = 'sim-generated-upload-boundary';
  async function* body(): AsyncGenerator<Buffer> {
    for (const [name, value] of Object.entries(fields)) yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="generated.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    yield* generatedFile(fileBytes);
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return result<T>(await request(url, { method: 'POST', headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Readable.from(body()) }));
}
