import { DomainError } from '@custos/platform/domain';
import { streamName, subjectPrefix, subjectToken, type InboundEvents, type InboundMessage, type InboundVerdict } from '@custos/platform/messaging';
import type { ContextRuntime } from '@custos/platform/runtime';
import { EmployeeIdTaken } from './employee-directory';
import type { ReceivedHrChange } from './hr-change';
import type { HrIntake } from './hr-intake';

/** One bad field of an HR event, as the HTTP door reports it (`errors` of a problem+json). */
export interface HrEventFieldError {
  field: string;
  message: string;
}

/**
 * Checks a payload against the rules of `POST /hr/events` (the HTTP DTO is the one definition of
 * a valid HR event; the API layer supplies this function so that both doors share it).
 */
export type HrEventCheck = (payload: unknown) => Promise<{ ok: true; event: Omit<ReceivedHrChange, 'channel'> } | { ok: false; errors: HrEventFieldError[] }>;

/** hrSubject names the inbound HR subject of one source system: `[<ns>.]hr.jml.<system>`. */
export function hrSubject(ns: string, system: string): string {
  return `${subjectPrefix(ns)}hr.jml.${subjectToken('HR system', system)}`;
}

/** hrSubjectFilter matches the inbound HR subjects of every system: `[<ns>.]hr.jml.*`. */
export function hrSubjectFilter(ns: string): string {
  return `${subjectPrefix(ns)}hr.jml.*`;
}

/** hrStreamName names the JetStream stream of inbound HR events: `[<NS>_]CUSTOS_HR`. */
export function hrStreamName(ns: string): string {
  return streamName(ns, 'CUSTOS_HR');
}

/** The durable consumer of the HR stream, shared by every identity-service replica. */
export const HR_NATS_DURABLE = 'identity-hr-door';

/** The door's pattern on the bus transport: `hr.jml.*` in the JetStream stream `CUSTOS_HR` (the bus adds its namespace). */
export const HR_NATS_DOOR: InboundEvents = { durable: HR_NATS_DURABLE, stream: hrStreamName(''), subjects: [hrSubjectFilter('')] };

/**
 * The NATS door for HR systems: a durable pull consumer of `hr.jml.<system>` (JetStream stream
 * `CUSTOS_HR`) taking the same payload as `POST /hr/events`. Each message is validated with the
 * webhook's rules, its `system` must equal the subject's last token, and it is applied through
 * HrIntake (channel `nats`), so a redelivered or republished event is a duplicate, not a second
 * change. Invalid messages and domain refusals go to the dead-letter subject `dlq.identity-hr-door`
 * with their reasons and never block the stream; a failure that may pass (the database is down)
 * is retried. The identity API's HrNatsController receives the messages (pattern HR_NATS_DOOR);
 * on the in-process bus the transport logs that the door is off.
 */
export class HrNatsDoor {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly intake: HrIntake,
    private readonly check: HrEventCheck,
  ) {}

  /** Decides one message: applied or duplicate -> ack; invalid or refused -> dead letter; anything else throws (retried). */
  async handle(message: InboundMessage): Promise<InboundVerdict> {
    const subjectSystem = message.subject.slice(message.subject.lastIndexOf('.') + 1);
    let payload: unknown;
    try {
      payload = JSON.parse(message.text());
    } catch (error) {
      return this.refuse(message, 'invalid HR event: the body is not JSON', { errors: [{ field: '', message: (error as Error).message }] });
    }
    const checked = await this.check(payload);
    if (!checked.ok) return this.refuse(message, `invalid HR event: ${checked.errors.map((e) => e.field).join(', ')}`, { errors: checked.errors });
    const event = checked.event;
    if (event.system !== subjectSystem) {
      return this.refuse(message, 'invalid HR event: system', {
        errors: [{ field: 'system', message: `system must be "${subjectSystem}", the last token of the subject ${message.subject}` }],
      });
    }
    try {
      await this.intake.receive({ ...event, channel: 'nats' }, { correlationId: message.header('Correlation-Id') });
      return 'ack';
    } catch (error) {
      if (isRefusal(error)) return this.refuse(message, `refused: ${error.message}`, { code: error.code, eventId: event.eventId, system: event.system });
      this.runtime.logger.warn({ err: error, subject: message.subject, seq: message.streamSequence, deliveries: message.deliveries }, 'HR event not applied; it will be redelivered');
      throw error;
    }
  }

  private refuse(message: InboundMessage, reason: string, details: unknown): InboundVerdict {
    this.runtime.logger.warn({ subject: message.subject, seq: message.streamSequence, reason }, 'HR event dead-lettered');
    return { deadLetter: reason, details };
  }
}

/** A domain rule refused the change: it will be refused again, so retrying is pointless. */
function isRefusal(error: unknown): error is Error & { code: string } {
  return error instanceof DomainError || error instanceof EmployeeIdTaken;
}
