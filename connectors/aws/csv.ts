/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) → rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** The credential report's markers for "nothing to say" become null, true/false booleans. */
export function credentialReportValue(raw: string): string | boolean | null {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'N/A' || raw === 'no_information' || raw === 'not_supported' || raw === '') return null;
  return raw;
}

/** The IAM credential report (CSV) → one record per user, keyed by the CSV's own column names. */
export function credentialReportRecords(csv: string): Record<string, string | boolean | null>[] {
  const [header, ...rows] = parseCsv(csv.trim());
  if (!header) return [];
  return rows.map((cells) => Object.fromEntries(header.map((column, i) => [column, credentialReportValue(cells[i] ?? '')])));
}
