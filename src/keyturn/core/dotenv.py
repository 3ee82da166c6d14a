"""The one reader of `KEY=VALUE` lines: .env files, and the environment lists of compose files.

The scanner reads every assignment of a file (`assignments`); the .env store finds and rewrites
one variable in place (`variable_pattern`, `quote_like`). Both unquote values the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_VALUE = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^ \t#\n]*"

# KEY=VALUE, export KEY=VALUE, and in compose or YAML files `KEY: VALUE`, `- KEY=VALUE`,
# `"KEY": VALUE`; the value is the rest of the line, quotes and comment included.
_ANY_ASSIGNMENT = re.compile(
    rf"^[ \t]*(?:export[ \t]+)?(?:-[ \t]+)?[\"']?({NAME})[\"']?[ \t]*[:=][ \t]*(.*?)[ \t]*$",
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
        rf"(?P<value>{_VALUE})(?P<trail>[ \t]*(?:#.*)?)$",
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
        return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), inner)
    if written[:1] == "'":
        end = written.find("'", 1)
        return written[1:end] if end > 0 else written[1:]
    comment = written.find(" #")
    return written[:comment].rstrip() if comment >= 0 else written


def quote_like(old: str, new: str) -> str:
    """Write `new` quoted as `old` was (double quotes when the new value needs them)."""
    if old[:1] == "'" and "'" not in new and "\n" not in new:
        return f"'{new}'"
    if old[:1] == '"' or re.search(r"[\s#'\"$\\]", new):
        escaped = new.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return new


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
