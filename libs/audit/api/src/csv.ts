import { stringify } from 'csv-stringify/sync';

/** The value at a dotted path (`exception.approvedBy`), through own properties only. */
function at(row: unknown, path: string): unknown {
  let value: unknown = row;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * csvOf writes rows as RFC 4180 CSV with csv-stringify, one column per dotted path: text as it
 * is, a list of texts joined by spaces, anything else as JSON, nothing as an empty cell; a cell
 * that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets a leading quote
 * (escape_formulas), so text that came from input never runs.
 */
export function csvOf(columns: readonly string[], rows: readonly unknown[]): string {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const value = at(row, column);
      if (value === undefined || value === null) return '';
      if (typeof value === 'string') return value;
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(' ');
      return JSON.stringify(value);
    }),
  );
  return stringify([[...columns], ...cells], { escape_formulas: true, record_delimiter: 'windows' });
}
