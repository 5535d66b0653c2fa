import type { EmployeeCheck, HrEventCheck, ReceivedHrChange } from '@custos/identity/application';
import { flattenValidationErrors, validateDto, validDtoOf, VALIDATOR_OPTIONS } from '@custos/platform/http';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
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
 * (the NATS door) through the platform's validateDto: the same checks as the global validation
 * pipe, so both doors accept the same events and name each bad field with the same message.
 */
export const checkHrEvent: HrEventCheck = async (payload) => {
  const checked = await validateDto(HrEventDto, payload, 'an HR event');
  return checked.ok ? { ok: true, event: hrChangeOf(checked.dto) } : checked;
};

/** checkEmployee applies the webhook's rules for `employee` (EmployeeDto) to one record, as `field: message` lines; none when valid. */
export const checkEmployee: EmployeeCheck = (employee) => {
  if (validDtoOf(EmployeeDto, { ...employee }) !== undefined) return [];
  const errors = validateSync(plainToInstance(EmployeeDto, { ...employee }), VALIDATOR_OPTIONS);
  return flattenValidationErrors(errors).map((e) => (e.message.startsWith(`${e.field} `) ? e.message : `${e.field}: ${e.message}`));
};
