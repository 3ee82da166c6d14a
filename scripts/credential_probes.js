// For each n8n credential type: its fields (with defaults, merged from the types it `extends`,
// as n8n merges them), secret fields, its test
// request and rules, and where its secrets go in a request (`authenticate`). A declarative
// `authenticate` is copied; one written as code is run once, on sentinel values, against n8n's
// own class, and described by where each sentinel lands (again for each other value of each
// boolean or options field, kept as a variant where the request differs). Prints JSON; run with the pinned
// n8n's Node: node credential_probes.js CREDENTIALS_DIR...
'use strict';
const fs = require('fs');
const path = require('path');

// No ':' inside: a Basic auth value is split at its first ':'.
const SENTINEL = (field) => `@@KT.${field}@@`;
const SENTINEL_RE = /@@KT\.([A-Za-z0-9_]+)@@/g;
const MARK = '@@KT.';

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
  // '@@KT.apiKey@@' -> '={{$credentials.apiKey}}'; 'Bearer @@KT.x@@' -> '=Bearer {{$credentials.x}}'
  if (typeof value !== 'string' || !value.includes(MARK)) return { value };
  const replaced = value.replace(SENTINEL_RE, (_, field) => `{{$credentials.${field}}}`);
  return { value: '=' + replaced };
}

function decodeBasic(value) {
  const match = /^Basic (.+)$/.exec(value || '');
  if (!match) return null;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0 || !text.includes(MARK)) return null;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function sampleCredentials(props) {
  const credentials = {};
  for (const p of props) {
    const password = !!(p.typeOptions && p.typeOptions.password);
    if (password || (p.type === 'string' && !p.default)) credentials[p.name] = SENTINEL(p.name);
    else credentials[p.name] = p.default;
  }
  return credentials;
}

// The values of a switch field (a boolean, a list of options) other than its default.
function otherValues(p) {
  if (p.type === 'boolean') return [!p.default];
  if (p.type === 'options' && Array.isArray(p.options)) {
    return p.options.map((o) => o.value).filter((v) => v !== p.default && typeof v !== 'object');
  }
  return [];
}

// A code `authenticate` run on the defaults, then once more for each other value of each
// switch field: where the request differs, a variant for credentials with that value.
async function deriveAll(inst, props) {
  const base = await derive(inst, sampleCredentials(props));
  if (!base.authenticate) return { ...base, variants: [] };
  const variants = [];
  for (const p of props) {
    for (const value of otherValues(p)) {
      const other = await derive(inst, { ...sampleCredentials(props), [p.name]: value });
      if (other.authenticate && JSON.stringify(other.authenticate) !== JSON.stringify(base.authenticate)) {
        variants.push({ when: { [p.name]: value }, authenticate: other.authenticate });
      }
    }
  }
  return { ...base, variants };
}

async function derive(inst, credentials) {
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
        if (JSON.stringify(raw).includes(MARK)) return { reason: `it puts a secret inside a structured ${where} value` };
        continue;
      }
      const basic = where === 'headers' && key.toLowerCase() === 'authorization' ? decodeBasic(raw) : null;
      if (basic) {
        out.properties.auth = { username: toTemplate(basic.username).value, password: toTemplate(basic.password).value };
        continue;
      }
      if (/[A-Za-z0-9+/]{16,}={0,2}/.test(raw) && !raw.includes(MARK)) {
        // a computed token (a hash, a signature, an encoding keyturn cannot redo)
        const secretUsed = Object.values(credentials).some((v) => typeof v === 'string' && v.startsWith(MARK));
        if (secretUsed && key.toLowerCase() === 'authorization') return { reason: 'it computes its authorization value (a signature or an encoding)' };
      }
      (out.properties[where] ||= {})[toTemplate(key).value] = toTemplate(raw).value;
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
  if (typeof result.url === 'string' && result.url.includes(MARK)) return { reason: 'it puts a secret in the URL path' };
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
        required: !!p.required,
      })),
      secret_fields: secret,
      // n8n merges only the properties of the types in `extends`; its test and authenticate
      // are the type's own (CredentialsHelper.authenticate, CredentialsTester).
      test: inst.test || null,
      pre_authentication: typeof inst.preAuthentication === 'function',
    };
    const authenticate = inst.authenticate;
    if (typeof authenticate === 'function') {
      const derived = await deriveAll(inst, props);
      entry.authenticate = derived.authenticate || null;
      entry.authenticate_variants = derived.variants;
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
