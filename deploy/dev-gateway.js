#!/usr/bin/env node
// The ingress for trying the separate services on one machine (README, "Run it distributed"):
// what deploy/Caddyfile does in compose, read from that same Caddyfile so the two never disagree,
// with each upstream service on a local port. No dependencies: node deploy/dev-gateway.js.
//
//   GATEWAY_PORT      where it listens, on 127.0.0.1 only (default 3000)
//   UPSTREAM_<NAME>   where the Caddyfile's upstream <name> runs (default: identity 3001,
//                     entitlement 3002, request 3003, audit 3004), a port or a URL
//
// It listens on loopback only: the services take development tokens from loopback clients, and
// behind this gateway every client is the gateway.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const DEFAULT_PORTS = { identity: 3001, entitlement: 3002, request: 3003, audit: 3004, privileged: 3005 };

/**
 * The routes of a Caddyfile as this gateway follows them: each `@name path /a* /b` matcher and
 * each `reverse_proxy [@name] host:port`, in the order written (the first that matches serves).
 */
function readRoutes(caddyfile, env) {
  const matchers = new Map();
  const routes = [];
  for (const line of caddyfile.split('\n').map((l) => l.trim())) {
    const matcher = /^@([\w-]+)\s+path\s+(.+)$/.exec(line);
    if (matcher) {
      matchers.set(matcher[1], matcher[2].split(/\s+/));
      continue;
    }
    const proxy = /^reverse_proxy\s+(?:@([\w-]+)\s+)?([\w.-]+):(\d+)$/.exec(line);
    if (!proxy) continue;
    const [, name, host] = proxy;
    if (name && !matchers.has(name)) throw new Error(`the Caddyfile proxies @${name} before defining it`);
    const given = env[`UPSTREAM_${host.toUpperCase().replace(/-/g, '_')}`];
    const fallback = DEFAULT_PORTS[host];
    if (!given && fallback === undefined) throw new Error(`where does ${host} run? set UPSTREAM_${host.toUpperCase().replace(/-/g, '_')} (a port or a URL)`);
    const target = new URL(/^\d+$/.test(given ?? '') || !given ? `http://127.0.0.1:${given ?? fallback}` : given);
    routes.push({ patterns: name ? matchers.get(name) : ['*'], host, target });
  }
  if (routes.length === 0) throw new Error('the Caddyfile has no reverse_proxy');
  return routes;
}

/**
 * Caddy's path matching for what the Caddyfile uses: `*` (anything), `/prefix*`, an exact path, or
 * a `*` inside a path (as in the privileged service's credentials route), which there matches
 * within one path segment.
 */
function matches(pattern, pathname) {
  if (pattern === '*') return true;
  const inner = pattern.slice(0, -1).includes('*');
  if (inner) {
    const segments = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${segments.join('[^/]*')}$`).test(pathname);
  }
  return pattern.endsWith('*') ? pathname.startsWith(pattern.slice(0, -1)) : pathname === pattern;
}

function routeFor(routes, url) {
  const pathname = url.split('?')[0];
  return routes.find((route) => route.patterns.some((pattern) => matches(pattern, pathname)));
}

function problem(response, status, detail) {
  response.writeHead(status, { 'content-type': 'application/problem+json' });
  response.end(JSON.stringify({ type: 'urn:custos:problem:gateway', title: 'Bad Gateway', status, detail }));
}

function startGateway({ port = 3000, caddyfile = path.join(__dirname, 'Caddyfile'), env = process.env } = {}) {
  const routes = readRoutes(fs.readFileSync(caddyfile, 'utf8'), env);
  const server = http.createServer((request, response) => {
    const route = routeFor(routes, request.url ?? '/');
    if (!route) return problem(response, 502, 'no route serves this path');
    const upstream = http.request(
      { host: route.target.hostname, port: route.target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) problem(response, 502, `the ${route.host} service does not answer at ${route.target.origin}`);
      else response.destroy();
    });
    request.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, routes, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

module.exports = { readRoutes, routeFor, startGateway };

if (require.main === module) {
  const port = Number(process.env.GATEWAY_PORT ?? 3000);
  startGateway({ port }).then(
    ({ url, routes }) => {
      for (const route of routes) console.log(`${route.patterns.join(' ')} -> ${route.host} at ${route.target.origin}`);
      console.log(`gateway listening on ${url}`);
    },
    (error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
