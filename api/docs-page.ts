/**
 * A readable, self-contained rendering of the OpenAPI document: no CDN, so it works on
 * air-gapped installations. Each operation shows its scopes, parameters and schemas.
 */
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description?: string; $ref?: string }>;
  'x-required-scopes'?: string[];
}

export function renderDocsPage(doc: {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { responses?: Record<string, { description: string }> };
}): string {
  const byTag = new Map<string, string[]>();
  // Responses shared by many operations are references to components/responses.
  const described = (r: { description?: string; $ref?: string }) => r.description ?? doc.components?.responses?.[String(r.$ref).split('/').pop()!]?.description ?? '';
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'other';
      const scopes = op['x-required-scopes'];
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${escape(p.name)}</code> <small>${p.in}${p.required ? ', required' : ''}</small>${p.description ? ' — ' + escape(p.description) : ''}</li>`)
        .join('');
      const body = op.requestBody ? `<details><summary>Request body</summary><pre>${escape(JSON.stringify(op.requestBody.content['application/json']?.schema, null, 2))}</pre></details>` : '';
      const responses = Object.entries(op.responses)
        .map(([status, r]) => `<li><code>${status}</code> ${escape(described(r))}</li>`)
        .join('');
      const html = `<section class="op"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
        <p>${escape(op.summary ?? '')}</p>${op.description ? `<p>${escape(op.description)}</p>` : ''}
        <p class="scopes">${scopes === undefined ? 'No authentication.' : scopes.length ? 'Scope: ' + scopes.map((s) => `<code>${escape(s)}</code>`).join(' or ') : 'Any valid API key.'}</p>
        ${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ''}${body}<h4>Responses</h4><ul>${responses}</ul></section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2 id="${escape(tag)}">${escape(tag)}</h2>${ops.join('')}`).join('');
  const toc = [...byTag.keys()].map((tag) => `<a href="#${escape(tag)}">${escape(tag)}</a>`).join(' · ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1d2433}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f5f6f8;padding:.75rem;overflow:auto}
.op{border:1px solid #e1e4ea;border-radius:6px;padding:.25rem 1rem;margin:1rem 0}.m{display:inline-block;min-width:4.5em;font-size:12px;padding:2px 6px;border-radius:4px;color:#fff;background:#555}
.get{background:#2b7bb9}.post{background:#2f9e44}.put,.patch{background:#d9822b}.delete{background:#c92a2a}.scopes{color:#555}</style></head>
<body><h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1><p>${escape(doc.info.description ?? '')}</p>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1)</p><nav>${toc}</nav>${sections}</body></html>`;
}
