"""The small part of n8n's expression language its credential types use, evaluated safely.

A credential type's test request and `authenticate` carry values such as
`={{$credentials.apiKey}}`, `=Bearer {{$credentials.accessToken}}`, `={{$credentials?.url}}` or
`={{$credentials.url.replace(/\\/$/, '')}}`. keyturn evaluates exactly the forms that occur in
the pinned n8n's table (scripts/gen_n8n_tables.py lists them) with a parser of its own: field
reads, string and number literals, `||`, `??`, `+`, `===`, `!==`, `? :`, parentheses, and the
string methods replace, trim, startsWith, endsWith, split, pop, toLowerCase, toUpperCase, with
regular expressions limited to plain characters, classes and anchors. Anything else raises
`ExpressionError` (keyturn then does not probe, and says why): no JavaScript is ever run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 500  # longer expressions are not among n8n's credential types


class ExpressionError(ValueError):
    """An expression outside the subset keyturn evaluates, or a value it cannot give."""


class _Undefined:
    """JavaScript's `undefined`: a field the credential does not have."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()


@dataclass(frozen=True)
class _Regex:
    pattern: re.Pattern[str]
    global_: bool


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<field>\$credentials\s*(?:\?\.|\.)\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*))
  | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
  | (?P<number>\d+)
  | (?P<op>===|!==|\|\||\?\?|\?\.|[?:+().,\[\]])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<regex>/(?:\\.|\[[^\]\\]*\]|[^/\\\n\[])+/[gi]*)
    """,
    re.VERBOSE,
)
_SAFE_REGEX = re.compile(
    r"^(?:\\[/.+*?$^\\\-sdw]|\[[^\]\\]*\]|[A-Za-z0-9 _:@#%&=,;<>'\"!~/-]|[$^+*?.])*$"
)
_METHODS = {
    "replace",
    "trim",
    "startsWith",
    "endsWith",
    "split",
    "pop",
    "toLowerCase",
    "toUpperCase",
}


def render(value: Any, fields: Mapping[str, Any]) -> Any:
    """A parameter of a credential type with `fields` filled in: a value that is not an
    expression (`=...`) is returned as is; an expression's `{{ }}` parts are evaluated."""
    if not isinstance(value, str) or not value.startswith("="):
        return value
    text = value[1:]
    parts = re.split(r"(\{\{.*?\}\})", text, flags=re.S)
    if len(parts) == 3 and not parts[0] and not parts[2]:  # one expression: keep its type
        return evaluate(parts[1][2:-2], fields)
    out = []
    for part in parts:
        if part.startswith("{{") and part.endswith("}}"):
            out.append(_as_text(evaluate(part[2:-2], fields)))
        else:
            out.append(part)
    return "".join(out)


def evaluate(expression: str, fields: Mapping[str, Any]) -> Any:
    """The value of one `{{ }}` expression over the credential's `fields`."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionError("the expression is longer than any keyturn knows")
    tokens = _tokens(expression)
    _refuse_deep_nesting(tokens)
    parser = _Parser(tokens, fields)
    result = parser.expression()
    leftover = parser.peek()
    if leftover is not None:
        raise ExpressionError(f"unexpected {leftover[1]!r} in the expression")
    return result


MAX_DEPTH = 16  # n8n's own expressions nest two or three levels


def _refuse_deep_nesting(tokens: list[tuple[str, str]]) -> None:
    depth = 0
    for kind, text in tokens:
        if kind == "op" and text in "([":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError("the expression nests deeper than any keyturn knows")
        elif kind == "op" and text in ")]":
            depth -= 1


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"keyturn does not evaluate {text[position : position + 12]!r}")
        kind = match.lastgroup or ""
        if kind == "name":  # the named group inside `field`
            kind = "field"
        if kind != "space":
            value = match.group("name") if kind == "field" else match.group(kind)
            tokens.append((kind, value))
        position = match.end()
    return tokens


def _truthy(value: Any) -> bool:
    return value not in (UNDEFINED, None, False, "", 0) and value == value  # NaN is falsy


def _as_text(value: Any) -> str:
    if value is UNDEFINED or value is None:
        raise ExpressionError("a field the expression needs has no value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_text(item) for item in value)
    return str(value)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], fields: Mapping[str, Any]) -> None:
        self.tokens = tokens
        self.index = 0
        self.fields = fields

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            found = repr(token[1]) if token else "the end"
            raise ExpressionError(f"expected {value or kind}, found {found}")
        self.index += 1
        return token[1]

    def accept(self, value: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] == value:
            self.index += 1
            return True
        return False

    def expression(self) -> Any:
        condition = self.logical()
        if self.accept("?"):
            when_true = self.expression()
            self.take("op", ":")
            when_false = self.expression()
            return when_true if _truthy(condition) else when_false
        return condition

    def logical(self) -> Any:
        value = self.equality()
        while True:
            if self.accept("||"):
                right = self.equality()
                value = value if _truthy(value) else right
            elif self.accept("??"):
                right = self.equality()
                value = right if value is UNDEFINED or value is None else value
            else:
                return value

    def equality(self) -> Any:
        value = self.addition()
        for operator in ("===", "!=="):
            if self.accept(operator):
                right = self.addition()
                same = type(value) is type(right) and value == right
                return same if operator == "===" else not same
        return value

    def addition(self) -> Any:
        value = self.postfix()
        while self.accept("+"):
            right = self.postfix()
            if isinstance(value, int | float) and isinstance(right, int | float):
                value = value + right
            else:
                value = _as_text(value) + _as_text(right)
        return value

    def postfix(self) -> Any:
        value = self.primary()
        while True:
            if self.accept("?."):
                if value is UNDEFINED or value is None:
                    self._skip_call()
                    return UNDEFINED
                value = self.call(value)
            elif self.accept("."):
                value = self.call(value)
            elif self.accept("["):
                position = int(self.take("number"))
                self.take("op", "]")
                value = (
                    value[position]
                    if isinstance(value, list) and position < len(value)
                    else UNDEFINED
                )
            else:
                return value

    def _skip_call(self) -> None:
        """`a?.b(...)` on undefined: the call is not made (its arguments are still checked)."""
        self.take("word")
        self.take("op", "(")
        if not self.accept(")"):
            self.arguments()

    def call(self, target: Any) -> Any:
        method = self.take("word")
        if method not in _METHODS:
            raise ExpressionError(f"keyturn does not evaluate the method {method}()")
        self.take("op", "(")
        arguments = [] if self.accept(")") else self.arguments()
        return _METHOD_TABLE[method](target, arguments)

    def arguments(self) -> list[Any]:
        values = [self.expression()]
        while self.accept(","):
            values.append(self.expression())
        self.take("op", ")")
        return values

    def primary(self) -> Any:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        kind, text = token
        self.index += 1
        if kind == "field":
            return self.fields.get(text, UNDEFINED)
        if kind == "string":
            return _unquote(text)
        if kind == "number":
            return int(text)
        if kind == "regex":
            return _regex(text)
        if kind == "op" and text == "(":
            value = self.expression()
            self.take("op", ")")
            return value
        if kind == "word" and text in ("true", "false"):
            return text == "true"
        if kind == "word" and text == "new":
            return self.new_regexp()
        raise ExpressionError(f"keyturn does not evaluate {text!r}")

    def new_regexp(self) -> _Regex:
        """`new RegExp("pattern"[, "flags"])`, written literally: a pattern taken from a
        field would be a user's regular expression."""
        self.take("word", "RegExp")
        self.take("op", "(")
        literals = [_unquote(self.take("string"))]
        if self.accept(","):
            literals.append(_unquote(self.take("string")))
        self.take("op", ")")
        flags = literals[1] if len(literals) == 2 else ""
        return _regex(f"/{literals[0]}/{flags}", escaped=False)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _regex(literal: str, escaped: bool = True) -> _Regex:
    body, _, flags = literal[1:].rpartition("/")
    if set(flags) - {"g", "i"} or not _SAFE_REGEX.match(body):
        raise ExpressionError(f"keyturn does not evaluate the regular expression {literal}")
    pattern = body.replace("\\/", "/") if escaped else body
    try:
        compiled = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
    except re.error:
        raise ExpressionError(f"the regular expression {literal} does not compile") from None
    return _Regex(compiled, "g" in flags)


def _text(target: Any, method: str) -> str:
    if not isinstance(target, str):
        raise ExpressionError(f"{method}() on a value that is not text ({target!r})")
    return target


def _replace(target: Any, arguments: list[Any]) -> str:
    text = _text(target, "replace")
    if len(arguments) != 2 or not isinstance(arguments[1], str):
        raise ExpressionError("replace() needs a pattern and a replacement text")
    pattern, replacement = arguments
    if isinstance(pattern, _Regex):
        literal = replacement.replace("\\", "\\\\")
        return pattern.pattern.sub(literal, text, count=0 if pattern.global_ else 1)
    if isinstance(pattern, str):
        return text.replace(pattern, replacement, 1)
    raise ExpressionError("replace() needs a text or a regular expression")


def _one_text(arguments: list[Any], method: str) -> str:
    if len(arguments) != 1 or not isinstance(arguments[0], str):
        raise ExpressionError(f"{method}() needs one text")
    return arguments[0]


def _no_arguments(method: str, action: Callable[[str], Any]) -> Callable[[Any, list[Any]], Any]:
    def run(target: Any, arguments: list[Any]) -> Any:
        if arguments:
            raise ExpressionError(f"{method}() takes no argument")
        return action(_text(target, method))

    return run


def _pop(target: Any, arguments: list[Any]) -> Any:
    if arguments or not isinstance(target, list):
        raise ExpressionError("pop() works on a list only")
    return target[-1] if target else UNDEFINED


_METHOD_TABLE: dict[str, Callable[[Any, list[Any]], Any]] = {
    "replace": _replace,
    "trim": _no_arguments("trim", str.strip),
    "toLowerCase": _no_arguments("toLowerCase", str.lower),
    "toUpperCase": _no_arguments("toUpperCase", str.upper),
    "startsWith": lambda t, a: _text(t, "startsWith").startswith(_one_text(a, "startsWith")),
    "endsWith": lambda t, a: _text(t, "endsWith").endswith(_one_text(a, "endsWith")),
    "split": lambda t, a: _split(_text(t, "split"), _one_text(a, "split")),
    "pop": _pop,
}


def _split(text: str, separator: str) -> list[str]:
    if not separator:
        raise ExpressionError("split() by an empty text")  # characters: no table needs it
    return text.split(separator)
