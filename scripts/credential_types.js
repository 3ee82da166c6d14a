// Print, as JSON, each n8n credential type's fields, its secret fields (typeOptions.password) and
// whether it has a built-in test. Run with the pinned n8n's Node: node credential_types.js DIR
const fs = require('fs'); const path = require('path');
const dir = process.argv[2];
const out = {};
for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.credentials.js'))) {
  let mod; try { mod = require(path.resolve(dir, f)); } catch (e) { continue; }
  for (const Cls of Object.values(mod)) {
    if (typeof Cls !== 'function') continue;
    let inst; try { inst = new Cls(); } catch (e) { continue; }
    if (!inst.name || !Array.isArray(inst.properties)) continue;
    const secret = inst.properties.filter(p => p.typeOptions && p.typeOptions.password).map(p => p.name);
    const fields = inst.properties.filter(p => p.type !== 'notice' && p.type !== 'hidden').map(p => p.name);
    out[inst.name] = { secret_fields: secret, fields, has_test: !!inst.test };
  }
}
console.log(JSON.stringify(out));
