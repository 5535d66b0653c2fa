import { parseSnapshot } from './snapshot';

const HEADER = 'employeeId,givenName,familyName,email,department,title,managerEmployeeId,location,costCenter,employmentType';

describe('parseSnapshot (an HR export as CSV)', () => {
  it('reads rows with their line numbers; empty optional cells are absent attributes', () => {
    const text = `\uFEFF${HEADER}\r\nE1,Ada,Lovelace,ada@example.com,Engineering,Engineer,,London,CC-10,employee\r\n\r\nE2, Alan ,Turing,alan@example.com,,,E1,,,contractor\r\n`;
    expect(parseSnapshot(text)).toEqual({
      rows: [
        { line: 2, employee: { employeeId: 'E1', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', department: 'Engineering', title: 'Engineer', location: 'London', costCenter: 'CC-10', employmentType: 'employee' } },
        { line: 4, employee: { employeeId: 'E2', givenName: 'Alan', familyName: 'Turing', email: 'alan@example.com', managerEmployeeId: 'E1', employmentType: 'contractor' } },
      ],
      problems: [],
    });
  });

  it('takes the columns in any order and any case, and optional columns may be left out', () => {
    const text = 'EMAIL,employmentType,FamilyName,givenname,employeeId\n"ada@example.com",employee,"Love, lace",Ada,E1\n';
    expect(parseSnapshot(text).rows).toEqual([{ line: 2, employee: { email: 'ada@example.com', employmentType: 'employee', familyName: 'Love, lace', givenName: 'Ada', employeeId: 'E1' } }]);
  });

  it.each([
    ['an empty file', '', [{ line: 1, message: expect.stringMatching(/empty: a header row is required/) }]],
    ['an unknown column', `${HEADER},departmnet\nE1,Ada,L,a@x.io,,,,,,employee,Sales\n`, [{ line: 1, message: expect.stringMatching(/^unknown column "departmnet"/) }]],
    ['a missing required column', 'employeeId,givenName,familyName,employmentType\nE1,Ada,L,employee\n', [{ line: 1, message: 'missing required column "email"' }]],
    ['a column twice', 'employeeId,givenName,familyName,email,employmentType,email\n', [{ line: 1, message: 'column "email" appears twice' }]],
    ['an unclosed quote', `${HEADER}\nE1,"Ada,L,a@x.io,,,,,,employee\n`, [{ line: 2, message: expect.stringMatching(/^not valid CSV: Quote Not Closed/) }]],
  ])('refuses %s', (_, text, problems) => {
    expect(parseSnapshot(text)).toEqual({ rows: [], problems });
  });

  it('reports every bad row with its line, and keeps none of them', () => {
    const text = [
      HEADER,
      'E1,Ada,Lovelace,ada@example.com,,,,,,employee',
      'E2,,Turing,alan@example.com,,,,,,employee',
      'E3,Grace,Hopper,grace@example.com,,,,,,intern',
      'E4,Edsger,Dijkstra',
      'E1,Ada,Again,ada2@example.com,,,,,,employee',
      'E5,Barbara,Liskov,not-an-email,,,,,,employee',
    ].join('\n');
    const check = (e: { email: string }) => (e.email.includes('@') ? [] : ['email must be an email']);
    const { rows, problems } = parseSnapshot(text, check);
    expect(rows.map((r) => r.employee.employeeId)).toEqual(['E1']);
    expect(problems).toEqual([
      { line: 3, message: 'givenName is required' },
      { line: 4, message: 'employmentType must be employee or contractor, not "intern"' },
      { line: 5, message: '3 fields, but the header has 10' },
      { line: 6, message: 'employeeId E1 appears again (first on line 2)' },
      { line: 7, message: 'email must be an email' },
    ]);
  });

  it('refuses columns named like a prototype (__proto__, constructor, prototype) as unknown, and Object.prototype stays as it was', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const text = 'employeeId,givenName,familyName,email,employmentType,__proto__,constructor,prototype\nE1,Ada,L,ada@example.com,employee,custos:admin,x,y\n';
    const { rows, problems } = parseSnapshot(text);
    expect(rows).toEqual([]);
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('unknown column "__proto__"'), expect.stringContaining('unknown column "constructor"'), expect.stringContaining('unknown column "prototype"')]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).roles).toBeUndefined();
  });
});
