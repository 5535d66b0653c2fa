import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** Runs `code` in a fresh Node process after hardenProcess(), so this test process stays as it is. */
function afterHardening(code: string): string {
  const harden = path.join(__dirname, 'harden.ts');
  const script = `require(${JSON.stringify(harden)}).hardenProcess();\n${code}`;
  // No colour: under nx FORCE_COLOR is set, and console.log would colour what the test compares.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const result = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { encoding: 'utf8', timeout: 30_000, env });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

describe('hardenProcess', () => {
  it('makes the __proto__ accessor throw, as --disable-proto=throw does', () => {
    const out = afterHardening(`
      const seen = [];
      try { ({}).__proto__; seen.push('read'); } catch (e) { seen.push(e.code); }
      try { const o = {}; o.__proto__ = { roles: ['custos:admin'] }; seen.push('write'); } catch (e) { seen.push(e.code); }
      seen.push(JSON.stringify(Object.keys(JSON.parse('{"__proto__":{"roles":1}}'))));
      console.log(seen.join(' '));`);
    expect(out).toBe('ERR_PROTO_ACCESS ERR_PROTO_ACCESS ["__proto__"]');
  });

  it('freezes Object.prototype: a library writing target[name] with an attacker\'s path reaches nothing', () => {
    const out = afterHardening(`(function () {
      'use strict';
      const target = {};
      const path = ['constructor', 'prototype', 'roles'];
      let at = target;
      for (const key of path.slice(0, -1)) at = at[key];
      let outcome;
      try { at[path[path.length - 1]] = ['custos:admin']; outcome = 'written'; } catch (e) { outcome = e.constructor.name; }
      console.log(outcome, ({}).roles === undefined, Object.isFrozen(Object.prototype));
    })();`);
    expect(out).toBe('TypeError true true');
  });

  it('leaves object literals with a null prototype and ordinary classes working', () => {
    const out = afterHardening(`
      const bare = { __proto__: null, a: 1 };
      class A { toString() { return 'a'; } }
      const o = Object.create(A.prototype);
      console.log(Object.getPrototypeOf(bare) === null, String(o), JSON.stringify({ ...bare }));`);
    expect(out).toBe('true a {"a":1}');
  });
});
