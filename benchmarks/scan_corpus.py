"""A realistic corpus of n8n workflow exports, .env and compose files, with its ground truth.

Workflows are the 395 real community exports ($KEYTURN_REALWORLD_DIR, else
../shared/realworld-workflows: see _realworld.py), copied with new names and, in most of them,
planted secrets of the kinds real exports contain (issue 13), not only the kinds a scanner
already finds:

- header / query / body parameters with unusual names, Set node fields, URLs with
  `user:password@`, Code node literals and well-known tokens in Code, well-known tokens under
  innocent keys, secrets in pinned data, .env and docker-compose variables;
- private keys: PEM blocks (RSA, EC, OpenSSH, PKCS8) and PGP private key blocks in a Code
  node's source, as one JS string with escaped `\\n`, as concatenated strings or as a template
  literal, and in a quoted .env value with `\\n` escapes; JWKs with private members (`d`, `p`,
  `q`...; `k` of a symmetric key) in a Set field or a Code node. The keys are real (their DER
  parses), made deterministically from the seed;
- keys by place, not shape: 32 lowercase hex in a query parameter named as real APIs name it
  (`key`, `apikey`, `api_key`, `appid`, `access_key`, `token`), in the parameter list or in the
  URL; UUID-shaped keys in auth headers (`X-API-Key`, `api-key`, `Authorization: Bearer <uuid>`);
  40 or 64 hex in auth headers; a Bearer token with `/`, `+` and `=`; short vendor keys (16 to 24
  characters) in auth headers.

Decoys that must not be reported, each recorded in the ground truth with its kind: expressions,
placeholders, checksums, request ids; the pinned data of real inbound webhooks (GitHub's
`x-hub-signature` / `x-hub-signature-256`, Slack's `x-slack-signature` and
`x-slack-request-timestamp`, `stripe-signature`, commit hashes, member / user / author ids,
object ids, a public blockchain address, domains, `x-request-id`, an HTTP response's `etag`);
public JWKs and public key PEM blocks; and the ids every export carries (node ids, webhookIds,
credential ids, versionIds, workflow ids).

Files come in every shape n8n writes: one workflow and `export:workflow --all` arrays (pretty),
folders of `--separate` files, most written as `--backup` does (pretty), some compact. A compact
file is one line: a finding there cannot be told from a decoy beside it by (file, line), so
compact files are scanned (they count for speed) but not scored; their paths are in
`Corpus.unscored`. In the other files every planted value sits on a line of its own (a decoy
that would share a line with a secret is not recorded).
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import random
import re
import string
import struct
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _realworld import realworld_files

# Two exports hold a real key (a VirusTotal key typed into a header; an `API-Key z_...` token in
# an Authorization header): left out of the base set so that the ground truth is exactly what
# was planted.
EXCLUDED_BASES = {
    "Slack_Venafi_Cloud_Slack_Cert_Bot.json",
    "Real_Estate_Airbnb-Guest-Assistant.json",
}

SECRET = "secret"
DECOY = "decoy"


@dataclass
class Truth:
    path: str
    line: int
    kind: str
    secret: str  # the planted value, or the part of it that locates it (a PEM's first line)
    role: str = SECRET  # SECRET: must be found; DECOY: must not be
    detail: str = ""  # a variant of the kind (key type, form)


@dataclass
class Corpus:
    root: Path
    truths: list[Truth] = field(default_factory=list)
    unscored: list[str] = field(default_factory=list)  # compact files: scanned, not scored
    bytes: int = 0
    files: int = 0
    dropped_decoys: int = 0  # decoys that would have shared a line with a secret


def _random(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


ALNUM = string.ascii_letters + string.digits
HEXDIGITS = "0123456789abcdef"
UPPER_ALNUM = string.ascii_uppercase + string.digits


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _token(rng: random.Random, kind: str) -> str:
    makers = {
        "openai": lambda: "sk-proj-" + _random(rng, ALNUM, 48),
        "github": lambda: "ghp_" + _random(rng, ALNUM, 36),
        "slack": lambda: "xoxb-" + _random(rng, string.digits, 12) + "-" + _random(rng, ALNUM, 24),
        "aws": lambda: "AKIA" + _random(rng, string.ascii_uppercase + string.digits, 16),
        "stripe": lambda: "sk_live_" + _random(rng, ALNUM, 24),
        "google": lambda: "AIza" + _random(rng, ALNUM + "_-", 35),
        "anthropic": lambda: "sk-ant-api03-" + _random(rng, ALNUM, 40),
    }
    return makers[kind]()


def _generic_secret(rng: random.Random) -> str:
    return rng.choice(["", "key_", "tk-", "prod_"]) + _random(rng, ALNUM, rng.randint(24, 40))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


# --- private keys, made from the seed ------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _probable_prime(n: int, rng: random.Random) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(24):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if candidate % 65537 != 1 and _probable_prime(candidate, rng):
            return candidate


def _pem(label: str, der: bytes, width: int = 64) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


@dataclass
class KeyPool:
    """A few real private keys of every type, in the forms they are pasted in (text), and as
    JWKs (private and public members)."""

    pems: dict[str, list[str]] = field(default_factory=dict)  # variant -> PEM texts
    jwks: list[dict[str, str]] = field(default_factory=list)  # private JWKs
    public_pems: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, rng: random.Random) -> KeyPool:
        from cryptography.hazmat.primitives import serialization as ser
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

        pool = cls({name: [] for name in ("rsa", "ec", "openssh", "pkcs8", "pgp")})
        for _ in range(3):
            e = 65537
            p, q = _prime(rng, 1024), _prime(rng, 1024)
            d = pow(e, -1, (p - 1) * (q - 1))
            numbers = rsa.RSAPrivateNumbers(
                p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
            )
            pool._add_pems("rsa", numbers.private_key())
            values = {"n": p * q, "e": e, "d": d, "p": p, "q": q, "dp": d % (p - 1),
                      "dq": d % (q - 1), "qi": pow(q, -1, p)}  # fmt: skip
            pool.jwks.append(
                {"kty": "RSA", **{k: _b64url(_int_bytes(v)) for k, v in values.items()}}
            )
        for _ in range(8):
            ec_key = ec.derive_private_key(rng.getrandbits(250) + 1, ec.SECP256R1())
            pool._add_pems("ec", ec_key)
            pool.public_pems.append(
                ec_key.public_key()
                .public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
            point = ec_key.private_numbers()
            pool.jwks.append(
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": _b64url(point.public_numbers.x.to_bytes(32, "big")),
                    "y": _b64url(point.public_numbers.y.to_bytes(32, "big")),
                    "d": _b64url(point.private_value.to_bytes(32, "big")),
                }
            )
        for _ in range(8):
            seed = rng.randbytes(32)
            public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
            raw = public.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
            pool.pems["openssh"].append(_openssh(rng, seed, raw))
            pool.jwks.append(
                {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "d": _b64url(seed)}
            )
            pool.jwks.append({"kty": "oct", "alg": "HS256", "k": _b64url(rng.randbytes(32))})
        for _ in range(6):
            pool.pems["pgp"].append(_pgp(rng))
        return pool

    def _add_pems(self, variant: str, key: Any) -> None:
        """The key as its own type's PEM (`-----BEGIN RSA/EC PRIVATE KEY-----`) and as PKCS#8."""
        from cryptography.hazmat.primitives import serialization as ser

        for kept_as, private_format in (
            (variant, ser.PrivateFormat.TraditionalOpenSSL),
            ("pkcs8", ser.PrivateFormat.PKCS8),
        ):
            pem = key.private_bytes(ser.Encoding.PEM, private_format, ser.NoEncryption())
            self.pems[kept_as].append(pem.decode())

    def pem(self, rng: random.Random, variant: str) -> str:
        return rng.choice(self.pems[variant])


def _openssh(rng: random.Random, seed: bytes, public: bytes) -> str:
    """An unencrypted OpenSSH Ed25519 key, as ssh-keygen writes it (the check ints from rng)."""
    key_type = b"ssh-ed25519"
    public_blob = _ssh_string(key_type) + _ssh_string(public)
    check = struct.pack(">I", rng.getrandbits(32)) * 2
    private = (
        check
        + _ssh_string(key_type)
        + _ssh_string(public)
        + _ssh_string(seed + public)
        + _ssh_string(b"deploy@n8n")
    )
    private += bytes(range(1, 1 + (-len(private)) % 8))
    blob = (
        b"openssh-key-v1\0"
        + _ssh_string(b"none")
        + _ssh_string(b"none")
        + _ssh_string(b"")
        + struct.pack(">I", 1)
        + _ssh_string(public_blob)
        + _ssh_string(private)
    )
    return _pem("OPENSSH PRIVATE KEY", blob, width=70)


def _pgp(rng: random.Random) -> str:
    """An ASCII-armored PGP secret key block: an RSA secret-key packet (random key material)
    under a real armor, with its CRC-24."""
    packet = b"\x95\x03\x98\x04" + struct.pack(">I", 1_600_000_000 + rng.getrandbits(26))
    packet += b"\x01" + rng.randbytes(915)
    body = base64.b64encode(packet).decode()
    checksum = base64.b64encode(_crc24(packet).to_bytes(3, "big")).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(
        ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "", *lines, "=" + checksum,
         "-----END PGP PRIVATE KEY BLOCK-----"]
    ) + "\n"  # fmt: skip


def _pem_locator(pem: str) -> str:
    """The first line of the key's body: unique, and on the line the block starts."""
    return next(line for line in pem.splitlines()[1:] if line)


def _js_escaped(pem: str) -> str:
    return pem.replace("\n", "\\n")


# --- what gets planted ---------------------------------------------------------------------

HEADER_NAMES = ["X-Partner-Token", "Api-Secret-Key", "X-Auth", "Authorization", "x-api-key",
                "X-Access-Token", "X-Client-Secret", "Private-Token"]  # fmt: skip
QUERY_NAMES = ["access_key", "api_key", "token", "apikey", "client_secret"]
BODY_NAMES = ["client_secret", "password", "secret", "refresh_token", "api_token"]
SET_NAMES = ["apiToken", "stripeSecret", "db_password", "serviceKey", "authToken"]
# Real APIs that take a 32-hex key in the query string, and what they call it.
HEX_QUERY_APIS = [
    ("https://api.openweathermap.org/data/2.5/weather", "appid"),
    ("http://api.ipstack.com/check", "access_key"),
    ("http://api.positionstack.com/v1/forward", "access_key"),
    ("https://ws.audioscrobbler.com/2.0/", "api_key"),
    ("https://newsapi.org/v2/top-headlines", "apiKey"),
    ("https://api.trello.com/1/boards/5f1c2d/cards", "key"),
    ("https://api.themoviedb.org/3/search/movie", "api_key"),
    ("https://www.alphavantage.co/query", "apikey"),
    ("https://api.spoonacular.com/recipes/complexSearch", "apiKey"),
    ("https://gnews.io/api/v4/search", "token"),
]
UUID_HEADERS = ["X-API-Key", "api-key", "Authorization", "X-Auth-Token", "apikey"]
HEX_HEADERS = ["X-API-Key", "X-Auth-Token", "Authorization", "X-Access-Token", "api-key"]
SHORT_HEADERS = ["X-API-Key", "apikey", "X-Api-Token", "Authorization", "X-Auth-Key"]


class Planter:
    def __init__(self, rng: random.Random, keys: KeyPool) -> None:
        self.rng = rng
        self.keys = keys
        # (role, kind, detail, locator, whole): `whole` when the locator is a whole JSON string
        self.planted: list[tuple[str, str, str, str, bool]] = []

    def secret(self, kind: str, value: str, detail: str = "", whole: bool = False) -> None:
        self.planted.append((SECRET, kind, detail, value, whole))

    def decoy(self, kind: str, value: str, detail: str = "") -> None:
        self.planted.append((DECOY, kind, detail, value, True))

    def plant(self, workflow: dict[str, Any]) -> None:
        nodes = workflow.setdefault("nodes", [])
        for _ in range(self.rng.randint(1, 3)):
            getattr(self, "_" + self.rng.choice(KINDS))(nodes, workflow)
        self._decoys(nodes)
        if self.rng.random() < 0.5:
            self._inbound_webhook(nodes, workflow)
        if self.rng.random() < 0.15:
            self._public_keys(nodes)

    def _node(self, nodes: list[dict[str, Any]], name: str, kind: str, version: float,
              parameters: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        node = {"id": _uuid(self.rng), "name": f"{name} {len(nodes)}", "type": kind,
                "typeVersion": version, "position": [0, 0], "parameters": parameters}  # fmt: skip
        nodes.append(node)
        return node

    def _http(self, nodes: list[dict[str, Any]], parameters: dict[str, Any]) -> None:
        self._node(nodes, "HTTP", "n8n-nodes-base.httpRequest", 4.2,
                   {"url": "https://api.partner.example/v1/items", **parameters})  # fmt: skip

    def _headers(self, nodes: list[dict[str, Any]], name: str, value: str) -> None:
        self._http(nodes, {"sendHeaders": True, "headerParameters": {"parameters": [
            {"name": "Accept", "value": "application/json"},
            {"name": name, "value": value},
        ]}})  # fmt: skip

    def _code(self, nodes: list[dict[str, Any]], name: str, code: str) -> None:
        if self.rng.random() < 0.85:
            self._node(nodes, name, "n8n-nodes-base.code", 2, {"jsCode": code})
        else:
            self._node(nodes, name, "n8n-nodes-base.function", 1, {"functionCode": code})

    # -- the kinds of the first corpus

    def _header(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        name = self.rng.choice(HEADER_NAMES)
        self.secret("header", secret)
        self._headers(nodes, name, f"Bearer {secret}" if name == "Authorization" else secret)

    def _query(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.secret("query", secret)
        self._http(nodes, {"sendQuery": True, "queryParameters": {"parameters": [
            {"name": self.rng.choice(QUERY_NAMES), "value": secret}
        ]}})  # fmt: skip

    def _body(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.secret("body", secret)
        self._http(nodes, {"sendBody": True, "bodyParameters": {"parameters": [
            {"name": "grant", "value": "client_credentials"},
            {"name": self.rng.choice(BODY_NAMES), "value": secret},
        ]}})  # fmt: skip

    def _set_node(self, nodes: list[dict[str, Any]], name: str, value: str, kind: str) -> None:
        self._node(nodes, "Edit Fields", "n8n-nodes-base.set", 3.4, {"assignments": {
            "assignments": [{"id": _uuid(self.rng), "name": name, "value": value, "type": kind}]
        }})  # fmt: skip

    def _set_field(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.secret("set-field", secret)
        self._set_node(nodes, self.rng.choice(SET_NAMES), secret, "string")

    def _url(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        password = _random(self.rng, ALNUM, 20)
        self.secret("url-password", password)
        self._http(nodes, {"url": f"https://deploy:{password}@files.partner.example/export"})

    def _code_literal(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.secret("code-literal", secret)
        self._code(nodes, "Sign", (
            f"const items = $input.all();\nconst apiSecret = '{secret}';\n"
            "return items.map(i => ({ json: { ...i.json, signed: true } }));"
        ))  # fmt: skip

    def _code_token(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        token = _token(self.rng, self.rng.choice(["openai", "github", "slack", "anthropic"]))
        self.secret("code-token", token)
        self._code(nodes, "Fetch", (
            f'// call the API directly\nconst client = new Client("{token}");\n'
            "return [{ json: await client.list() }];"
        ))  # fmt: skip

    def _token_in_notes(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        token = _token(self.rng, self.rng.choice(["aws", "stripe", "google", "openai"]))
        self.secret("known-token", token)
        self._http(nodes, {"options": {"description": f"temporary: {token}"}})

    def _pinned(self, nodes: list[dict[str, Any]], workflow: dict[str, Any]) -> None:
        token = _generic_secret(self.rng)
        self.secret("pin-data", token, whole=True)
        name = nodes[0]["name"] if nodes else "Start"
        self._pins(workflow, name).append(
            {"json": {"id": self.rng.randint(1, 10**6), "access_token": token, "expires_in": 3600}}
        )

    # -- the kinds real exports contain (issue 13)

    def _pem_in_code(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        variant = self.rng.choice(["rsa", "ec", "openssh", "pkcs8", "pgp"])
        pem = self.keys.pem(self.rng, variant)
        form = self.rng.choices(["escaped", "concat", "template"], [6, 2, 2])[0]
        if form == "escaped":
            quote = self.rng.choice(['"', "'"])
            literal = quote + _js_escaped(pem) + quote
        elif form == "concat":
            literal = "\n  + ".join(f"'{line}\\n'" for line in pem.splitlines())
        else:
            literal = "`" + pem + "`"
        # the JS source is one JSON string: one line in the export, whatever its form
        self.secret("pem-in-code", _pem_locator(pem), detail=f"{variant}/{form}")
        self._code(nodes, "Sign Request", (
            "const crypto = require('crypto');\n"
            f"const privateKey = {literal};\n"
            "const signer = crypto.createSign('RSA-SHA256');\n"
            "signer.update(JSON.stringify($json.payload));\n"
            "return [{ json: { signature: signer.sign(privateKey, 'base64') } }];"
        ))  # fmt: skip

    def _jwk_private(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        jwk = dict(self.rng.choice(self.keys.jwks))
        jwk["kid"] = _random(self.rng, ALNUM, 12)
        locator = jwk.get("d") or jwk["k"]
        where = self.rng.choice(["set", "code"])
        self.secret("jwk-private", locator, detail=f"{jwk['kty']}/{where}")
        text = json.dumps(jwk)
        if where == "set":
            self._set_node(nodes, self.rng.choice(["signingKey", "jwk", "privateJwk"]), text,
                           "object")  # fmt: skip
        else:
            self._code(nodes, "JWT", (
                f"const jwk = {text};\n"
                "const key = require('crypto').createPrivateKey({ key: jwk, format: 'jwk' });\n"
                "return [{ json: { ok: !!key } }];"
            ))  # fmt: skip

    def _query_hex32(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        key = _random(self.rng, HEXDIGITS, 32)
        url, name = self.rng.choice(HEX_QUERY_APIS)
        if self.rng.random() < 0.6:
            self.secret("query-hex32", key, detail=f"parameter {name}")
            self._http(nodes, {"url": url, "sendQuery": True, "queryParameters": {"parameters": [
                {"name": "q", "value": "London"}, {"name": name, "value": key}
            ]}})  # fmt: skip
        else:
            self.secret("query-hex32", key, detail=f"url {name}")
            self._http(nodes, {"url": f"{url}?q=London&{name}={key}&units=metric"})

    def _header_uuid(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        key = _uuid(self.rng)
        name = self.rng.choice(UUID_HEADERS)
        self.secret("header-uuid", key, detail=name)
        self._headers(nodes, name, f"Bearer {key}" if name == "Authorization" else key)

    def _header_hex(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        size = self.rng.choice([40, 64])
        key = _random(self.rng, HEXDIGITS, size)
        name = self.rng.choice(HEX_HEADERS)
        self.secret("header-hex", key, detail=f"{name} {size}")
        if name == "Authorization":
            key_text = f"{self.rng.choice(['Token', 'Bearer'])} {key}"
        else:
            key_text = key
        self._headers(nodes, name, key_text)

    def _bearer_b64(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        while True:
            token = base64.b64encode(self.rng.randbytes(self.rng.choice([32, 40, 46]))).decode()
            if "/" in token and "+" in token and token.endswith("="):
                break
        self.secret("bearer-b64", token)
        self._headers(nodes, "Authorization", f"Bearer {token}")

    def _header_short(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        key = _random(self.rng, ALNUM, self.rng.randint(16, 24))
        name = self.rng.choice(SHORT_HEADERS)
        self.secret("header-short", key, detail=name)
        self._headers(nodes, name, f"Token {key}" if name == "Authorization" else key)

    # -- decoys

    def _decoys(self, nodes: list[dict[str, Any]]) -> None:
        request_id = _uuid(self.rng)
        checksum = _random(self.rng, HEXDIGITS, 64)
        headers = [
            ("expression", "Authorization", "={{ 'Bearer ' + $json.access_token }}"),
            (None, "X-API-Key", "=Bearer {{ $env.PARTNER_KEY }}"),  # an $env read (KT006)
            ("placeholder", "X-Api-Token", "YOUR_API_KEY"),
            ("request-id", "X-Request-Id", request_id),
            ("checksum", "X-Checksum", checksum),
            ("placeholder", "Authorization", "Bearer <token>"),
            ("placeholder", "api_key", "sk-xxxxxxxxxxxxxxxxxxxxxxxx"),
        ]
        for kind, _name, value in headers:
            if kind:
                self.decoy(kind, value)
        self._http(nodes, {"sendHeaders": True, "headerParameters": {"parameters": [
            {"name": name, "value": value} for _kind, name, value in headers
        ]}})  # fmt: skip

    def _pins(self, workflow: dict[str, Any], name: str) -> list[dict[str, Any]]:
        pins = workflow.get("pinData")
        if not isinstance(pins, dict):
            pins = workflow["pinData"] = {}
        entries = pins.get(name)
        if not isinstance(entries, list):
            entries = pins[name] = []
        return entries

    def _d(self, kind: str, value: str) -> str:
        self.decoy(kind, value)
        return value

    def _member_id(self) -> str:
        if self.rng.random() < 0.5:
            return self._d("member-id", str(self.rng.randint(10**8, 10**18)))
        return self._d("member-id", _random(self.rng, HEXDIGITS, 24))

    def _inbound_webhook(self, nodes: list[dict[str, Any]], workflow: dict[str, Any]) -> None:
        """A webhook trigger and its pinned data: the request as the sender really sent it."""
        rng = self.rng
        path = _uuid(rng)
        node = self._node(nodes, "Webhook", "n8n-nodes-base.webhook", 2,
                          {"httpMethod": "POST", "path": path, "options": {}})  # fmt: skip
        node["webhookId"] = path
        flavor = rng.choice(["github", "slack", "stripe", "community", "http-response"])
        timestamp = str(1_700_000_000 + rng.getrandbits(25))
        headers: dict[str, Any] = {
            "host": "n8n.example.com",
            "content-type": "application/json",
            "x-forwarded-for": f"140.82.115.{rng.randint(1, 254)}",
        }
        body: dict[str, Any]
        if flavor == "github":
            headers |= {
                "user-agent": "GitHub-Hookshot/" + _random(rng, HEXDIGITS, 7),
                "x-github-delivery": self._d("request-id", _uuid(rng)),
                "x-github-event": "push",
                "x-github-hook-id": str(rng.randint(10**8, 10**9)),
                "x-hub-signature": self._d("hub-signature", "sha1=" + _random(rng, HEXDIGITS, 40)),
                "x-hub-signature-256": self._d(
                    "hub-signature", "sha256=" + _random(rng, HEXDIGITS, 64)
                ),
            }
            body = {
                "ref": "refs/heads/main",
                "before": self._d("commit-hash", _random(rng, HEXDIGITS, 40)),
                "after": self._d("commit-hash", _random(rng, HEXDIGITS, 40)),
                "sender": {"login": "octo-dev", "id": rng.randint(10**5, 10**8),
                           "node_id": self._d("member-id", base64.b64encode(
                               f"04:User{rng.randint(10**5, 10**8)}".encode()).decode())},
                "head_commit": {"id": self._d("commit-hash", _random(rng, HEXDIGITS, 40)),
                                "author": {"name": "Dev", "username": "octo-dev"}},
            }  # fmt: skip
        elif flavor == "slack":
            headers |= {
                "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                "x-slack-signature": self._d(
                    "slack-signature", "v0=" + _random(rng, HEXDIGITS, 64)
                ),
                "x-slack-request-timestamp": self._d("slack-timestamp", timestamp),
            }
            team = "T0" + _random(rng, UPPER_ALNUM, 9)
            body = {
                "team_id": self._d("member-id", team),
                "api_app_id": self._d("member-id", "A0" + _random(rng, UPPER_ALNUM, 9)),
                "team_domain": self._d("domain", "acme-" + _random(rng, HEXDIGITS, 6)),
                "event": {"type": "message", "text": "deploy done",
                          "user": self._d("member-id", "U0" + _random(rng, UPPER_ALNUM, 9)),
                          "channel": self._d("member-id", "C0" + _random(rng, UPPER_ALNUM, 9)),
                          "ts": f"{timestamp}.{rng.randint(100000, 999999)}"},
                "event_id": self._d("object-id", "Ev0" + _random(rng, UPPER_ALNUM, 9)),
                "authorizations": [{"user_id": self._d("member-id",
                                                       "U0" + _random(rng, UPPER_ALNUM, 9))}],
            }  # fmt: skip
        elif flavor == "stripe":
            v1 = _random(rng, HEXDIGITS, 64)
            headers |= {
                "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "stripe-signature": self._d("stripe-signature", f"t={timestamp},v1={v1}"),
            }
            body = {
                "id": self._d("object-id", "evt_" + _random(rng, ALNUM, 24)),
                "type": "checkout.session.completed",
                "data": {"object": {
                    "id": self._d("object-id", "cs_live_" + _random(rng, ALNUM, 58)),
                    "customer": self._d("object-id", "cus_" + _random(rng, ALNUM, 14)),
                    "payment_intent": self._d("object-id", "pi_" + _random(rng, ALNUM, 24)),
                }},
            }  # fmt: skip
        elif flavor == "community":
            headers |= {
                "user-agent": "Circle-Webhooks/2.0",
                "x-request-id": self._d("request-id", _uuid(rng)),
                "cf-ray": self._d("request-id", _random(rng, HEXDIGITS, 16) + "-FRA"),
            }
            body = {
                "event": "post.created",
                "authorId": self._member_id(),
                "memberId": self._member_id(),
                "userId": self._member_id(),
                "community": {"domain": self._d("domain", f"{_random(rng, HEXDIGITS, 10)}"
                                                ".circle.so")},
                "walletAddress": self._d("blockchain-address", "0x" + _random(rng, HEXDIGITS, 40)),
            }  # fmt: skip
        else:  # an HTTP node's response with its headers ("include response headers")
            body = {}
            name = nodes[0]["name"] if nodes else "HTTP Request"
            self._pins(workflow, name).append({"json": {
                "headers": {
                    "etag": self._d("etag", f'W/"{_random(rng, HEXDIGITS, 40)}"'),
                    "x-request-id": self._d("request-id", _uuid(rng)),
                    "x-amz-cf-id": self._d("request-id", _random(rng, ALNUM + "_-", 54) + "=="),
                    "content-type": "application/json",
                },
                "statusCode": 200,
                "body": {"data": {"authorId": self._member_id(),
                                  "domain": self._d("domain", f"shop-{_random(rng, HEXDIGITS, 8)}"
                                                              ".myshopify.com")}},
            }})  # fmt: skip
        self._pins(workflow, node["name"]).append({"json": {
            "headers": headers, "params": {}, "query": {}, "body": body,
            "webhookUrl": f"https://n8n.example.com/webhook/{path}",
            "executionMode": "production",
        }})  # fmt: skip

    def _public_keys(self, nodes: list[dict[str, Any]]) -> None:
        """Public material next to private: a public JWK and a public key PEM."""
        jwk = self.rng.choice(self.keys.jwks)
        public = {k: v for k, v in jwk.items() if k in ("kty", "crv", "n", "e", "x", "y")}
        if "x" not in public and "n" not in public:  # a symmetric key has no public part
            return
        public |= {"use": "sig", "kid": _random(self.rng, ALNUM, 12)}
        self.decoy("jwk-public", json.dumps({"keys": [public]}))
        self._set_node(nodes, "jwks", json.dumps({"keys": [public]}), "object")
        pem = self.rng.choice(self.keys.public_pems)
        self.decoy("public-key-pem", _js_escaped(pem))
        self._set_node(nodes, "verificationKey", _js_escaped(pem), "string")


KINDS = ["header", "query", "body", "set_field", "url", "code_literal", "code_token",
         "token_in_notes", "pinned", "pem_in_code", "jwk_private", "query_hex32", "header_uuid",
         "header_hex", "bearer_b64", "header_short"]  # fmt: skip

ENV_PEM_NAMES = [("GOOGLE_PRIVATE_KEY", "pkcs8"), ("JWT_PRIVATE_KEY", "rsa"),
                 ("SSH_PRIVATE_KEY", "openssh"), ("PGP_PRIVATE_KEY", "pgp"),
                 ("APPLE_PRIVATE_KEY", "pkcs8"), ("SIGNING_KEY", "ec")]  # fmt: skip


def _env_file(rng: random.Random, planter: Planter) -> str:
    lines = ["# deployment settings", "N8N_HOST=n8n.example.com", "N8N_PORT=5678",
             "WEBHOOK_URL=https://n8n.example.com/", "PARTNER_API_KEY=YOUR_KEY_HERE",
             "GENERIC_TIMEZONE=Europe/Berlin"]  # fmt: skip
    planter.decoy("placeholder", "YOUR_KEY_HERE")
    for name in rng.sample(["PARTNER_API_KEY", "SLACK_TOKEN", "DB_PASSWORD", "STRIPE_SECRET",
                            "N8N_ENCRYPTION_KEY", "OPENAI_API_KEY"], 2):  # fmt: skip
        secret = _generic_secret(rng)
        planter.secret("env-file", secret)
        lines.append(rng.choice([f"{name}={secret}", f'export {name}="{secret}"']))
    if rng.random() < 0.6:
        name, variant = rng.choice(ENV_PEM_NAMES)
        pem = planter.keys.pem(rng, variant)
        planter.secret("pem-in-env", _pem_locator(pem), detail=variant)
        lines.append(f'{name}="{_js_escaped(pem)}"')
    return "\n".join(lines) + "\n"


def _compose_file(rng: random.Random, planter: Planter) -> str:
    secret = _generic_secret(rng)
    planter.secret("compose", secret)
    return (
        "services:\n  n8n:\n    image: n8nio/n8n:2.40.7\n    environment:\n"
        "      - N8N_PORT=5678\n      - N8N_ENCRYPTION_KEY_FILE=/run/secrets/key\n"
        f"      - PARTNER_API_KEY={secret}\n      - DB_POSTGRESDB_PASSWORD=${{DB_PASSWORD}}\n"
        '    ports:\n      - "5678:5678"\n'
    )


def build_corpus(root: Path, target_bytes: int, seed: int = 7) -> Corpus:
    rng = random.Random(seed)
    keys = KeyPool.make(random.Random(seed + 1))
    bases = [
        json.loads(path.read_text())
        for path in realworld_files()  # RealworldMissing without the exports
        if path.name not in EXCLUDED_BASES
    ]
    corpus = Corpus(root)
    root.mkdir(parents=True, exist_ok=True)
    index = 0
    while corpus.bytes < target_bytes:
        shape = rng.choices(["single", "array", "separate", "env", "compose"], [70, 8, 14, 5, 3])[0]
        folder = root / f"team{index % 20:02d}"
        folder.mkdir(exist_ok=True)
        planter = Planter(rng, keys)
        if shape in ("env", "compose"):
            text = (_env_file if shape == "env" else _compose_file)(rng, planter)
            path = folder / (
                f"deploy{index}.env" if shape == "env" else f"docker-compose.{index}.yml"
            )
            _write(corpus, path, text, planter.planted, [])
        elif shape == "single":
            workflow = _copy(bases, rng, index, planter)
            text = json.dumps(workflow, indent=2, ensure_ascii=False)
            _write(corpus, folder / f"workflow_{index}.json", text, planter.planted, [workflow])
        elif shape == "array":
            workflows = [
                _copy(bases, rng, index * 100 + k, planter) for k in range(rng.randint(3, 8))
            ]
            text = json.dumps(workflows, indent=2, ensure_ascii=False)
            _write(corpus, folder / f"export_all_{index}.json", text, planter.planted, workflows)
        else:
            separate = folder / f"separate_{index}"
            separate.mkdir()
            pretty = rng.random() < 0.7  # `export:workflow --backup` (pretty) or compact
            for k in range(rng.randint(2, 5)):
                one = Planter(rng, keys)
                workflow = _copy(bases, rng, index * 100 + k, one)
                path = separate / f"{workflow['id']}.json"
                if pretty:
                    text = json.dumps(workflow, indent=2, ensure_ascii=False)
                    _write(corpus, path, text, one.planted, [workflow])
                else:
                    _write(corpus, path, json.dumps(workflow, ensure_ascii=False), None, [])
        index += 1
    return corpus


def _copy(
    bases: list[dict[str, Any]], rng: random.Random, index: int, planter: Planter
) -> dict[str, Any]:
    workflow = copy.deepcopy(rng.choice(bases))
    workflow["id"] = _random(rng, ALNUM, 16)
    workflow["name"] = f"{workflow.get('name', 'Workflow')} #{index}"
    workflow["versionId"] = _uuid(rng)
    if rng.random() < 0.85:
        planter.plant(workflow)
    return workflow


def _export_ids(workflows: list[dict[str, Any]]) -> dict[str, str]:
    """The ids every export carries, by value: workflow, version, node, webhook, credential."""
    ids: dict[str, str] = {}
    for workflow in workflows:
        for key, kind in (("id", "workflow-id"), ("versionId", "version-id")):
            if isinstance(workflow.get(key), str):
                ids[workflow[key]] = kind
        for node in workflow.get("nodes") or []:
            if not isinstance(node, dict):
                continue
            for key, kind in (("id", "node-id"), ("webhookId", "webhook-id")):
                if isinstance(node.get(key), str) and node[key]:
                    ids[node[key]] = kind
            credentials = node.get("credentials")
            for credential in credentials.values() if isinstance(credentials, dict) else ():
                if isinstance(credential, dict) and isinstance(credential.get("id"), str):
                    ids[credential["id"]] = "credential-id"
    return ids


_ID_LINE = re.compile(r'"(?:id|versionId|webhookId)": "([^"\\\n]+)"')


class _Lines:
    """Line numbers of offsets in one file's text, and where each planted value is."""

    def __init__(self, text: str, json_text: bool) -> None:
        self.text = text
        self.json_text = json_text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.after: dict[str, int] = {}  # a value planted twice: its next occurrence

    def line_at(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1

    def locate(self, value: str, whole: bool) -> int:
        needle = value
        if self.json_text:
            needle = json.dumps(value, ensure_ascii=False)
            if not whole:
                needle = needle[1:-1]
        offset = self.text.find(needle, self.after.get(needle, 0))
        if offset < 0:
            offset = self.text.find(needle)
        if offset < 0:
            raise AssertionError(f"planted value not in its file: {value[:40]!r}")
        self.after[needle] = offset + len(needle)
        return self.line_at(offset)


def _write(
    corpus: Corpus,
    path: Path,
    text: str,
    planted: list[tuple[str, str, str, str, bool]] | None,
    workflows: list[dict[str, Any]],
) -> None:
    """Write one file; its ground truth unless `planted` is None (a compact file: unscored)."""
    path.write_text(text, encoding="utf-8")
    corpus.files += 1
    corpus.bytes += len(text.encode())
    relative = str(path)
    if planted is None:
        corpus.unscored.append(relative)
        return
    lines = _Lines(text, path.suffix == ".json")
    secrets, decoys = [], []
    for role, kind, detail, value, whole in planted:
        truth = Truth(relative, lines.locate(value, whole), kind, value, role, detail)
        (secrets if role == SECRET else decoys).append(truth)
    ids = _export_ids(workflows)
    if ids:
        for match in _ID_LINE.finditer(text):
            kind = ids.get(match.group(1))
            if kind:
                line = lines.line_at(match.start())
                decoys.append(Truth(relative, line, kind, match.group(1), DECOY))
    secret_lines = {t.line for t in secrets}
    corpus.truths.extend(secrets)
    for decoy in decoys:
        if decoy.line in secret_lines:
            corpus.dropped_decoys += 1
        else:
            corpus.truths.append(decoy)
