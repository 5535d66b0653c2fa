import { checkEmployee, checkHrEvent } from './hr-event.validation';

const employee = { employeeId: 'E1', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', employmentType: 'employee' as const };
const event = (overrides: Record<string, unknown> = {}) => ({ eventId: 'wd-1', system: 'workday', type: 'joiner', employee, ...overrides });

/** checkHrEvent is the webhook's DTO (class-validator, the global pipe's options) for the NATS door. */
describe('checkHrEvent', () => {
  it('accepts a valid event as plain data, groups only when given', async () => {
    const accepted = await checkHrEvent(event({ effectiveAt: '2026-01-01T00:00:00Z' }));
    expect(accepted).toEqual({ ok: true, event: { eventId: 'wd-1', system: 'workday', type: 'joiner', effectiveAt: '2026-01-01T00:00:00Z', employee } });
    expect(await checkHrEvent(event({ groups: ['eng'] }))).toMatchObject({ ok: true, event: { groups: ['eng'] } });
  });

  it.each([
    ['a missing field says it should not be empty', event({ eventId: undefined }), [{ field: 'eventId', message: 'eventId should not be empty' }]],
    ['a field of the wrong type says so', event({ eventId: 7 }), [{ field: 'eventId', message: 'eventId must be a string' }]],
    ['an unknown field', event({ extra: 1 }), [{ field: 'extra', message: 'property extra should not exist' }]],
    ['a bad effectiveAt once', event({ effectiveAt: 'soon' }), [{ field: 'effectiveAt', message: 'effectiveAt must be a valid ISO 8601 date string' }]],
    ['a nested field by its path', event({ employee: { ...employee, email: 'nope' } }), [{ field: 'employee.email', message: 'email must be an email' }]],
    ['a lone surrogate before class-validator sees it', event({ eventId: 'a\uDC00' }), [{ field: 'eventId', message: 'eventId is not well-formed Unicode text (a lone surrogate)' }]],
    ['a payload that is not an object', ['x'], [{ field: '', message: 'an HR event must be a JSON object' }]],
  ])('refuses %s', async (_what, payload, errors) => {
    expect(await checkHrEvent(payload)).toStrictEqual({ ok: false, errors });
  });
});

describe('checkEmployee', () => {
  it('names each bad field of a row once', () => {
    expect(checkEmployee({ ...employee })).toEqual([]);
    expect(checkEmployee({ ...employee, email: 'nope', givenName: '' })).toEqual(['givenName should not be empty', 'email must be an email']);
  });
});
