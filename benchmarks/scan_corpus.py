"""A realistic corpus of n8n workflow exports, .env and compose files, with its ground truth.

Workflows are the 395 real community exports ($KEYTURN_REALWORLD_DIR, else
../shared/realworld-workflows: see _realworld.py), copied with new names and, in most of them,
planted secrets of every kind the scanner must find:

- header / query / body parameters with unusual names, Set node fields, URLs with
  `user:password@`, Code node literals and well-known tokens in Code, well-known tokens under
  innocent keys, secrets in pinned data;
- .env files (`KEY=value`, `export KEY="value"`) and docker-compose `environment:` entries;
- files in every shape n8n writes: one workflow, an `export:workflow --all` array, a folder of
  `--separate` files, with and without `pinData`.

Decoys that must not be reported: expressions (`={{ $json.token }}`, `=Bearer {{ $env.X }}`),
UUIDs (node ids, webhook ids, version ids), placeholders (`YOUR_API_KEY`, `<token>`, `sk-xxxx`),
checksums under innocent keys. The ground truth lists (file, line, kind) of every planted secret.
"""

from __future__ import annotations

import copy
import json
import random
import string
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _realworld import realworld_files

# Two exports hold real keys: left out of the base set
# so that the ground truth is exactly what was planted.
EXCLUDED_BASES = {
    "Slack_Venafi_Cloud_Slack_Cert_Bot.json",  # a VirusTotal key in a header
    "Real_Estate_Airbnb-Guest-Assistant.json",  # an API key in an Authorization header
}


@dataclass
class Truth:
    path: str
    line: int
    kind: str
    secret: str


@dataclass
class Corpus:
    root: Path
    truths: list[Truth] = field(default_factory=list)
    bytes: int = 0
    files: int = 0


def _random(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


ALNUM = string.ascii_letters + string.digits
HEXDIGITS = "0123456789abcdef"


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


HEADER_NAMES = ["X-Partner-Token", "Api-Secret-Key", "X-Auth", "Authorization", "x-api-key",
                "X-Access-Token", "X-Client-Secret", "Private-Token"]  # fmt: skip
QUERY_NAMES = ["access_key", "api_key", "token", "apikey", "client_secret"]
BODY_NAMES = ["client_secret", "password", "secret", "refresh_token", "api_token"]
SET_NAMES = ["apiToken", "stripeSecret", "db_password", "serviceKey", "authToken"]


class Planter:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.planted: list[tuple[str, str]] = []  # (kind, secret)

    def plant(self, workflow: dict[str, Any]) -> None:
        nodes = workflow.setdefault("nodes", [])
        for _ in range(self.rng.randint(1, 3)):
            getattr(self, "_" + self.rng.choice(KINDS))(nodes, workflow)
        self._decoys(nodes)

    def _http(self, nodes: list[dict[str, Any]], parameters: dict[str, Any]) -> None:
        nodes.append(
            {
                "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                "name": f"HTTP {len(nodes)}",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": 4.2,
                "position": [0, 0],
                "parameters": {"url": "https://api.partner.example/v1/items", **parameters},
            }
        )

    def _header(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        name = self.rng.choice(HEADER_NAMES)
        value = f"Bearer {secret}" if name == "Authorization" else secret
        self.planted.append(("header", secret))
        self._http(
            nodes,
            {
                "sendHeaders": True,
                "headerParameters": {
                    "parameters": [
                        {"name": "Accept", "value": "application/json"},
                        {"name": name, "value": value},
                    ]
                },
            },
        )

    def _query(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.planted.append(("query", secret))
        self._http(
            nodes,
            {
                "sendQuery": True,
                "queryParameters": {
                    "parameters": [{"name": self.rng.choice(QUERY_NAMES), "value": secret}]
                },
            },
        )

    def _body(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.planted.append(("body", secret))
        self._http(
            nodes,
            {
                "sendBody": True,
                "bodyParameters": {
                    "parameters": [
                        {"name": "grant", "value": "client_credentials"},
                        {"name": self.rng.choice(BODY_NAMES), "value": secret},
                    ]
                },
            },
        )

    def _set_field(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.planted.append(("set-field", secret))
        nodes.append(
            {
                "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                "name": "Edit Fields",
                "type": "n8n-nodes-base.set",
                "typeVersion": 3.4,
                "position": [0, 0],
                "parameters": {
                    "assignments": {
                        "assignments": [
                            {
                                "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                                "name": self.rng.choice(SET_NAMES),
                                "value": secret,
                                "type": "string",
                            }
                        ]
                    }
                },
            }
        )

    def _url(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        password = _random(self.rng, ALNUM, 20)
        self.planted.append(("url-password", password))
        self._http(nodes, {"url": f"https://deploy:{password}@files.partner.example/export"})

    def _code_literal(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        secret = _generic_secret(self.rng)
        self.planted.append(("code-literal", secret))
        code = (
            f"const items = $input.all();\nconst apiSecret = '{secret}';\n"
            "return items.map(i => ({ json: { ...i.json, signed: true } }));"
        )
        nodes.append(
            {
                "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                "name": "Sign",
                "type": "n8n-nodes-base.code",
                "typeVersion": 2,
                "position": [0, 0],
                "parameters": {"jsCode": code},
            }
        )

    def _code_token(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        token = _token(self.rng, self.rng.choice(["openai", "github", "slack", "anthropic"]))
        self.planted.append(("code-token", token))
        code = (
            f'// call the API directly\nconst client = new Client("{token}");\n'
            "return [{ json: await client.list() }];"
        )
        nodes.append(
            {
                "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
                "name": "Fetch",
                "type": "n8n-nodes-base.code",
                "typeVersion": 2,
                "position": [0, 0],
                "parameters": {"jsCode": code},
            }
        )

    def _token_in_notes(self, nodes: list[dict[str, Any]], _: dict[str, Any]) -> None:
        token = _token(self.rng, self.rng.choice(["aws", "stripe", "google", "openai"]))
        self.planted.append(("known-token", token))
        self._http(nodes, {"options": {"description": f"temporary: {token}"}})

    def _pinned(self, nodes: list[dict[str, Any]], workflow: dict[str, Any]) -> None:
        token = _generic_secret(self.rng)
        self.planted.append(("pin-data", token))
        name = nodes[0]["name"] if nodes else "Start"
        pins = workflow.get("pinData")
        if not isinstance(pins, dict):
            pins = workflow["pinData"] = {}
        entries = pins.get(name)
        if not isinstance(entries, list):
            entries = pins[name] = []
        entries.append(
            {"json": {"id": self.rng.randint(1, 10**6), "access_token": token, "expires_in": 3600}}
        )

    def _decoys(self, nodes: list[dict[str, Any]]) -> None:
        self._http(nodes, {"sendHeaders": True, "headerParameters": {"parameters": [
            {"name": "Authorization", "value": "={{ 'Bearer ' + $json.access_token }}"},
            {"name": "X-API-Key", "value": "=Bearer {{ $env.PARTNER_KEY }}"},
            {"name": "X-Api-Token", "value": "YOUR_API_KEY"},
            {"name": "X-Request-Id", "value": str(uuid.UUID(int=self.rng.getrandbits(128)))},
            {"name": "X-Checksum", "value": _random(self.rng, HEXDIGITS, 64)},
            {"name": "Authorization", "value": "Bearer <token>"},
            {"name": "api_key", "value": "sk-xxxxxxxxxxxxxxxxxxxxxxxx"},
        ]}})  # fmt: skip


KINDS = ["header", "query", "body", "set_field", "url", "code_literal", "code_token",
         "token_in_notes", "pinned"]  # fmt: skip


def _env_file(rng: random.Random, planted: list[tuple[str, str]]) -> str:
    lines = ["# deployment settings", "N8N_HOST=n8n.example.com", "N8N_PORT=5678",
             "WEBHOOK_URL=https://n8n.example.com/", "PARTNER_API_KEY=YOUR_KEY_HERE",
             "GENERIC_TIMEZONE=Europe/Berlin"]  # fmt: skip
    for name in rng.sample(["PARTNER_API_KEY", "SLACK_TOKEN", "DB_PASSWORD", "STRIPE_SECRET",
                            "N8N_ENCRYPTION_KEY", "OPENAI_API_KEY"], 2):  # fmt: skip
        secret = _generic_secret(rng)
        planted.append(("env-file", secret))
        lines.append(rng.choice([f"{name}={secret}", f'export {name}="{secret}"']))
    return "\n".join(lines) + "\n"


def _compose_file(rng: random.Random, planted: list[tuple[str, str]]) -> str:
    secret = _generic_secret(rng)
    planted.append(("compose", secret))
    return (
        "services:\n  n8n:\n    image: n8nio/n8n:2.40.7\n    environment:\n"
        "      - N8N_PORT=5678\n      - N8N_ENCRYPTION_KEY_FILE=/run/secrets/key\n"
        f"      - PARTNER_API_KEY={secret}\n      - DB_POSTGRESDB_PASSWORD=${{DB_PASSWORD}}\n"
        '    ports:\n      - "5678:5678"\n'
    )


def _lines_of(text: str, secret: str) -> int:
    escaped = json.dumps(secret)[1:-1]
    offset = text.find(escaped)
    return text.count("\n", 0, offset) + 1


def build_corpus(root: Path, target_bytes: int, seed: int = 7) -> Corpus:
    rng = random.Random(seed)
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
        planter = Planter(rng)
        if shape in ("env", "compose"):
            make = _env_file if shape == "env" else _compose_file
            text = make(rng, planter.planted)
            path = folder / (
                f"deploy{index}.env" if shape == "env" else f"docker-compose.{index}.yml"
            )
            _write(corpus, path, text, planter.planted)
        elif shape == "single":
            workflow = _copy(bases, rng, index, planter)
            _write(
                corpus,
                folder / f"workflow_{index}.json",
                json.dumps(workflow, indent=2, ensure_ascii=False),
                planter.planted,
            )
        elif shape == "array":
            workflows = [
                _copy(bases, rng, index * 100 + k, planter) for k in range(rng.randint(3, 8))
            ]
            _write(
                corpus,
                folder / f"export_all_{index}.json",
                json.dumps(workflows, indent=2, ensure_ascii=False),
                planter.planted,
            )
        else:
            separate = folder / f"separate_{index}"
            separate.mkdir()
            for k in range(rng.randint(2, 5)):
                one = Planter(rng)
                workflow = _copy(bases, rng, index * 100 + k, one)
                _write(
                    corpus,
                    separate / f"{workflow['id']}.json",
                    json.dumps(workflow, ensure_ascii=False),
                    one.planted,
                )
        index += 1
    return corpus


def _copy(
    bases: list[dict[str, Any]], rng: random.Random, index: int, planter: Planter
) -> dict[str, Any]:
    workflow = copy.deepcopy(rng.choice(bases))
    workflow["id"] = _random(rng, ALNUM, 16)
    workflow["name"] = f"{workflow.get('name', 'Workflow')} #{index}"
    workflow["versionId"] = str(uuid.UUID(int=rng.getrandbits(128)))
    if rng.random() < 0.85:
        planter.plant(workflow)
    return workflow


def _write(corpus: Corpus, path: Path, text: str, planted: list[tuple[str, str]]) -> None:
    path.write_text(text, encoding="utf-8")
    corpus.files += 1
    corpus.bytes += len(text.encode())
    relative = str(path)
    for kind, secret in planted:
        corpus.truths.append(Truth(relative, _lines_of(text, secret), kind, secret))
