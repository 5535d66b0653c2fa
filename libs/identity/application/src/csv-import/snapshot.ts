import { EMPLOYEE_FIELDS, type EmployeeRecord } from '@custos/identity/contracts';
import { CsvError, parse } from 'csv-parse/sync';

/** The columns of an HR snapshot export, in the order `custos hr import` documents them: the employee record's attributes. */
export const SNAPSHOT_COLUMNS = EMPLOYEE_FIELDS;

export type SnapshotColumn = (typeof SNAPSHOT_COLUMNS)[number];

/** Columns every row must fill; the others may be left empty (the attribute is then absent). */
export const REQUIRED_COLUMNS: ReadonlySet<SnapshotColumn> = new Set(['employeeId', 'givenName', 'familyName', 'email', 'employmentType']);

/** One employee of the export, with the line of the file it came from. */
export interface SnapshotRow {
  line: number;
  employee: EmployeeRecord;
}

/** Something wrong with the file, at a line (1 is the header). */
export interface SnapshotProblem {
  line: number;
  message: string;
}

/**
 * Extra checks of one employee (the API layer passes the rules of `POST /hr/events`, so a row
 * that would be refused there is refused here, before anything is sent). Returns one message
 * per bad field; none when it is fine.
 */
export type EmployeeCheck = (employee: EmployeeRecord) => string[];

export interface ParsedSnapshot {
  rows: SnapshotRow[];
  /** Every problem found; when there is any, nothing of the file may be imported. */
  problems: SnapshotProblem[];
}

const EMPLOYMENT_TYPES: ReadonlySet<string> = new Set(['employee', 'contractor']);

/**
 * parseSnapshot reads an HR export (CSV, header row required, UTF-8 with or without BOM,
 * comma-separated, RFC 4180 quoting). Header names match the documented columns without regard
 * to case; an unknown column is a problem (a misspelt `departmnet` must not silently clear every
 * department), as is a missing required one. Cells are trimmed; an empty optional cell means the
 * attribute is absent. Every bad row is reported with its line number, and the whole file is
 * refused if any row is bad.
 */
export function parseSnapshot(text: string, check?: EmployeeCheck): ParsedSnapshot {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, info: true, trim: true, skip_empty_lines: true, relax_column_count: true }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) return { rows: [], problems: [{ line: Number((error as CsvError & { lines?: number }).lines ?? 0), message: `not valid CSV: ${error.message}` }] };
    throw error;
  }
  if (records.length === 0) return { rows: [], problems: [{ line: 1, message: `the file is empty: a header row is required (${SNAPSHOT_COLUMNS.join(',')})` }] };

  const [header, ...body] = records;
  const problems: SnapshotProblem[] = [];
  const columns: Array<SnapshotColumn | undefined> = [];
  const byLowerCase = new Map<string, SnapshotColumn>(SNAPSHOT_COLUMNS.map((c) => [c.toLowerCase(), c]));
  const seen = new Set<SnapshotColumn>();
  for (const name of header.record) {
    const column = byLowerCase.get(name.toLowerCase());
    if (!column) problems.push({ line: header.info.lines, message: `unknown column "${name}" (known columns: ${SNAPSHOT_COLUMNS.join(', ')})` });
    else if (seen.has(column)) problems.push({ line: header.info.lines, message: `column "${column}" appears twice` });
    else seen.add(column);
    columns.push(column);
  }
  for (const required of REQUIRED_COLUMNS) {
    if (!seen.has(required)) problems.push({ line: header.info.lines, message: `missing required column "${required}"` });
  }
  // Without a usable header, rows cannot be read meaningfully.
  if (problems.length > 0) return { rows: [], problems };

  const rows: SnapshotRow[] = [];
  const lineOfEmployee = new Map<string, number>();
  for (const { record, info } of body) {
    const line = info.lines;
    if (record.length !== columns.length) {
      problems.push({ line, message: `${record.length} fields, but the header has ${columns.length}` });
      continue;
    }
    const cells: Partial<Record<SnapshotColumn, string>> = {};
    columns.forEach((column, i) => {
      if (column && record[i] !== '') cells[column] = record[i];
    });
    const own: string[] = [];
    for (const required of REQUIRED_COLUMNS) {
      if (cells[required] === undefined) own.push(`${required} is required`);
    }
    if (cells.employmentType !== undefined && !EMPLOYMENT_TYPES.has(cells.employmentType)) own.push(`employmentType must be employee or contractor, not "${cells.employmentType}"`);
    if (own.length > 0) {
      problems.push(...own.map((message) => ({ line, message })));
      continue;
    }
    const employee = { ...cells } as EmployeeRecord;
    const checked = check?.(employee) ?? [];
    if (checked.length > 0) {
      problems.push(...checked.map((message) => ({ line, message })));
      continue;
    }
    const first = lineOfEmployee.get(employee.employeeId);
    if (first !== undefined) {
      problems.push({ line, message: `employeeId ${employee.employeeId} appears again (first on line ${first})` });
      continue;
    }
    lineOfEmployee.set(employee.employeeId, line);
    rows.push({ line, employee });
  }
  return { rows, problems };
}
