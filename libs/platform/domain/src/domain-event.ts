/**
 * A domain event as a decider emits it and a fold reads it: a past-tense name (`IdentityHired`)
 * and its payload. Every context's contracts name each event as a whole
 * (`type IdentityHired = DomainEvent<'IdentityHired', {...}>`, payload `IdentityHired['data']`).
 * The store adds the envelope (id, stream, version, times, actor); what it keeps of the event is
 * exactly `type` (as the event name) and `data` (as JSON), so this shape is the stored one.
 */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}
