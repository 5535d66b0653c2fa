import { plainToInstance, Type } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { isCompiledDto, validDtoOf } from './compiled-validation';
import { toProblem } from './problem.filter';
import { untrustedInputError } from './untrusted-input';
import { createValidationPipe, validateDto } from './validation';

class Contact {
  @IsEmail() email!: string;
  @IsOptional() @IsString() note?: string;
}

describe('the validation pipe', () => {
  const pipe = createValidationPipe();
  const body = { type: 'body' as const, metatype: Contact };

  it('refuses a lone surrogate with a 400 naming the field, where class-validator would throw (a 500)', async () => {
    const refusal = await pipe.transform({ email: '\uD83D@example.com' }, body).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(toProblem(refusal)).toMatchObject({
      status: 400,
      errors: [{ field: 'email', message: 'email is not well-formed Unicode text (a lone surrogate)' }],
    });
  });

  it('still validates and names every other bad field, and keeps paired surrogates', async () => {
    await expect(pipe.transform({ email: 'x@example.com', note: 'ok 😀' }, body)).resolves.toBeInstanceOf(Contact);
    const refusal = await pipe.transform({ email: 'nope', extra: 1 }, body).catch((error: unknown) => error);
    expect(toProblem(refusal)).toMatchObject({ status: 400, errors: [{ field: 'extra' }, { field: 'email' }] });
  });

  it.each([
    [{ a: 'fine', b: { c: ['x', 'y\uDC00'] } }, 'b.c.1'],
    ['\uD800', ''],
    [{ a: '😀', b: 1, c: null }, undefined],
  ])('untrustedInputError finds the path of a lone surrogate in %j', (value, path) => {
    expect(untrustedInputError(value)?.field).toBe(path === '' ? 'body' : path);
  });
});

class Address {
  @IsString() @IsNotEmpty() city!: string;
}

class Member {
  @IsString() @MaxLength(20) name!: string;
  @IsIn(['admin', 'user']) role!: string;
  @IsOptional() @IsString({ each: true }) tags?: string[];
  @ValidateNested() @Type(() => Address) address!: Address;
}

/** A query DTO whose number is converted by class-transformer: the compiled validator leaves it alone. */
class Paging {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

describe('the compiled validator under the pipe', () => {
  const pipe = createValidationPipe();
  const member = () => ({ name: 'Ada', role: 'admin', tags: ['a', 'b'], address: { city: 'London' } });

  it('compiles plain DTOs, nested ones included, and declines a DTO that class-transformer converts', () => {
    expect(isCompiledDto(Member)).toBe(true);
    expect(isCompiledDto(Contact)).toBe(true);
    expect(isCompiledDto(Paging)).toBe(false);
  });

  it('builds the instance class-transformer would, nested instances and copied arrays included', async () => {
    const input = member();
    const fast = validDtoOf(Member, input);
    expect(fast).toBeInstanceOf(Member);
    expect(fast?.address).toBeInstanceOf(Address);
    expect(fast?.tags).not.toBe(input.tags);
    expect(await pipe.transform(input, { type: 'body', metatype: Member })).toStrictEqual(fast);
  });

  it.each([
    ['without prototype', () => Object.create(null) as Record<string, unknown>],
    // fast-querystring, Fastify's parser: `new Empty()`, where Empty.prototype = Object.create(null)
    ['with an empty prototype that has none (what Fastify parses a query into)', () => Object.create(Object.create(null) as object) as Record<string, unknown>],
  ])('takes a query object %s', async (_what, blank) => {
    const query = Object.assign(blank(), { email: 'ada@example.com' });
    const fast = validDtoOf(Contact, query);
    expect(fast).toBeInstanceOf(Contact);
    expect(fast).toStrictEqual(plainToInstance(Contact, query));
    await expect(pipe.transform(query, { type: 'query', metatype: Contact })).resolves.toStrictEqual(fast);
  });

  it.each([
    ['an unknown key', { ...member(), extra: 1 }, ['extra']],
    ['a name too long', { ...member(), name: 'x'.repeat(21) }, ['name']],
    ['a role outside its set', { ...member(), role: 'root' }, ['role']],
    ['a tag of the wrong type', { ...member(), tags: ['a', 1] }, ['tags']],
    ['an empty nested field', { ...member(), address: { city: '' } }, ['address.city']],
    ['a nested object that is not one', { ...member(), address: 'London' }, ['address']],
  ])('leaves %s to class-validator, which names the field', async (_what, input, fields) => {
    expect(validDtoOf(Member, input)).toBeUndefined();
    const refusal = await pipe.transform(input, { type: 'body', metatype: Member }).catch((error: unknown) => error);
    expect((toProblem(refusal) as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toEqual(fields);
  });

  it('still converts through class-transformer where the DTO asks for it', async () => {
    const query = Object.assign(Object.create(null) as Record<string, unknown>, { limit: '20' });
    expect(await pipe.transform(query, { type: 'query', metatype: Paging })).toStrictEqual(Object.assign(new Paging(), { limit: 20 }));
  });

  it('validateDto gives a message door the same answers as the pipe', async () => {
    expect(await validateDto(Member, member())).toStrictEqual({ ok: true, dto: validDtoOf(Member, member()) });
    expect(await validateDto(Member, { ...member(), role: 'root' })).toMatchObject({ ok: false, errors: [{ field: 'role' }] });
    expect(await validateDto(Member, 'x', 'a member')).toStrictEqual({ ok: false, errors: [{ field: '', message: 'a member must be a JSON object' }] });
    expect(await validateDto(Member, { ...member(), name: 'a\u0000' })).toMatchObject({ ok: false, errors: [{ field: 'name' }] });
  });
});
