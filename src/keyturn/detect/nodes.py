"""Secrets typed into one n8n node's parameters, and secrets read from `$env`, for the
inventory. The judging is the scanner's own (documents.parameter_hits): one set of rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keyturn.detect.documents import parameter_hits
from keyturn.detect.values import Hit, env_reads_in, escape_pointer, preview

if TYPE_CHECKING:  # the scanner itself never loads pydantic
    from keyturn.n8n.models import Node


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


def hardcoded_secrets(node: Node) -> list[NodeSecret]:
    """Every secret typed into `node`'s parameters (headers, query, body, URLs, code)."""
    return [
        NodeSecret(node.name, node.type, pointer, hit.field, hit.detail, preview(hit.value), hit)
        for hit, pointer in parameter_hits(node.parameters, "/parameters")
    ]


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
