import { domainErrorClasses } from '../domain-error';

/**
 * Specifies that a context's edge maps every one of its domain errors: each error class exported
 * by the domain names a code, each code has a status in `statuses`, the edge answers that status
 * (`statusAtEdge`, e.g. through platform/http's problem details), and `statuses` names no code
 * that no error class has.
 */
export function specifyDomainErrorStatuses(
  domainExports: Record<string, unknown>,
  statuses: Readonly<Record<string, number>>,
  statusAtEdge: (code: string) => number,
): void {
  const classes = domainErrorClasses(domainExports);

  it('finds the domain error classes', () => {
    expect(classes.length).toBeGreaterThan(0);
  });

  it.each(classes.map((errorClass) => [errorClass.name, errorClass] as const))('%s names a code whose status is registered', (_name, errorClass) => {
    expect(typeof errorClass.code).toBe('string');
    expect(Object.keys(statuses)).toContain(errorClass.code);
    expect(statusAtEdge(errorClass.code)).toBe(statuses[errorClass.code]);
  });

  it('declares no status for a code that no domain error has', () => {
    expect(Object.keys(statuses).sort()).toEqual(classes.map((errorClass) => errorClass.code).sort());
  });
}
