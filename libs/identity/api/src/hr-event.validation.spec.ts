import { compiledValidationShortcuts as fastPathShortcuts, flattenValidationErrors, isCompiledDto, untrustedInputError, validDtoOf } from '@custos/platform/http';
import { seededRandom } from '@custos/platform/testing';
import type { EmployeeRecord } from '@custos/identity/contracts';
import { plainToInstance } from 'class-transformer';
import { isEmail, isISO8601, maxLength, validate, validateSync } from 'class-validator';
import { isDeepStrictEqual } from 'node:util';
import { EmployeeDto, HrEventDto } from './hr-event.dto';
import { checkEmployee, checkHrEvent } from './hr-event.validation';

/** The DTOs' compiled validator (the platform's, shared by every route): an instance when certainly valid, else undefined. */
const fastHrEventDto = (payload: unknown) => validDtoOf(HrEventDto, payload);
const hrEventFastPathEnabled = () => isCompiledDto(HrEventDto) && isCompiledDto(EmployeeDto);

/** checkHrEvent as it was before the compiled validator, word for word: the oracle of every test below. */
async function originalCheckHrEvent(payload: unknown): Promise<unknown> {
  const unacceptable = untrustedInputError(payload);
  if (unacceptable) return { ok: false, errors: [unacceptable] };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, errors: [{ field: '', message: 'an HR event must be a JSON object' }] };
  }
  const dto = plainToInstance(HrEventDto, payload);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length > 0) return { ok: false, errors: flattenValidationErrors(errors) };
  const { groups, employee, ...rest } = dto;
  return { ok: true, event: { ...rest, employee: { ...employee }, ...(groups === undefined ? {} : { groups }) } };
}

/** class-transformer + class-validator alone, as the global pipe falls back to: the slow path. */
const checkHrEventSlowly = originalCheckHrEvent;

/** checkEmployee as it was before the fast path. */
function originalCheckEmployee(employee: EmployeeRecord): string[] {
  const errors = validateSync(plainToInstance(EmployeeDto, { ...employee }), { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  return flattenValidationErrors(errors).map((e) => (e.message.startsWith(`${e.field} `) ? e.message : `${e.field}: ${e.message}`));
}

type Json = Record<string, unknown>;

const employee = (over: Json = {}): Json => ({ employeeId: 'E1001', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', employmentType: 'employee', ...over });
const event = (over: Json = {}, employeeOver: Json = {}): Json => ({
  eventId: 'wd-000123',
  system: 'workday',
  type: 'joiner',
  effectiveAt: '2026-12-01T09:00:00Z',
  employee: employee(employeeOver),
  ...over,
});
const without = (object: Json, key: string): Json => {
  const copy = { ...object };
  delete copy[key];
  return copy;
};

/** Checks the payload with the fast path, the slow path and the oracle; all three must answer the same. */
async function check(payload: unknown): Promise<{ ok: boolean; event?: Json; errors?: Array<{ field: string; message: string }> }> {
  const expected = await originalCheckHrEvent(payload);
  expect(await checkHrEvent(payload)).toStrictEqual(expected);
  return expected as never;
}

/** A valid event the fast path accepts by itself (no class-validator). */
async function acceptedFast(payload: unknown): Promise<Json> {
  expect(fastHrEventDto(payload)).toBeDefined();
  const result = await check(payload);
  expect(result.ok).toBe(true);
  return result.event as Json;
}

/** A valid event the fast path is not sure of (class-validator accepts it). */
async function acceptedSlowly(payload: unknown): Promise<Json> {
  expect(fastHrEventDto(payload)).toBeUndefined();
  const result = await check(payload);
  expect(result.ok).toBe(true);
  return result.event as Json;
}

async function refused(payload: unknown): Promise<Array<{ field: string; message: string }>> {
  expect(fastHrEventDto(payload)).toBeUndefined();
  const result = await check(payload);
  expect(result.ok).toBe(false);
  return result.errors ?? [];
}

const fields = async (payload: unknown): Promise<string[]> => [...new Set((await refused(payload)).map((e) => e.field))];

describe('checkHrEvent', () => {
  it('compiles its fast path from the DTOs', () => {
    expect(hrEventFastPathEnabled()).toBe(true);
  });

  describe('valid events', () => {
    it('accepts a minimal event on the fast path, with the event class-transformer made', async () => {
      const payload = event();
      const result = await acceptedFast(payload);
      expect(result).toStrictEqual({ ...without(payload, 'employee'), employee: { ...new EmployeeDto(), ...employee() } });
      expect(result).not.toHaveProperty('groups');
    });

    it('accepts a full event (every optional field, groups) on the fast path, copying groups', async () => {
      const payload = event(
        { groups: ['eng', 'all-staff', ''] },
        { department: 'Engineering', title: 'Engineer', managerEmployeeId: 'E1000', location: 'London', costCenter: 'CC-10', employmentType: 'contractor' },
      );
      const result = await acceptedFast(payload);
      expect(result['groups']).toEqual(['eng', 'all-staff', '']);
      expect(result['groups']).not.toBe(payload['groups']);
      expect(result['employee']).not.toBe(payload['employee']);
    });

    it.each(['joiner', 'mover', 'leaver', 'rehire'])('accepts type %s', async (type) => {
      await acceptedFast(event({ type }));
    });

    it('accepts null for optional fields (IsOptional skips null), keeping the null', async () => {
      const result = await acceptedFast(event({ groups: null }, { department: null, title: null, managerEmployeeId: null, location: null, costCenter: null }));
      expect(result['groups']).toBeNull();
      expect((result['employee'] as Json)['department']).toBeNull();
    });

    it('accepts undefined optional fields, and leaves out groups: undefined', async () => {
      const result = await acceptedFast(event({ groups: undefined }, { department: undefined }));
      expect(result).not.toHaveProperty('groups');
    });

    it('accepts an event without effectiveAt on the fast path (it takes effect when Custos receives it)', async () => {
      const result = await acceptedFast(without(event(), 'effectiveAt'));
      expect(result['effectiveAt']).toBeUndefined();
    });

    it('accepts effectiveAt: null as left out, keeping the null (the intake reads it as absent)', async () => {
      const result = await acceptedFast(event({ effectiveAt: null }));
      expect(result['effectiveAt']).toBeNull();
    });

    it('accepts empty optional strings except managerEmployeeId (IsNotEmpty)', async () => {
      await acceptedFast(event({}, { department: '', title: '', location: '', costCenter: '' }));
      expect(await refused(event({}, { managerEmployeeId: '' }))).toEqual([{ field: 'employee.managerEmployeeId', message: 'managerEmployeeId should not be empty' }]);
    });
  });

  describe('missing and mistyped fields', () => {
    it.each(['eventId', 'system', 'type', 'employee'])('refuses an event without %s', async (key) => {
      expect(await fields(without(event(), key))).toEqual([key]);
    });

    it.each(['employeeId', 'givenName', 'familyName', 'email', 'employmentType'])('refuses an employee without %s', async (key) => {
      expect(await fields(event({ employee: without(employee(), key) }))).toEqual([`employee.${key}`]);
    });

    it('names each bad field once, by its most telling broken rule', async () => {
      expect(await refused(without(event(), 'eventId'))).toEqual([{ field: 'eventId', message: 'eventId should not be empty' }]);
      expect(await refused(event({ eventId: '' }))).toEqual([{ field: 'eventId', message: 'eventId should not be empty' }]);
      expect(await refused(event({ system: 'work day' }))).toEqual([{ field: 'system', message: 'system must be 1-63 letters, digits, - or _' }]);
    });

    it.each([
      ['eventId', 42],
      ['eventId', null],
      ['system', ['workday']],
      ['type', 'Joiner'],
      ['type', 'hire'],
      ['effectiveAt', 1764579600000],
      ['groups', 'eng'],
      ['groups', { 0: 'eng' }],
      ['groups', ['eng', 1]],
      ['groups', [null]],
      ['groups', [['eng']]],
    ])('refuses %s = %j', async (key, value) => {
      expect(await fields(event({ [key]: value }))).toEqual([key]);
    });

    it.each([
      ['employeeId', 1001],
      ['givenName', null],
      ['familyName', { name: 'Lovelace' }],
      ['email', 42],
      ['department', 7],
      ['title', ['Engineer']],
      ['managerEmployeeId', false],
      ['location', {}],
      ['costCenter', 10],
      ['employmentType', 'intern'],
      ['employmentType', null],
    ])('refuses employee.%s = %j', async (key, value) => {
      expect(await fields(event({}, { [key]: value }))).toEqual([`employee.${key}`]);
    });

    it.each([[[]], [null], ['Ada'], [42], [[employee()]]])('refuses employee = %j', async (value) => {
      expect(await fields(event({ employee: value }))).toContain('employee');
    });

    it('refuses an empty employee, naming each field', async () => {
      expect(await fields(event({ employee: {} }))).toEqual(['employee.employeeId', 'employee.givenName', 'employee.familyName', 'employee.email', 'employee.employmentType']);
    });

    it.each([[[]], [[event()]], [null], [undefined], ['{}'], [42], [true]])('refuses the payload %j', async (payload) => {
      expect(await refused(payload)).toEqual([{ field: '', message: 'an HR event must be a JSON object' }]);
    });
  });

  describe('unknown keys', () => {
    it('refuses an unknown key at the top level and inside employee', async () => {
      expect(await refused(event({ foo: 1 }))).toEqual([{ field: 'foo', message: 'property foo should not exist' }]);
      expect(await refused(event({}, { manager: 'E1000' }))).toEqual([{ field: 'employee.manager', message: 'property manager should not exist' }]);
      expect(await fields(event({ EventId: 'x' }))).toEqual(['EventId']);
    });

    // A prototype name is refused before any DTO is looked at (class-transformer would drop it silently).
    it.each(['{"__proto__":{"polluted":1}}', '{"constructor":"x"}'])('refuses %s, naming it', async (extra) => {
      const top = JSON.parse(JSON.stringify(event()).replace(/^\{/, `{${extra.slice(1, -1)},`)) as Json;
      expect(await fields(top)).toHaveLength(1);
      const inEmployee = JSON.parse(JSON.stringify(event()).replace('{"employeeId"', `{${extra.slice(1, -1)},"employeeId"`)) as Json;
      expect((await fields(inEmployee))[0]).toMatch(/^employee\./);
    });

    // class-transformer drops any key naming a method of the instance (toString, valueOf...), so class-validator never sees it.
    it.each(['{"toString":1}', '{"hasOwnProperty":null}'])('drops %s like class-transformer, through the slow path', async (extra) => {
      const top = JSON.parse(JSON.stringify(event()).replace(/^\{/, `{${extra.slice(1, -1)},`)) as Json;
      expect(await acceptedSlowly(top)).toStrictEqual(await acceptedFast(event()));
      const inEmployee = JSON.parse(JSON.stringify(event()).replace('{"employeeId"', `{${extra.slice(1, -1)},"employeeId"`)) as Json;
      expect(await acceptedSlowly(inEmployee)).toStrictEqual(await acceptedFast(event()));
    });
  });

  describe('emails (validator isEmail, default options)', () => {
    it.each([
      'ada@example.com',
      'ADA.Lovelace+hr@mail.example.co.uk',
      'a_b-c@example.com',
      'a@b.co',
      'a@example.xn--p1ai',
      `${'a'.repeat(64)}@example.com`,
      `x@${'a'.repeat(63)}.com`,
    ])('accepts %s on the fast path', async (email) => {
      await acceptedFast(event({}, { email }));
    });

    it.each([
      'ada@bücher.de', // IDN, not punycoded
      'ada@xn--bcher-kva.de',
      'ädä@example.com',
      '"ada lovelace"@example.com',
      '"a@b"@example.com',
      "o'brien@example.com",
      'a{b}@example.com',
    ])('accepts %s through isEmail itself', async (email) => {
      const result = await check(event({}, { email }));
      expect(result.ok).toBe(true);
    });

    it.each([
      'ada@example.com.',
      'ada@[127.0.0.1]',
      'ada@127.0.0.1',
      'ada@localhost',
      'a..b@example.com',
      '.a@example.com',
      'a.@example.com',
      'a@b.c',
      'a@example.123',
      'a@-example.com',
      'a@exa_mple.com',
      'a@ｅxample.com',
      '😀@example.com',
      'Ada <ada@example.com>',
      'ada@example.com ',
      '',
      `${'a'.repeat(65)}@example.com`,
      `x@${'a'.repeat(64)}.com`,
      `${'a'.repeat(64)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(7)}`, // 255 characters
    ])('refuses %j', async (email) => {
      expect(await refused(event({}, { email }))).toEqual([{ field: 'employee.email', message: 'email must be an email' }]);
    });

    it('refuses a lone surrogate with a 400 naming the field, where class-validator alone threw (validator isByteLength calls encodeURI)', async () => {
      const payload = event({}, { email: '\uD83D@example.com' });
      expect(() => validate(plainToInstance(HrEventDto, payload), { whitelist: true, forbidNonWhitelisted: true })).toThrow(URIError);
      const refusal = { ok: false, errors: [{ field: 'employee.email', message: 'employee.email is not well-formed Unicode text (a lone surrogate)' }] };
      expect(await checkHrEvent(payload)).toEqual(refusal);
      expect(await checkHrEvent(event({ eventId: 'a\uDC00' }))).toEqual({ ok: false, errors: [{ field: 'eventId', message: 'eventId is not well-formed Unicode text (a lone surrogate)' }] });
    });
  });

  describe('effectiveAt (IsISO8601 strict + RFC 3339)', () => {
    const rfc = { field: 'effectiveAt', message: 'effectiveAt must be an RFC 3339 date-time with a zone' };
    const iso = { field: 'effectiveAt', message: 'effectiveAt must be a valid ISO 8601 date string' };

    it.each([
      '2026-12-01T09:00:00Z',
      '2026-12-01T09:00:00.5Z',
      '2026-12-01T09:00:00.123456789+05:30',
      '2026-12-01T09:00:00-00:00',
      '2026-12-01T23:59:59+23:59',
      '2024-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '1000-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
    ])('accepts %s on the fast path', async (effectiveAt) => {
      await acceptedFast(event({ effectiveAt }));
    });

    it('leaves years before 1000 to isISO8601 itself (it refuses 0000, accepts 0999)', async () => {
      expect(fastPathShortcuts.surelyTimestamp('0999-01-01T00:00:00Z')).toBe(false);
      expect(await refused(event({ effectiveAt: '0000-01-01T00:00:00Z' }))).toEqual([iso]);
      expect((await check(event({ effectiveAt: '0999-01-01T00:00:00Z' }))).ok).toBe(true);
    });

    it.each([
      ['2026-12-01T09:00:00', [rfc]],
      ['2026-12-01t09:00:00Z', [iso]],
      ['2026-12-01T09:00:00z', [rfc]],
      ['2026-12-01 09:00:00Z', [rfc]],
      ['2026-12-01T09:00:00,5Z', [rfc]],
      ['2026-12-01T09:00:00.Z', [iso]],
      ['2026-12-01T09:00Z', [rfc]],
      ['+2026-12-01T09:00:00Z', [rfc]],
      ['2026-12-01', [rfc]],
      ['2026-02-30T00:00:00Z', [iso]],
      ['2026-02-29T00:00:00Z', [iso]],
      ['2100-02-29T00:00:00Z', [iso]],
      ['2026-04-31T00:00:00Z', [iso]],
      ['2026-13-01T00:00:00Z', [iso]],
      ['2026-00-01T00:00:00Z', [iso]],
      ['2026-12-00T00:00:00Z', [iso]],
      ['2026-12-31T23:59:60Z', [iso]],
      ['2026-12-01T24:00:00Z', [iso]],
      ['2026-12-01T09:60:00Z', [iso]],
      ['2026-12-01T09:00:00+24:00', [iso]],
      ['2026-12-01T09:00:00+05:60', [iso]],
    ])('refuses %s', async (effectiveAt, errors) => {
      expect(await refused(event({ effectiveAt }))).toEqual(errors);
    });
  });

  describe('MaxLength(200): isLength counts a surrogate pair and a character + variation selector as one', () => {
    const tooLong = { field: 'eventId', message: 'eventId must be shorter than or equal to 200 characters' };

    it('accepts 200 characters and refuses 201', async () => {
      await acceptedFast(event({ eventId: 'x'.repeat(200) }));
      expect(await refused(event({ eventId: 'x'.repeat(201) }))).toEqual([tooLong]);
      expect(await fields(event({}, { department: 'd'.repeat(201) }))).toEqual(['employee.department']);
    });

    it('accepts 200 emoji (400 UTF-16 units) on the fast path, through isLength', async () => {
      await acceptedFast(event({ eventId: '😀'.repeat(200) }));
      await acceptedFast(event({}, { title: '😀'.repeat(200) }));
      expect(await refused(event({ eventId: '😀'.repeat(201) }))).toEqual([tooLong]);
      expect(await refused(event({ eventId: `${'😀'.repeat(200)}x` }))).toEqual([tooLong]);
    });

    it('counts variation selectors and lone surrogates as isLength does', async () => {
      await acceptedFast(event({ eventId: 'a\uFE0F'.repeat(200) }));
      await acceptedFast(event({ eventId: '😀\uFE0F'.repeat(101) })); // 303 units, 101 characters
      expect(await refused(event({ eventId: '\uFE0F'.repeat(201) }))).toEqual([tooLong]);
      // isLength's count of lone surrogates no longer matters: checkHrEvent refuses them first.
      expect(await validate(plainToInstance(HrEventDto, event({ eventId: '\uD83D'.repeat(201) })))).toHaveLength(1);
      expect(fastHrEventDto(event({ eventId: '\uD83D'.repeat(200) }))).toBeDefined();
      expect(await checkHrEvent(event({ eventId: '\uD83D'.repeat(200) }))).toEqual({ ok: false, errors: [{ field: 'eventId', message: 'eventId is not well-formed Unicode text (a lone surrogate)' }] });
    });
  });

  describe('system (HR_SYSTEM_PATTERN)', () => {
    it.each(['w', 'WorkDay', 'sap-hr_2', 'a'.repeat(63)])('accepts %s', async (system) => {
      await acceptedFast(event({ system }));
    });
    it.each(['', '-workday', '_x', 'work.day', 'a'.repeat(64), 'wörkday', 'workday\n'])('refuses %j', async (system) => {
      expect(await fields(event({ system }))).toEqual(['system']);
    });
  });

  describe('values JSON cannot carry (the fast path leaves them to class-transformer)', () => {
    it('a sparse groups array is compacted by class-transformer', async () => {
      expect((await acceptedSlowly(event({ groups: [, 'eng'] })))['groups']).toEqual(['eng']);
    });

    it('String objects, Dates, class instances and null-prototype objects', async () => {
      await check(event({ eventId: new String('wd-1') }));
      await check(event({ effectiveAt: new Date() }));
      await check(event({ employee: Object.assign(new EmployeeDto(), employee()) }));
      await check(Object.assign(new HrEventDto(), event()));
    });

    it('a null-prototype object (what a query-string parser makes) is copied as class-transformer copies it', async () => {
      const nullPrototype = Object.assign(Object.create(null) as Json, event());
      expect(fastHrEventDto(nullPrototype)).toBeDefined();
      expect((await check(nullPrototype)).ok).toBe(true);
    });
  });
});

describe('checkEmployee', () => {
  it('has no message for a valid employee, on the fast path', () => {
    expect(checkEmployee(employee() as unknown as EmployeeRecord)).toEqual([]);
    expect(checkEmployee(employee({ department: 'Eng', managerEmployeeId: 'E1' }) as unknown as EmployeeRecord)).toEqual([]);
  });

  it.each([
    employee({ email: 'nope' }),
    employee({ employmentType: 'intern', givenName: '' }),
    employee({ extra: 1 }),
    without(employee(), 'familyName'),
    employee({ managerEmployeeId: '' }),
  ])('words the problems of %j as before', (record) => {
    const expected = originalCheckEmployee(record as unknown as EmployeeRecord);
    expect(expected.length).toBeGreaterThan(0);
    expect(checkEmployee(record as unknown as EmployeeRecord)).toEqual(expected);
  });
});

describe('shortcuts (each may only say "certainly valid")', () => {
  const random = seededRandom(Number(process.env['HR_FUZZ_SEED'] ?? 1864));
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const stringOf = (alphabet: readonly string[], length: number) => Array.from({ length }, () => pick(alphabet)).join('');

  it('surelyShortEnough(200) implies MaxLength(200)', () => {
    const alphabet = ['a', 'é', '😀', '\uFE0F', '\uFE0E', '\uD83D', '\uDE00', ' '];
    let sure = 0;
    for (let i = 0; i < 5000; i++) {
      const value = stringOf(alphabet, 100 + int(200));
      if (fastPathShortcuts.surelyShortEnough(200)(value)) {
        sure++;
        expect([value, maxLength(value, 200)]).toEqual([value, true]);
      }
    }
    expect(sure).toBeGreaterThan(500);
  });

  it('surelyEmail implies isEmail with the default options', () => {
    const alnum = ['a', 'z', 'Q', '0', '9'];
    const odd = ['.', '..', '_', '+', '-', '"', 'ä', ' ', '@', '!', '\u212A', '\u017F', 'ｅ', '[', ']', '1', '😀', '\uFE0F'];
    const runs = (count: number, length: () => number, separators: string[]) => Array.from({ length: count }, () => stringOf(alnum, length())).join(pick(separators));
    const samples = Array.from({ length: 200 }, (_, n) => `${'a'.repeat(n % 70)}@${'b'.repeat(n)}.com`);
    for (let i = 0; i < 20000; i++) {
      const local = runs(1 + int(3), () => (int(5) === 0 ? 20 + int(30) : 1 + int(5)), ['.', '_', '+', '-']);
      const host = runs(1 + int(4), () => (int(5) === 0 ? 60 + int(6) : 1 + int(6)), ['.', '-']);
      const tld = stringOf(int(4) === 0 ? ['a', '1', '-'] : ['a', 'Q'], int(5) === 0 ? 61 + int(4) : 1 + int(4));
      let value = `${local}@${host}.${tld}`;
      // now and then an odd character anywhere
      for (let n = int(3) === 0 ? 1 + int(2) : 0; n > 0; n--) {
        const at = int(value.length + 1);
        value = value.slice(0, at) + pick(odd) + value.slice(at);
      }
      samples.push(value);
    }
    let sure = 0;
    for (const value of samples) {
      if (fastPathShortcuts.surelyEmail(value)) {
        sure++;
        expect([value, isEmail(value)]).toEqual([value, true]);
      }
    }
    expect(sure).toBeGreaterThan(5000);
  });

  it('surelyTimestamp implies isISO8601 (strict or not)', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    const samples: string[] = [];
    for (const year of ['0000', '0001', '0999', '1000', '1582', '1900', '1970', '2000', '2024', '2026', '2100', '2400', '9999'])
      for (let month = 0; month <= 13; month++)
        for (let day = 0; day <= 32; day++) {
          const date = `${year}-${two(month)}-${two(day)}`;
          samples.push(`${date}T${pick(['00', '12', '23'])}:${pick(['00', '59'])}:${pick(['00', '59'])}${pick(['', '.5', '.123456789'])}${pick(['Z', '+00:00', '-23:59'])}`);
          samples.push(`${date}T${pick(['00', '12', '23', '24'])}:${pick(['00', '59', '60'])}:${pick(['00', '59', '60'])}${pick(['', '.5', '.123456789', '.', ',5'])}${pick(['Z', 'z', '+00:00', '-23:59', '+24:00', '+05:60', '+0530', ''])}`);
        }
    let sure = 0;
    for (const value of samples) {
      if (fastPathShortcuts.surelyTimestamp(value)) {
        sure++;
        expect([value, isISO8601(value, { strict: true }), isISO8601(value), isISO8601(value, { strict: true, strictSeparator: true })]).toEqual([value, true, true, true]);
      }
    }
    expect(sure).toBeGreaterThan(3000);
  });
});

describe('differential: fast path against class-validator on random mutations of valid events', () => {
  const seed = Number(process.env['HR_FUZZ_SEED'] ?? 20261201);
  const runs = Number(process.env['HR_FUZZ_RUNS'] ?? 4000);
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];

  const alphabet = ['a', 'Z', '0', ' ', '-', '_', '.', '@', '+', '"', ':', 'T', 'é', 'ä', 'ｅ', '😀', '\uFE0F', '\uD83D', '\u0000', '\n', '中'];
  const randomString = () => {
    const length = chance(0.15) ? 195 + int(12) : int(8);
    return Array.from({ length }, () => pick(alphabet)).join('');
  };
  const emails = ['ada@example.com', 'x.y+z@sub.example.org', 'ada@bücher.de', '"a b"@example.com', 'ada@example.com.', 'ada@[127.0.0.1]', `${'a'.repeat(65)}@example.com`, 'a@b.c', 'ädä@example.com', 'A@B.CO'];
  const timestamps = ['2026-12-01T09:00:00Z', '2026-12-01T09:00:00.5+05:30', '2026-02-30T00:00:00Z', '2026-12-31T23:59:60Z', '2026-12-01T09:00:00', '2026-12-01t09:00:00z', '2024-02-29T23:59:59-00:00', '0000-01-01T00:00:00Z', '2026-12-01T09:00:00+24:00'];
  const words = ['joiner', 'mover', 'leaver', 'rehire', 'employee', 'contractor', 'Joiner', 'workday', 'sap-hr', 'bad system', ''];
  const topKeys = ['eventId', 'system', 'type', 'effectiveAt', 'employee', 'groups'];
  const employeeKeys = ['employeeId', 'givenName', 'familyName', 'email', 'department', 'title', 'managerEmployeeId', 'location', 'costCenter', 'employmentType'];
  const strangeKeys = ['foo', 'EventId', '', 'constructor', 'toString', '__proto__', 'valueOf', '0'];

  const randomValue = (depth = 0): unknown => {
    switch (int(16)) {
      case 0: return null;
      case 1: return undefined;
      case 2: return pick([0, 1, -1, 1.5, NaN]);
      case 3: return chance(0.5);
      case 4: return depth > 1 ? {} : { a: randomValue(depth + 1) };
      case 5: return depth > 1 ? [] : Array.from({ length: int(4) }, () => (chance(0.8) ? randomString() : randomValue(depth + 1)));
      case 6: return pick(emails);
      case 7: return pick(timestamps);
      case 8: return pick(words);
      case 9: return depth > 1 ? {} : randomEmployee();
      default: return randomString();
    }
  };
  const randomEmployee = (): Json => {
    const record: Json = { employeeId: `E${int(100000)}`, givenName: pick(['Ada', 'Åsa', 'José', '李']), familyName: 'Lovelace', email: pick(emails.slice(0, 2)), employmentType: pick(['employee', 'contractor']) };
    for (const key of employeeKeys.slice(4, 9)) if (chance(0.4)) record[key] = chance(0.1) ? null : chance(0.5) ? randomString() : `${key}-${int(100)}`;
    return record;
  };
  const randomEvent = (): Json => {
    const payload: Json = { eventId: `wd-${int(1e6)}`, system: pick(['workday', 'sap-hr', 'bamboo_1']), type: pick(['joiner', 'mover', 'leaver', 'rehire']), effectiveAt: pick(timestamps.slice(0, 2)), employee: randomEmployee() };
    if (chance(0.5)) payload['groups'] = Array.from({ length: int(4) }, () => pick(['eng', 'all', 'ops', '']));
    // effectiveAt is optional: it defaults to the time Custos receives the event
    if (chance(0.2)) delete payload['effectiveAt'];
    return payload;
  };
  const setOwn = (object: Json, key: string, value: unknown) => Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });

  const mutate = (payload: Json) => {
    const target = chance(0.5) && typeof payload['employee'] === 'object' && payload['employee'] !== null && !Array.isArray(payload['employee']) ? (payload['employee'] as Json) : payload;
    const keys = target === payload ? topKeys : employeeKeys;
    switch (int(6)) {
      case 0:
        delete target[pick(keys)];
        break;
      case 1:
        setOwn(target, pick(keys), randomValue());
        break;
      case 2:
        setOwn(target, pick(strangeKeys), randomValue());
        break;
      case 3: {
        const key = pick(keys);
        setOwn(target, key, chance(0.5) ? [target[key]] : { value: target[key] });
        break;
      }
      case 4: {
        const key = pick(keys);
        const unit = pick(['x', '😀', 'a\uFE0F', 'é']);
        setOwn(target, key, unit.repeat(199 + int(3)));
        break;
      }
      default:
        setOwn(target, pick(keys), randomString());
    }
  };

  it(`agrees on every payload (seed ${seed}, ${runs} runs; HR_FUZZ_SEED and HR_FUZZ_RUNS to change)`, async () => {
    const mismatches: unknown[] = [];
    const counts = { fast: 0, ok: 0, refused: 0, threw: 0, employeeChecks: 0 };
    // class-validator itself throws on some values (isEmail on a lone surrogate): the fast path must throw alike
    const settle = async (run: () => Promise<unknown>): Promise<unknown> => {
      try {
        return await run();
      } catch (error) {
        return { threw: String(error) };
      }
    };
    for (let i = 0; i < runs; i++) {
      let payload: unknown = randomEvent();
      const mutations = pick([0, 0, 1, 1, 1, 2, 3]);
      for (let m = 0; m < mutations; m++) mutate(payload as Json);
      if (chance(0.5)) payload = JSON.parse(JSON.stringify(payload)) as unknown;
      if (chance(0.01)) payload = pick([null, [], 'event', 42, [payload]]);
      const before = JSON.stringify(payload);
      const expected = (await settle(() => originalCheckHrEvent(payload))) as { ok?: boolean; threw?: string };
      const fast = await settle(() => checkHrEvent(payload));
      const slow = await settle(() => checkHrEventSlowly(payload));
      // (text no route accepts, a NUL say, is refused before the DTO is looked at)
      if (expected.ok && (await settle(async () => fastHrEventDto(payload))) !== undefined) counts.fast++;
      counts[expected.threw ? 'threw' : expected.ok ? 'ok' : 'refused']++;
      if (!isDeepStrictEqual(fast, expected) || !isDeepStrictEqual(slow, expected) || JSON.stringify(payload) !== before) {
        mismatches.push({ i, payload: before, expected, fast, slow });
      }
      const record = (payload as Json | null)?.['employee'];
      if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
        counts.employeeChecks++;
        const want = await settle(async () => originalCheckEmployee(record as EmployeeRecord));
        const got = await settle(async () => checkEmployee(record as EmployeeRecord));
        if (!isDeepStrictEqual(got, want)) mismatches.push({ i, employee: JSON.stringify(record), want, got });
      }
      if (mismatches.length >= 5) break;
    }
    expect(mismatches).toEqual([]);
    // the run must exercise both paths, not just fall back
    expect(counts.fast).toBeGreaterThan(runs / 5);
    expect(counts.ok).toBeGreaterThan(counts.fast);
    expect(counts.refused).toBeGreaterThan(runs / 4);
    console.log(`differential (seed ${seed}):`, counts);
    // a loaded 2-core CI machine runs thousands of class-validator checks well past the 5 s default
  }, 60_000);
});


const plainEmployee = { employeeId: 'E1', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', employmentType: 'employee' as const };
const plainEvent = (overrides: Record<string, unknown> = {}) => ({ eventId: 'wd-1', system: 'workday', type: 'joiner', employee: plainEmployee, ...overrides });

/** checkHrEvent is the webhook's DTO (class-validator, the global pipe's options) for the NATS door. */
describe('checkHrEvent, the NATS door', () => {
  it('accepts a valid event as plain data, groups only when given', async () => {
    const accepted = await checkHrEvent(plainEvent({ effectiveAt: '2026-01-01T00:00:00Z' }));
    expect(accepted).toEqual({ ok: true, event: { eventId: 'wd-1', system: 'workday', type: 'joiner', effectiveAt: '2026-01-01T00:00:00Z', employee: plainEmployee } });
    expect(await checkHrEvent(plainEvent({ groups: ['eng'] }))).toMatchObject({ ok: true, event: { groups: ['eng'] } });
  });

  it.each([
    ['a missing field says it should not be empty', plainEvent({ eventId: undefined }), [{ field: 'eventId', message: 'eventId should not be empty' }]],
    ['a field of the wrong type says so', plainEvent({ eventId: 7 }), [{ field: 'eventId', message: 'eventId must be a string' }]],
    ['an unknown field', plainEvent({ extra: 1 }), [{ field: 'extra', message: 'property extra should not exist' }]],
    ['a bad effectiveAt once', plainEvent({ effectiveAt: 'soon' }), [{ field: 'effectiveAt', message: 'effectiveAt must be a valid ISO 8601 date string' }]],
    ['a nested field by its path', plainEvent({ employee: { ...plainEmployee, email: 'nope' } }), [{ field: 'employee.email', message: 'email must be an email' }]],
    ['a lone surrogate before class-validator sees it', plainEvent({ eventId: 'a\uDC00' }), [{ field: 'eventId', message: 'eventId is not well-formed Unicode text (a lone surrogate)' }]],
    ['a payload that is not an object', ['x'], [{ field: '', message: 'an HR event must be a JSON object' }]],
  ])('refuses %s', async (_what, payload, errors) => {
    expect(await checkHrEvent(payload)).toStrictEqual({ ok: false, errors });
  });
});

describe('checkEmployee, a CSV row', () => {
  it('names each bad field of a row once', () => {
    expect(checkEmployee({ ...plainEmployee })).toEqual([]);
    expect(checkEmployee({ ...plainEmployee, email: 'nope', givenName: '' })).toEqual(['givenName should not be empty', 'email must be an email']);
  });
});

