import type { EmployeeCheck, HrEventCheck } from '@custos/identity/application';
import { flattenValidationErrors } from '@custos/platform/http';
import { plainToInstance } from 'class-transformer';
import { validate, validateSync } from 'class-validator';
import { EmployeeDto, HrEventDto } from './hr-event.dto';

/**
 * checkHrEvent applies the rules of `POST /hr/events` (HrEventDto, unknown fields refused) to a
 * payload that did not come through HTTP: the NATS door uses it, so both doors accept exactly
 * the same events and name the same bad fields.
 */
export const checkHrEvent: HrEventCheck = async (payload) => {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, errors: [{ field: '', message: 'an HR event must be a JSON object' }] };
  }
  const dto = plainToInstance(HrEventDto, payload);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length > 0) return { ok: false, errors: flattenValidationErrors(errors) };
  const { groups, employee, ...rest } = dto;
  return { ok: true, event: { ...rest, employee: { ...employee }, ...(groups === undefined ? {} : { groups }) } };
};

/** checkEmployee applies the webhook's rules for `employee` (EmployeeDto) to one record, as `field: message` lines; none when valid. */
export const checkEmployee: EmployeeCheck = (employee) => {
  const errors = validateSync(plainToInstance(EmployeeDto, { ...employee }), { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  return flattenValidationErrors(errors).map((e) => (e.message.startsWith(`${e.field} `) ? e.message : `${e.field}: ${e.message}`));
};
