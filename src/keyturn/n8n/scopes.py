"""Which API key scope each n8n public API operation needs (from n8n's own OpenAPI spec)."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

_PARAM = re.compile(r"\{[^/}]+\}")


@cache
def _operations() -> list[tuple[str, re.Pattern[str], str]]:
    text = resources.files("keyturn").joinpath("data/n8n_scopes.json").read_text()
    rows = json.loads(text)["operations"]
    compiled = []
    for row in rows:
        compiled.append((row["method"], _path_pattern(row["path"]), row["scope"]))
    # Literal segments beat parameters: /credentials/schema/x before /credentials/{id}.
    compiled.sort(key=lambda item: item[1].pattern.count("[^/]+"))
    return compiled


def _path_pattern(template: str) -> re.Pattern[str]:
    segments = [
        "[^/]+" if _PARAM.fullmatch(segment) else re.escape(segment)
        for segment in template.split("/")
    ]
    return re.compile("^" + "/".join(segments) + "$")


def required_scope(method: str, path: str) -> str | None:
    """The scope for `METHOD /path` (path relative to /api/v1), or None when unknown."""
    path = path.split("?", 1)[0]
    for op_method, pattern, scope in _operations():
        if op_method == method.upper() and pattern.match(path):
            return None if scope == "none" else scope
    return None
