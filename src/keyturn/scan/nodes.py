"""Secrets typed into n8n node parameters, and secrets read from `$env`.

A node's parameters are walked once. Each string is judged with its context: the parameter's
key, or the `name` of n8n's `{name, value}` pairs (headers, query and body parameters). Cheap
checks come first (name, length, a literal prefix); regexes run only on the few candidates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from keyturn.n8n.models import Node

SECRET_NAME = re.compile(
    r"auth|api[-_ ]?key|apikey|token|secret|passw|pwd|private[-_]?key|access[-_]?key|"
    r"signature|credential|client[-_]?secret|bearer",
    re.IGNORECASE,
)
# n8n's own option keys that contain such words but hold a mode, never a secret.
NOT_SECRET_KEYS = frozenset(
    {
        "authentication",
        "genericauthtype",
        "nodecredentialtype",
        "sendheaders",
        "tokentype",
        "grant_type",
        "granttype",
        "authurl",
        "accesstokenurl",
        "tokenurl",
        "tokenname",
        "passwordfield",
        "useauth",
        "maxtokens",
        "max_tokens",
        "maxtokenstosample",
    }
)
CODE_KEYS = frozenset({"jscode", "functioncode", "pythoncode", "code", "query"})
KNOWN_TOKEN = re.compile(
    r"(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}"
    r"|(?:sk|rk)_live_[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)
_KNOWN_PREFIXES = (
    "sk-",
    "gh",
    "github_pat_",
    "xox",
    "AKIA",
    "AIza",
    "sk_live_",
    "rk_live_",
    "eyJ",
    "-----BEGIN",
)
URL_USERINFO = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]{3,})@", re.IGNORECASE)
CODE_ASSIGNMENT = re.compile(
    r"""["']?([A-Za-z_][\w-]*)["']?\s*[:=]\s*["'`](?:Bearer\s+|Basic\s+|Token\s+)?([^"'`\s]{8,})["'`]"""
)
ENV_READ = re.compile(
    r"""(?:\$env|process\.env)(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([^"']+)["']\s*\])"""
)
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
AUTH_SCHEME = re.compile(r"^(?:bearer|basic|token|apikey|key)\s+", re.IGNORECASE)
PLACEHOLDER = re.compile(
    r"your|xxx|\*\*\*|<[^>]*>|\[[^\]]*\]|placeholder|example|change[-_ ]?me|replace|insert|"
    r"_here|here_|dummy|sample|redacted|todo|fixme|\.\.\.|test[-_]?key|secret_key$|api_key$|"
    r"^(?:none|null|undefined|string|token|secret|password|apikey|bearer)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NodeSecret:
    """A secret value typed into a node instead of kept in a credential."""

    node_name: str
    node_type: str
    pointer: (
        str  # JSON pointer inside the node, e.g. /parameters/headerParameters/parameters/0/value
    )
    field: str  # the parameter or header name that holds it
    reason: str
    preview: str


@dataclass(frozen=True)
class EnvRead:
    """A node reading a value from n8n's environment (`$env.X` or `process.env.X`)."""

    node_name: str
    node_type: str
    pointer: str
    variable: str
    secret_like: bool


def preview(value: str) -> str:
    """A redacted preview: enough to recognise a value, never enough to use it."""
    if len(value) <= 8:
        return value[:1] + "…" + f" ({len(value)} chars)"
    return f"{value[:4]}…{value[-2:]} ({len(value)} chars)"


def is_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value)) or len(set(value)) < 4


def looks_like_secret_value(value: str) -> bool:
    """A literal that could be a credential: long enough, one token, not a placeholder or URL."""
    value = AUTH_SCHEME.sub("", value.strip())
    if len(value) < 8 or any(ch.isspace() for ch in value) or is_placeholder(value):
        return False
    if value.lower().startswith(("http://", "https://", "/", "=")):
        return False
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    return (has_digit and has_alpha) or len(value) >= 20


def literal_part(value: str) -> str | None:
    """The text of a parameter that n8n takes literally: None for a pure expression."""
    if not value.startswith("="):
        return value
    literal = EXPRESSION.sub(" ", value[1:]).strip()
    return literal or None


def _walk(value: Any, pointer: str, context: str) -> Iterator[tuple[str, str, str]]:
    """Yield (pointer, context name, string) for every string under `value`."""
    if isinstance(value, str):
        yield pointer, context, value
    elif isinstance(value, dict):
        pair_name = value.get("name") if isinstance(value.get("value"), str) else None
        for key, item in value.items():
            name = str(pair_name) if key == "value" and isinstance(pair_name, str) else str(key)
            yield from _walk(item, f"{pointer}/{_escape(str(key))}", name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{pointer}/{index}", context)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _embedded_json(text: str) -> Any:
    """JSON held in a string parameter (jsonHeaders, jsonBody, ...), or None."""
    stripped = text.lstrip("=").strip()
    if not stripped.startswith("{") or len(stripped) > 200_000:
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def hardcoded_secrets(node: Node) -> list[NodeSecret]:
    """Every secret typed into `node`'s parameters (headers, query, body, URLs, code)."""
    found: list[NodeSecret] = []
    for pointer, context, text in _walk(node.parameters, "/parameters", ""):
        found.extend(_judge(node, pointer, context, text))
    return found


def _judge(node: Node, pointer: str, context: str, text: str) -> Iterator[NodeSecret]:
    key = context.lower()
    if key in CODE_KEYS:
        yield from _code_literals(node, pointer, text)
        return
    embedded = _embedded_json(text)
    if embedded is not None:
        for inner_pointer, inner_context, inner in _walk(embedded, pointer, context):
            yield from _judge(node, inner_pointer, inner_context, inner)
        return
    literal = literal_part(text)
    if literal is None:
        return
    url_match = URL_USERINFO.search(literal)
    if url_match and not is_placeholder(url_match.group(1)):
        yield _secret(node, pointer, context, "password in a URL", url_match.group(1))
        return
    known = _known_token(literal)
    if known:
        yield _secret(node, pointer, context, "known token format", known)
        return
    if key not in NOT_SECRET_KEYS and SECRET_NAME.search(key) and looks_like_secret_value(literal):
        yield _secret(node, pointer, context, f"literal value in {context!r}", literal)


def _known_token(text: str) -> str | None:
    if not any(prefix in text for prefix in _KNOWN_PREFIXES):
        return None
    match = KNOWN_TOKEN.search(text)
    if match is None or is_placeholder(match.group(0)):
        return None
    return match.group(0)


def _code_literals(node: Node, pointer: str, code: str) -> Iterator[NodeSecret]:
    known = _known_token(code)
    if known:
        yield _secret(node, pointer, "code", "known token format in code", known)
        return
    for match in CODE_ASSIGNMENT.finditer(code):
        name, value = match.group(1), match.group(2)
        if (
            SECRET_NAME.search(name)
            and name.lower() not in NOT_SECRET_KEYS
            and looks_like_secret_value(value)
            and "{{" not in value
            and "${" not in value
        ):
            yield _secret(node, pointer, name, f"literal {name!r} in code", value)


def _secret(node: Node, pointer: str, field: str, reason: str, value: str) -> NodeSecret:
    return NodeSecret(
        node_name=node.name,
        node_type=node.type,
        pointer=pointer,
        field=field,
        reason=reason,
        preview=preview(AUTH_SCHEME.sub("", value)),
    )


def env_reads(node: Node) -> list[EnvRead]:
    """Every `$env.X` / `process.env.X` read in `node`'s parameters and code."""
    found: list[EnvRead] = []
    seen: set[tuple[str, str]] = set()
    for pointer, context, text in _walk(node.parameters, "/parameters", ""):
        if "env" not in text:
            continue
        for match in ENV_READ.finditer(text):
            variable = match.group(1) or match.group(2)
            if (pointer, variable) in seen:
                continue
            seen.add((pointer, variable))
            secret_like = bool(SECRET_NAME.search(variable)) or bool(SECRET_NAME.search(context))
            found.append(EnvRead(node.name, node.type, pointer, variable, secret_like))
    return found
