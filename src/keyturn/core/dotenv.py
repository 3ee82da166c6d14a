"""The one reader of `KEY=VALUE` lines: .env files, and the environment lists of compose files.

The scanner reads every assignment of a file (`assignments`). The .env store reads a .env as
python-dotenv's parser does, finds the last assignment of one variable (the one docker compose
and python-dotenv use: `last_assignment`) and rewrites its value in place (`quote_like`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import NamedTuple

NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
# The escapes docker compose and python-dotenv undo in double quotes; any other `\X` is kept.
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "$": "$"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)

# KEY=VALUE, export KEY=VALUE, and in compose or YAML files `KEY: VALUE`, `- KEY=VALUE`,
# `"KEY": VALUE`; the value is the rest of the line, quotes and comment included (its
# trailing blanks are stripped after: a lazy group before them took time in the square of a
# run of blanks inside the line).
_ANY_ASSIGNMENT = re.compile(
    rf"^[ \t]*(?:export[ \t]+)?(?:-[ \t]+)?[\"']?({NAME})[\"']?[ \t]*[:=][ \t]*(.*)$",
    re.MULTILINE,
)


class Assignment(NamedTuple):
    name: str
    value: str  # unquoted
    offset: int  # where the line starts in the text


def assignments(text: str) -> Iterator[Assignment]:
    """Every assignment in `text`, in order."""
    for match in _ANY_ASSIGNMENT.finditer(text):
        yield Assignment(match.group(1), unquote(match.group(2).rstrip(" \t\r")), match.start())


class ValueSpan(NamedTuple):
    """Where the value of one assignment is written in a .env text."""

    start: int
    end: int
    written: str  # as written: quotes and escapes included
    value: str  # as python-dotenv (and keyturn) reads it


_SPACE = r"[^\S\r\n]"  # a blank inside one line
_EOL = r"(?:\r\n|\n|\r)?"
_QUOTED = r"'(?:\\[\s\S]|[^'\\])*'|\"(?:\\[\s\S]|[^\"\\])*\""


def _binding_pattern(name: str) -> re.Pattern[str]:
    """One binding of `name` as python-dotenv's parser cuts it: a quoted value then an optional
    comment, or an unquoted value that ends where ` #` starts a comment (`KEY= #x` is empty,
    `KEY=#x` is `#x`)."""
    key = re.escape(name)
    lead = rf"\s*(?:export{_SPACE}+)?(?:{key}|'{key}'){_SPACE}*={_SPACE}*"
    bare = r"(?:(?<==)|(?!#))[^\r\n]*?"
    return re.compile(
        rf"(?P<lead>{lead})(?:(?P<quoted>{_QUOTED}){_SPACE}*(?:#[^\r\n]*)?"
        rf"|(?P<bare>{bare})(?:{_SPACE}+#[^\r\n]*)?){_SPACE}*{_EOL}"
    )


def dotenv_bindings(text: str) -> Iterator[tuple[int, str, str | None, str]]:
    """(offset, name, value, text) of each assignment, read by python-dotenv's parser; lines
    it cannot read and comments are skipped."""
    from dotenv.parser import parse_stream  # here: the scanner reads .env files without it

    offset = 1 if text.startswith("\ufeff") else 0  # the parser drops a byte order mark
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        if binding.key is not None and not binding.error:
            yield offset, binding.key, binding.value, original
        offset += len(original)


def dotenv_values_of(text: str) -> dict[str, str | None]:
    """Every variable's value (the last assignment wins), as written: no `${...}` expansion."""
    return {name: value for _, name, value, _ in dotenv_bindings(text)}


def last_assignment(text: str, name: str) -> ValueSpan | None:
    """The last assignment of `name` (the one dotenv readers use), or None."""
    found = None
    for offset, key, value, original in dotenv_bindings(text):
        if key == name:
            found = (offset, value, original)
    if found is None or found[1] is None:
        return None
    offset, value, original = found
    match = _binding_pattern(name).fullmatch(original)
    if match is None:
        return None
    group = "quoted" if match.group("quoted") is not None else "bare"
    start, end = offset + match.start(group), offset + match.end(group)
    return ValueSpan(start, end, text[start:end], value or "")


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


def quote_like(old: str, new: str) -> str | None:
    """Write `new` so that python-dotenv and docker compose read it back unchanged, in the
    style of `old` where that is safe: bare when nothing in it needs quotes; double quotes (a
    backslash, double quote and line breaks escaped) when `old` had them and `new` has no `$`;
    single quotes (taken literally by both) when it has no `'`, backslash or line break; else
    double quotes when it has no `$`. None when it has a `$` and needs double quotes: compose
    expands `$` there unless written `\\$`, which python-dotenv keeps; no quoting suits both."""
    if old[:1] not in ("'", '"') and new and not re.search(r"[\s#'\"`$\\]", new):
        return new
    double_quoted = "$" not in new
    if old[:1] == '"' and double_quoted:
        return _double_quoted(new)
    if not re.search(r"['\\\r\n]", new):
        return f"'{new}'"
    return _double_quoted(new) if double_quoted else None


def _double_quoted(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


# A double-quoted value up to its closing quote: a backslash escapes the character after it.
# (Unrolled, so the regex runs through the plain characters in one loop: a PEM block in a
# .env value is 1,700 of them, which a loop in Python took 160 us to walk. Possessive: no
# backtracking state is kept, which took 57 bytes per byte of a run of escapes.)
_DOUBLE_QUOTED = re.compile(r'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"')


def _closing_double_quote(written: str) -> int:
    match = _DOUBLE_QUOTED.match(written)
    return match.end() - 1 if match else -1
