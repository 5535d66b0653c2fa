/**
 * Subject and stream names (ARCHITECTURE.md, "Messaging"). A namespace prefixes every subject
 * and stream so that parallel test runs on one NATS server never see each other's messages;
 * production runs without one.
 */

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** subjectToken returns `value` when it can be one token of a subject or stream name (letters, digits, `_`, `-`), else throws naming `kind`. */
export function subjectToken(kind: string, value: string): string {
  return token(kind, value);
}

function token(kind: string, value: string): string {
  // A dot, wildcard or space would silently change which subjects a name matches.
  if (!TOKEN.test(value)) throw new Error(`invalid ${kind} "${value}": use letters, digits, "_" or "-"`);
  return value;
}

/** busNamespace returns `CUSTOS_NAMESPACE` from the environment, validated; empty when unset. */
export function busNamespace(env: NodeJS.ProcessEnv = process.env): string {
  const ns = env['CUSTOS_NAMESPACE']?.trim() ?? '';
  return ns === '' ? '' : token('namespace', ns);
}

/** subjectPrefix is `<ns>.` for a namespace and empty without one, so it can head any subject. */
export function subjectPrefix(ns: string): string {
  return ns === '' ? '' : `${token('namespace', ns)}.`;
}

function streamPrefix(ns: string): string {
  return ns === '' ? '' : `${token('namespace', ns).toUpperCase()}_`;
}

/** eventSubject names the subject of one event: `[<ns>.]evt.<context>.<EventName>`. */
export function eventSubject(ns: string, context: string, eventName: string): string {
  return `${subjectPrefix(ns)}evt.${token('context', context)}.${token('event name', eventName)}`;
}

/** contextEventsFilter matches every event of a context: `[<ns>.]evt.<context>.>`. */
export function contextEventsFilter(ns: string, context: string): string {
  return `${subjectPrefix(ns)}evt.${token('context', context)}.>`;
}

/** contextStreamName names the JetStream stream holding a context's events: `[<NS>_]CUSTOS_<CONTEXT>`. */
export function contextStreamName(ns: string, context: string): string {
  return `${streamPrefix(ns)}CUSTOS_${token('context', context).toUpperCase()}`;
}

/** rpcSubject names a request-reply endpoint: `[<ns>.]rpc.<context>.<name>`. */
export function rpcSubject(ns: string, context: string, name: string): string {
  return `${subjectPrefix(ns)}rpc.${token('context', context)}.${token('rpc name', name)}`;
}

/** streamName puts a stream named without namespace (`CUSTOS_HR`, identity's HR door) in the namespace: `[<NS>_]CUSTOS_HR`. */
export function streamName(ns: string, name: string): string {
  return `${streamPrefix(ns)}${token('stream name', name)}`;
}

/** deadLetterSubject names where a durable consumer's dead letters go: `[<ns>.]dlq.<durable>`. */
export function deadLetterSubject(ns: string, durable: string): string {
  return `${subjectPrefix(ns)}dlq.${token('durable', durable)}`;
}

/** deadLetterStreamName names the JetStream stream keeping dead letters: `[<NS>_]CUSTOS_DLQ`. */
export function deadLetterStreamName(ns: string): string {
  return `${streamPrefix(ns)}CUSTOS_DLQ`;
}

/**
 * eventNameOf returns the short event name (`IdentityHired`), from `name` when present, else
 * parsed out of the CloudEvents type `custos.<context>.<EventName>.v<N>`.
 */
export function eventNameOf(event: { name?: string; type: string }): string {
  if (event.name) return event.name;
  const parts = event.type.split('.');
  const name = parts.length >= 4 ? parts[parts.length - 2] : undefined;
  if (!name) throw new Error(`cannot derive an event name from type "${event.type}"`);
  return name;
}
