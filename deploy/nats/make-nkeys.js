#!/usr/bin/env node
// Makes the NATS nkeys of a Custos deployment (README, "Run it distributed": NATS credentials):
// one nkey user per service (identity, entitlement, request, audit, privileged) and one for an HR system.
//   deploy/nats/secrets/<user>.nk   the user's seed, readable by its owner only: give each service
//                                   its own as NATS_CREDS_FILE (compose mounts it as a secret)
//   deploy/nats/nkeys.env           the public keys, CUSTOS_NATS_<USER>_NKEY=U..., for the NATS
//                                   servers' environment (custos-auth.conf reads them)
// Existing seeds are kept (run it again after adding a user); delete a seed to replace that key.
// Usage: node deploy/nats/make-nkeys.js [directory, default deploy/nats]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createUser, fromSeed } = require('@nats-io/nkeys');

const USERS = ['identity', 'entitlement', 'request', 'audit', 'privileged', 'hr'];
const dir = path.resolve(process.argv[2] || __dirname);
const secrets = path.join(dir, 'secrets');
fs.mkdirSync(secrets, { recursive: true, mode: 0o700 });
const lines = ['# Public nkeys of the Custos NATS users, made by deploy/nats/make-nkeys.js. Not secret.'];
for (const user of USERS) {
  const file = path.join(secrets, `${user}.nk`);
  let pair;
  if (fs.existsSync(file)) {
    pair = fromSeed(new TextEncoder().encode(fs.readFileSync(file, 'utf8').trim()));
  } else {
    pair = createUser();
    fs.writeFileSync(file, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600 });
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  lines.push(`CUSTOS_NATS_${user.toUpperCase()}_NKEY=${pair.getPublicKey()}`);
}
fs.writeFileSync(path.join(dir, 'nkeys.env'), `${lines.join('\n')}\n`);
console.log(`wrote ${path.relative(process.cwd(), path.join(dir, 'nkeys.env'))}`);
