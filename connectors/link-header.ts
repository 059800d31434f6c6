/** The URL of `rel` in RFC 8288 Link header(s), e.g. `<https://…?after=x>; rel="next"`. */
export function linkUrl(header: string | string[] | undefined, rel: string): string | null {
  if (!header) return null;
  const values = Array.isArray(header) ? header : [header];
  for (const value of values) {
    for (const match of value.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
      const params = match[2] ?? '';
      const rels = /;\s*rel="?([^";,]+)"?/i.exec(params)?.[1]?.split(/\s+/) ?? [];
      if (rels.includes(rel)) return match[1]!;
    }
  }
  return null;
}
