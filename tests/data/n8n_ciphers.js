// Runs n8n's own encryption code (the installed n8n's compiled n8n-core and JwtService) on the
// cases keyturn's test sends on stdin, so Python's implementation is checked against n8n's.
// argv[2]: that n8n's node_modules. 2.x has CipherAes256CBC/GCM; 1.x has one Cipher (CBC).
const path = process.argv[2];
const crypto = require('crypto');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
let cbc, gcm = null;
try {
  const { CipherAes256CBC } = require(`${path}/n8n-core/dist/encryption/aes-256-cbc.js`);
  const { CipherAes256GCM } = require(`${path}/n8n-core/dist/encryption/aes-256-gcm.js`);
  cbc = new CipherAes256CBC();
  gcm = new CipherAes256GCM();
} catch (e) {
  const { Cipher } = require(`${path}/n8n-core/dist/encryption/cipher.js`);
  const legacy = new Cipher({});
  cbc = { encrypt: (d, k) => legacy.encrypt(d, k), decrypt: (d, k) => legacy.decrypt(d, k) };
}
const { JwtService } = require(`${path}/n8n/dist/services/jwt.service.js`);
const wrapping = (key) => crypto.createHash('sha256').update(key).digest('hex');
const out = input.map((c) => ({
  cbc_plain: cbc.decrypt(c.cbc, c.key),
  gcm_plain: gcm ? gcm.decrypt(c.gcm, wrapping(c.key)) : null,
  cbc: cbc.encrypt(c.text, c.key),
  gcm: gcm ? gcm.encrypt(c.text, wrapping(c.key)) : null,
  jwt: new JwtService({ encryptionKey: c.key }, { userManagement: { jwtSecret: '' } }).jwtSecret,
}));
console.log(JSON.stringify(out));
