import type { EmployeeCheck, HrEventCheck, ReceivedHrChange } from '@custos/identity/application';
import { flattenValidationErrors, untrustedInputError, VALIDATOR_OPTIONS } from '@custos/platform/http';
import { plainToInstance } from 'class-transformer';
import { validate, validateSync } from 'class-validator';
import { EmployeeDto, HrEventDto } from './hr-event.dto';

/**
 * hrChangeOf is the change a valid HrEventDto asks for, as plain data: `employee` copied out of
 * its DTO instance, `groups` only when given.
 */
export function hrChangeOf(dto: HrEventDto): Omit<ReceivedHrChange, 'channel'> {
  const { employee, groups, ...rest } = dto;
  return { ...rest, employee: { ...employee }, ...(groups !== undefined ? { groups } : {}) };
}

/**
 * checkHrEvent applies the rules of `POST /hr/events` to a payload that did not come through HTTP
 * (the NATS door): what no route accepts (untrustedInputError), then HrEventDto through
 * class-transformer and class-validator with the global validation pipe's options, so both doors
 * accept the same events and name each bad field with the same message.
 */
export const checkHrEvent: HrEventCheck = async (payload) => {
  // A lone surrogate (validator.js throws a URIError on one in isEmail), a NUL (PostgreSQL cannot
  // store it), deep nesting, prototype names: refused first, as the platform's parser does.
  const unacceptable = untrustedInputError(payload);
  if (unacceptable) return { ok: false, errors: [unacceptable] };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, errors: [{ field: '', message: 'an HR event must be a JSON object' }] };
  }
  const dto = plainToInstance(HrEventDto, payload);
  const errors = await validate(dto, VALIDATOR_OPTIONS);
  if (errors.length > 0) return { ok: false, errors: flattenValidationErrors(errors) };
  return { ok: true, event: hrChangeOf(dto) };
};

/** checkEmployee applies the webhook's rules for `employee` (EmployeeDto) to one record, as `field: message` lines; none when valid. */
export const checkEmployee: EmployeeCheck = (employee) => {
  const errors = validateSync(plainToInstance(EmployeeDto, { ...employee }), VALIDATOR_OPTIONS);
  return flattenValidationErrors(errors).map((e) => (e.message.startsWith(`${e.field} `) ? e.message : `${e.field}: ${e.message}`));
};
