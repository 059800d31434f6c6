/**
 * The URL of `rel` in RFC 8288 Link header(s), e.g. `<https://…?after=x>; rel="next"`.
 *
 * A single forward scan (no regular expressions over the header), so the time taken is linear
 * in the header's length whatever a source sends: a header is attacker-controlled input once a
 * connection points at a hostile or compromised server. Relation types compare
 * case-insensitively, only the first `rel` parameter of a link counts (RFC 8288 §3.3), and
 * quoted parameter values may contain `,` and `;`.
 */
export function linkUrl(header: string | string[] | undefined, rel: string): string | null {
  if (!header) return null;
  const wanted = rel.toLowerCase();
  const values = Array.isArray(header) ? header : [header];
  for (const value of values) {
    const found = findLink(value, wanted);
    if (found !== null) return found;
  }
  return null;
}

const isOws = (c: string | undefined) => c === ' ' || c === '\t';

function findLink(s: string, wanted: string): string | null {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const open = s.indexOf('<', i);
    if (open < 0) return null;
    const close = s.indexOf('>', open + 1);
    if (close < 0) return null; // no link can be complete from here on
    const target = s.slice(open + 1, close);
    i = close + 1;
    let rels: string[] | null = null;
    // Parameters up to the ',' that ends this link-value; anything unexpected is skipped one character at a time.
    while (i < n && s[i] !== ',') {
      if (s[i] !== ';') {
        i++;
        continue;
      }
      i++;
      while (isOws(s[i])) i++;
      const nameStart = i;
      while (i < n && !'=;,"'.includes(s[i]!) && !isOws(s[i])) i++;
      const name = s.slice(nameStart, i).toLowerCase();
      while (isOws(s[i])) i++;
      let value = '';
      if (s[i] === '=') {
        i++;
        while (isOws(s[i])) i++;
        if (s[i] === '"') {
          i++;
          let text = '';
          let chunk = i;
          while (i < n && s[i] !== '"') {
            if (s[i] === '\\') {
              text += s.slice(chunk, i);
              chunk = i + 1; // keep the escaped character, drop the backslash
              i += 2;
            } else {
              i++;
            }
          }
          value = text + s.slice(chunk, Math.min(i, n));
          if (i < n) i++; // the closing quote
        } else {
          const start = i;
          while (i < n && s[i] !== ';' && s[i] !== ',' && !isOws(s[i])) i++;
          value = s.slice(start, i);
        }
      }
      if (name === 'rel' && rels === null) rels = value.toLowerCase().split(/[ \t]+/).filter(Boolean);
    }
    if (rels?.includes(wanted)) return target;
  }
  return null;
}
