"""The one reader of `KEY=VALUE` lines: .env files, and the environment lists of compose files.

The scanner reads every assignment of a file (`assignments`); the .env store finds and rewrites
one variable in place (`variable_pattern`, `quote_like`). Both unquote values the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_VALUE = r"\"(?:[^\"\\\r\n]|\\.)*\"|'[^'\r\n]*'|[^ \t#\r\n]*"
# The escapes docker compose and python-dotenv undo in double quotes; any other `\X` is kept.
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "$": "$"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)

# KEY=VALUE, export KEY=VALUE, and in compose or YAML files `KEY: VALUE`, `- KEY=VALUE`,
# `"KEY": VALUE`; the value is the rest of the line, quotes and comment included.
_ANY_ASSIGNMENT = re.compile(
    rf"^[ \t]*(?:export[ \t]+)?(?:-[ \t]+)?[\"']?({NAME})[\"']?[ \t]*[:=][ \t]*(.*?)[ \t\r]*$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Assignment:
    name: str
    value: str  # unquoted
    offset: int  # where the line starts in the text


def assignments(text: str) -> Iterator[Assignment]:
    """Every assignment in `text`, in order."""
    for match in _ANY_ASSIGNMENT.finditer(text):
        yield Assignment(match.group(1), unquote(match.group(2)), match.start())


def variable_pattern(name: str) -> re.Pattern[str]:
    """The .env line that sets `name`: groups `lead`, `value` (as written) and `trail`."""
    return re.compile(
        rf"^(?P<lead>[ \t]*(?:export[ \t]+)?{re.escape(name)}[ \t]*=[ \t]*)"
        rf"(?P<value>{_VALUE})(?P<trail>[ \t]*(?:#[^\r\n]*)?)\r?$",
        re.MULTILINE,
    )


def is_variable_name(name: str) -> bool:
    return re.fullmatch(NAME, name) is not None


def unquote(written: str) -> str:
    """The value a .env line means: quotes removed (escapes undone in double quotes), a
    trailing ` # comment` of an unquoted value dropped."""
    if written[:1] == '"':
        end = _closing_double_quote(written)
        inner = written[1:end] if end > 0 else written[1:]
        return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), inner)
    if written[:1] == "'":
        end = written.find("'", 1)
        return written[1:end] if end > 0 else written[1:]
    comment = written.find(" #")
    return written[:comment].rstrip() if comment >= 0 else written


def quote_like(old: str, new: str) -> str:
    """Write `new` so that docker compose and keyturn read it back unchanged, in the style of
    `old` where that is safe: bare when nothing in it needs quotes, single quotes (no escapes,
    no `$` interpolation) when it has no `'` or line break, else double quotes with backslash,
    double quote, `$` and line breaks escaped."""
    if old[:1] not in ("'", '"') and new and not re.search(r"[\s#'\"$\\]", new):
        return new
    if old[:1] != '"' and not re.search(r"['\r\n]", new):
        return f"'{new}'"
    escaped = (
        new.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("$", "\\$")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _closing_double_quote(written: str) -> int:
    index = 1
    while index < len(written):
        if written[index] == "\\":
            index += 2
            continue
        if written[index] == '"':
            return index
        index += 1
    return -1
