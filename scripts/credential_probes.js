// For each n8n credential type: its fields (with defaults, merged from the types it `extends`,
// as n8n merges them), secret fields, its test
// request and rules, and where its secrets go in a request (`authenticate`). A declarative
// `authenticate` is copied; one written as code is run once, on sentinel values, against n8n's
// own class, and described by where each sentinel lands. Prints JSON; run with the pinned
// n8n's Node: node credential_probes.js CREDENTIALS_DIR...
'use strict';
const fs = require('fs');
const path = require('path');

const SENTINEL = (field) => `@@KT:${field}@@`;
const SENTINEL_RE = /@@KT:([A-Za-z0-9_]+)@@/g;

function load(dirs) {
  const types = {};
  for (const dir of dirs) for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.credentials.js'))) {
    let mod;
    try { mod = require(path.resolve(dir, f)); } catch (e) { continue; }
    for (const Cls of Object.values(mod)) {
      if (typeof Cls !== 'function') continue;
      let inst;
      try { inst = new Cls(); } catch (e) { continue; }
      if (inst.name && Array.isArray(inst.properties)) types[inst.name] = inst;
    }
  }
  return types;
}

// Properties of a type and of the types it extends (n8n merges parents first).
function properties(types, inst, seen = new Set()) {
  if (seen.has(inst.name)) return [];
  seen.add(inst.name);
  const merged = new Map();
  for (const parent of inst.extends || []) {
    if (types[parent]) for (const p of properties(types, types[parent], seen)) merged.set(p.name, p);
  }
  for (const p of inst.properties) merged.set(p.name, p);
  return [...merged.values()];
}

function toTemplate(value) {
  // '@@KT:apiKey@@' -> '={{$credentials.apiKey}}'; 'Bearer @@KT:x@@' -> '=Bearer {{$credentials.x}}'
  if (typeof value !== 'string' || !value.includes('@@KT:')) return { value };
  const replaced = value.replace(SENTINEL_RE, (_, field) => `{{$credentials.${field}}}`);
  return { value: '=' + replaced };
}

function decodeBasic(value) {
  const match = /^Basic (.+)$/.exec(value || '');
  if (!match) return null;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0 || !text.includes('@@KT:')) return null;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

async function derive(inst, props) {
  const credentials = {};
  for (const p of props) {
    const password = !!(p.typeOptions && p.typeOptions.password);
    if (password || (p.type === 'string' && !p.default)) credentials[p.name] = SENTINEL(p.name);
    else credentials[p.name] = p.default;
  }
  const options = { headers: {}, qs: {}, body: {}, url: '/', method: 'GET' };
  let result;
  try {
    result = await Promise.race([
      inst.authenticate(credentials, options),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000)),
    ]);
  } catch (e) {
    return { reason: `its code authentication failed on sample values (${String(e.message || e).slice(0, 80)})` };
  }
  if (!result || typeof result !== 'object') return { reason: 'its code authentication returned no request' };
  const out = { type: 'generic', properties: {} };
  for (const where of ['headers', 'qs', 'body']) {
    const section = result[where];
    if (!section || typeof section !== 'object') continue;
    for (const [key, raw] of Object.entries(section)) {
      if (raw === undefined || raw === null || raw === '') continue;
      if (typeof raw !== 'string') {
        if (JSON.stringify(raw).includes('@@KT:')) return { reason: `it puts a secret inside a structured ${where} value` };
        continue;
      }
      const basic = where === 'headers' && key.toLowerCase() === 'authorization' ? decodeBasic(raw) : null;
      if (basic) {
        out.properties.auth = { username: toTemplate(basic.username).value, password: toTemplate(basic.password).value };
        continue;
      }
      if (/[A-Za-z0-9+/]{16,}={0,2}/.test(raw) && !raw.includes('@@KT:')) {
        // a computed token (a hash, a signature, an encoding keyturn cannot redo)
        const secretUsed = Object.values(credentials).some((v) => typeof v === 'string' && v.startsWith('@@KT:'));
        if (secretUsed && key.toLowerCase() === 'authorization') return { reason: 'it computes its authorization value (a signature or an encoding)' };
      }
      (out.properties[where] ||= {})[key] = toTemplate(raw).value;
    }
  }
  if (result.auth && typeof result.auth === 'object') {
    out.properties.auth = {
      username: toTemplate(result.auth.username || result.auth.user).value,
      password: toTemplate(result.auth.password || result.auth.pass).value,
    };
  }
  const placed = JSON.stringify(out);
  if (!placed.includes('$credentials.')) return { reason: 'its code authentication puts no credential field where keyturn can see it' };
  if (typeof result.url === 'string' && result.url.includes('@@KT:')) return { reason: 'it puts a secret in the URL path' };
  return { authenticate: out };
}

async function main() {
  const types = load(process.argv.slice(2));
  const out = {};
  for (const [name, inst] of Object.entries(types)) {
    const props = properties(types, inst);
    const secret = props.filter((p) => p.typeOptions && p.typeOptions.password).map((p) => p.name);
    const entry = {
      extends: inst.extends || [],
      fields: props.filter((p) => p.type !== 'notice').map((p) => ({
        name: p.name,
        type: p.type,
        default: typeof p.default === 'object' ? null : p.default,
        secret: !!(p.typeOptions && p.typeOptions.password),
      })),
      secret_fields: secret,
      // n8n merges only the properties of the types in `extends`; its test and authenticate
      // are the type's own (CredentialsHelper.authenticate, CredentialsTester).
      test: inst.test || null,
      pre_authentication: typeof inst.preAuthentication === 'function',
    };
    const authenticate = inst.authenticate;
    if (typeof authenticate === 'function') {
      const derived = await derive(inst, props);
      entry.authenticate = derived.authenticate || null;
      entry.authenticate_from = derived.authenticate ? 'code' : null;
      entry.authenticate_reason = derived.reason || null;
    } else {
      entry.authenticate = authenticate || null;
      entry.authenticate_from = authenticate ? 'declarative' : null;
    }
    out[name] = entry;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
