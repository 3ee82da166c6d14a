"""Secrets typed into n8n node parameters, and secrets read from `$env`.

A node's parameters are walked once. Each string is judged with its context: the parameter's
key, or the `name` of n8n's `{name, value}` pairs (headers, query and body parameters).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from keyturn.scan.detect import CODE_KEYS, SECRET_NAME, Hit, code_hits, judge, preview

if TYPE_CHECKING:  # the scanner itself never loads pydantic
    from keyturn.n8n.models import Node

ENV_READ = re.compile(
    r"""(?:\$env|process\.env)(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([^"']+)["']\s*\])"""
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
    hit: Hit


@dataclass(frozen=True)
class EnvRead:
    """A node reading a value from n8n's environment (`$env.X` or `process.env.X`)."""

    node_name: str
    node_type: str
    pointer: str
    variable: str
    secret_like: bool


def escape_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def walk_strings(value: Any, pointer: str, context: str) -> Iterator[tuple[str, str, str]]:
    """Yield (JSON pointer, context name, string) for every string under `value`.

    The context of a string is its key, or for n8n's `{name, value}` pairs, the pair's name.
    """
    if isinstance(value, str):
        yield pointer, context, value
    elif isinstance(value, dict):
        pair_name = value.get("name") if isinstance(value.get("value"), str) else None
        for key, item in value.items():
            name = pair_name if key == "value" and isinstance(pair_name, str) else str(key)
            yield from walk_strings(item, f"{pointer}/{escape_pointer(str(key))}", name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, f"{pointer}/{index}", context)


def embedded_json(text: str) -> Any:
    """JSON held in a string parameter (jsonHeaders, jsonBody, ...), or None."""
    if "{" not in text[:3]:
        return None
    stripped = text.lstrip("=").strip()
    if not stripped.startswith("{") or "{{" in stripped:
        return None
    try:
        return orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None


def value_hits(context: str, text: str) -> Iterator[Hit]:
    """Every secret in one node parameter string (code, embedded JSON, or a plain value)."""
    if context.lower() in CODE_KEYS:
        yield from code_hits(text)
        return
    embedded = embedded_json(text)
    if isinstance(embedded, dict | list):
        for _, inner_context, inner in walk_strings(embedded, "", context):
            yield from value_hits(inner_context, inner)
        return
    hit = judge(context, text)
    if hit is not None:
        yield hit


def hardcoded_secrets(node: Node) -> list[NodeSecret]:
    """Every secret typed into `node`'s parameters (headers, query, body, URLs, code)."""
    found: list[NodeSecret] = []
    for pointer, context, text in walk_strings(node.parameters, "/parameters", ""):
        for hit in value_hits(context, text):
            found.append(
                NodeSecret(
                    node.name, node.type, pointer, hit.field, hit.detail, preview(hit.value), hit
                )
            )
    return found


def env_reads_in(text: str, context: str) -> Iterator[tuple[str, bool]]:
    """(variable, secret-like) for every `$env.X` / `process.env.X` read in `text`."""
    if "env" not in text:
        return
    for match in ENV_READ.finditer(text):
        variable = match.group(1) or match.group(2)
        yield variable, bool(SECRET_NAME.search(variable)) or bool(SECRET_NAME.search(context))


def env_reads(node: Node) -> list[EnvRead]:
    """Every `$env.X` / `process.env.X` read in `node`'s parameters and code."""
    found: list[EnvRead] = []
    seen: set[tuple[str, str]] = set()
    for pointer, context, text in walk_strings(node.parameters, "/parameters", ""):
        for variable, secret_like in env_reads_in(text, context):
            if (pointer, variable) not in seen:
                seen.add((pointer, variable))
                found.append(EnvRead(node.name, node.type, pointer, variable, secret_like))
    return found
