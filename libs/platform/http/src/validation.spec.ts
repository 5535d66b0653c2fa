import { IsEmail, IsOptional, IsString } from 'class-validator';
import { toProblem } from './problem.filter';
import { untrustedInputError } from './untrusted-input';
import { createValidationPipe } from './validation';

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
