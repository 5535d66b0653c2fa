/**
 * hardenProcess makes prototype pollution fail loudly instead of changing every object of the
 * process, as defence in depth behind the input checks: `__proto__` as an accessor throws (what
 * Node's `--disable-proto=throw` does, here for every way Custos is started: npm start, the
 * services, the tests' processes), and Object.prototype is frozen, so a library that writes
 * `target[name] = value` with an attacker's name cannot reach it. Call it in an entry point once
 * its modules are loaded; it is idempotent.
 */
export function hardenProcess(): void {
  if (Object.isFrozen(Object.prototype)) return;
  const refuse = (): never => {
    throw Object.assign(new Error('Object.prototype.__proto__ is disabled in Custos (prototype pollution defence)'), { code: 'ERR_PROTO_ACCESS' });
  };
  Object.defineProperty(Object.prototype, '__proto__', { get: refuse, set: refuse, configurable: false, enumerable: false });
  Object.freeze(Object.prototype);
}
