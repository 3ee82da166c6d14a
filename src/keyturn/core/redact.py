"""Keep secrets out of logs and output.

Every secret keyturn handles is registered here the moment it is read. The logging filter and
the CLI's error printer pass all text through `redact`, so no feature can leak a registered
value by accident, even in a traceback or a third-party library's log line; and in whatever
encoding it travels (core/encodings.py: URL-encoded in a query, JSON-escaped, base64 in a
Basic auth header, hex...).

A library may log a secret before keyturn has seen it (botocore logs the CreateAccessKey
answer it is parsing), so log records are also cleared of the values of well-known
secret-bearing fields (`<SecretAccessKey>`, `"client_token"`, `X-Vault-Token:`, `api_key=`...),
and the libraries' own logs stay at WARNING unless asked for with `-vvv`.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from dataclasses import dataclass
from typing import Any

import ahocorasick
import orjson

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 4

# Libraries whose debug logs carry requests and answers: quiet unless asked for (-vvv).
THIRD_PARTY_LOGGERS = (
    "botocore", "boto3", "s3transfer", "urllib3", "requests", "httpx", "httpcore", "h11",
    "hpack", "hvac", "sqlalchemy", "alembic", "asyncio", "charset_normalizer", "filelock",
)  # fmt: skip

_BASE64_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_BASE64_RUN_RIGHT = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


@dataclass(frozen=True)
class _Needle:
    length: int
    base64: bool  # a match is widened to the whole base64 value around it


_PLAIN = _Needle(0, base64=False)


_lock = threading.Lock()
_known: set[str] = set()
_needles: dict[str, _Needle] = {}  # every registered secret in every encoding
# The needles in one Aho-Corasick automaton: one pass over a text finds them all, however many
# secrets and encodings. Built on the first `redact` after a registration.
_automaton: ahocorasick.Automaton | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` hides it wherever it appears, however encoded."""
    global _automaton
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _known:
            return
        _known.add(value)
        for needle, base64 in _needles_of(value).items():
            _needles[needle] = _Needle(len(needle), base64 or _needles.get(needle, _PLAIN).base64)
        _automaton = None


def forget_secrets() -> None:
    """Forget every registered secret (for tests)."""
    global _automaton
    with _lock:
        _known.clear()
        _needles.clear()
        _automaton = None


def _needles_of(secret: str) -> dict[str, bool]:
    """{the secret in one encoding: whether that is base64}"""
    # Imported here: `keyturn --help` registers no secret and need not load the encoders.
    from keyturn.core.encodings import base64_cores, encoded_forms

    needles: dict[str, bool] = {}
    for form, how in encoded_forms(secret).items():
        needle = form.decode("utf-8")
        needles[needle] = needles.get(needle, False) or how == "base64"
    for core in base64_cores(secret.encode()):
        needles[core.decode("ascii")] = True
    return needles


def _current_automaton() -> ahocorasick.Automaton | None:
    global _automaton
    with _lock:
        if _automaton is None and _needles:
            automaton = ahocorasick.Automaton()
            for needle, kind in _needles.items():
                automaton.add_word(needle, kind)
            automaton.make_automaton()
            _automaton = automaton
        return _automaton


def redact(text: str) -> str:
    """Replace every registered secret in `text`, in any encoding keyturn knows, with a marker."""
    automaton = _current_automaton() if text else None
    if automaton is None:
        return text
    found: list[tuple[int, int]] = []
    for last, needle in automaton.iter(text):
        start, end = last + 1 - needle.length, last + 1
        found.append(_whole_base64_run(text, start, end) if needle.base64 else (start, end))
    if not found:
        return text
    parts: list[str] = []
    previous = 0
    for start, end in _merged(found):
        parts.append(text[previous:start])
        parts.append(REDACTED)
        previous = end
    parts.append(text[previous:])
    return "".join(parts)


def redact_document(document: Any) -> Any:
    """A JSON-like document with every string (keys too) redacted, numbers and booleans left as
    they are: redacting the serialised text could turn a short secret that looks like `1234`
    or `true` into a marker that breaks the JSON.

    One pass over the serialised document first: a large report (a scan's, 20,000 findings)
    that holds no secret is returned as it is, without a walk over every string.
    """
    automaton = _current_automaton()
    if automaton is None:
        return document
    try:
        text = orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return _redact_values(document)
    if next(automaton.iter(text), None) is None:
        return document
    return _redact_values(document)


def _redact_values(document: Any) -> Any:
    if isinstance(document, str):
        return redact(document)
    if isinstance(document, dict):
        return {redact(str(key)): _redact_values(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [_redact_values(item) for item in document]
    return document


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans as one (a secret may contain another)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _whole_base64_run(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a base64 match to the value around it (`dXNlcjpzZWNyZXQ=` of `user:secret`)."""
    while start > 0 and text[start - 1] in _BASE64_CHARACTERS:
        start -= 1
    right = _BASE64_RUN_RIGHT.match(text, end)
    return start, right.end() if right else end


# Fields whose value is a secret, in the shapes libraries log them: XML elements (AWS's query
# APIs), JSON and Python-repr keys (`"client_token": "..."`, `'X-Vault-Token': b'...'`),
# headers and query or form parameters (`Authorization: Bearer ...`, `api_key=...`).
SECRET_FIELDS = (
    "SecretAccessKey", "aws_secret_access_key", "secret_access_key", "SessionToken",
    "aws_session_token", "session_token", "secret_id", "secretId", "client_token",
    "client_secret", "clientSecret", "X-Amz-Security-Token", "X-Vault-Token", "Authorization",
    "Proxy-Authorization",
    "X-N8N-API-KEY", "X-API-Key", "X-Admin-Token", "api_key", "apiKey", "api-key", "access_token",
    "accessToken", "refresh_token", "refreshToken", "id_token", "token", "secret", "password",
    "passwd", "private_key", "privateKey", "Signature", "Cookie", "Set-Cookie",
    "n8n-auth",  # n8n's session cookie (a JWT), as `n8n-auth=...` inside a cookie header
)  # fmt: skip
_NAME = (  # longest first, so that `secret` does not stop at the start of `secret_id`
    "(?P<name>" + "|".join(re.escape(f) for f in sorted(SECRET_FIELDS, key=len, reverse=True)) + ")"
)
_QUOTED_VALUE = r"""(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\\"(?:.*?)\\")"""
_SECRET_FIELD_SHAPES = (
    # <SecretAccessKey>value</SecretAccessKey>
    (
        re.compile(f"<{_NAME}>[^<]*</(?P=name)>", re.IGNORECASE),
        f"<\\g<name>>{REDACTED}</\\g<name>>",
    ),
    # "name": "value", 'name': b'value', \"name\":\"value\", name='value'
    (
        re.compile(
            rf"""(?P<key>(?<![\w-])(?P<q>\\?["']?){_NAME}(?P=q)\s*[:=]\s*b?){_QUOTED_VALUE}""",
            re.IGNORECASE,
        ),
        f'\\g<key>"{REDACTED}"',
    ),
    # (b'set-cookie', b'value'): a header as httpcore logs a response's headers
    (
        re.compile(
            rf"""(?P<key>\(\s*b?(?P<q>["']){_NAME}(?P=q)\s*,\s*b?){_QUOTED_VALUE}""",
            re.IGNORECASE,
        ),
        f'\\g<key>"{REDACTED}"',
    ),
    # name: Bearer value, name=value (a header, a query or form parameter, key=value text)
    (
        re.compile(
            rf"(?P<key>(?<![\w-]){_NAME}(?![\w-])\s*[:=]\s*)"
            r"(?:(?:Bearer|Basic|Token|Digest|AWS4-HMAC-SHA256)\s+)?[^\s&,;\"'<>()\[\]{}]+",
            re.IGNORECASE,
        ),
        f"\\g<key>{REDACTED}",
    ),
    # Bearer value, Basic value (an Authorization header's value on its own; a token has a
    # digit or a sign in it, an English word after "Basic" has not)
    (
        re.compile(
            r"\b(?P<scheme>Bearer|Basic)\s+(?=[A-Za-z._~-]*[0-9+/=])[A-Za-z0-9._~+/=-]{8,}",
            re.IGNORECASE,
        ),
        f"\\g<scheme> {REDACTED}",
    ),
    # scheme://user:password@host
    (re.compile(r"(?P<key>://[^/\s:@]+:)[^/\s@]+@"), f"\\g<key>{REDACTED}@"),
)


def mask_secret_fields(text: str) -> str:
    """Replace the values of well-known secret-bearing fields, for text keyturn did not write
    (a library's log line may carry a secret keyturn has not seen yet)."""
    for pattern, replacement in _SECRET_FIELD_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record once and removes secrets: registered ones in
    every encoding, and the values of secret-bearing fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message += "\n" + record.stack_info
            record.stack_info = None
        record.msg = mask_secret_fields(redact(message))
        record.args = None
        return True


class _QuietLibraries(logging.Filter):
    """Drops other libraries' records below WARNING, also from a logger that set its own level."""

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name == "keyturn" or record.name.startswith("keyturn.")
        return own or record.levelno >= logging.WARNING


def configure_logging(level: str | int, *, third_party: bool = False) -> None:
    """Log to stderr through the redacting filter: keyturn's own logs at `level` (DEBUG, INFO,
    ... or a number); other libraries' at WARNING, unless `third_party` (then at `level` too)."""
    if isinstance(level, str):
        resolved = logging.getLevelName(level.strip().upper())
        level = resolved if isinstance(resolved, int) else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    if not third_party:
        handler.addFilter(_QuietLibraries())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_keyturn", False):
            root.removeHandler(existing)
    handler._keyturn = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    quiet = max(level, logging.WARNING)
    root.setLevel(level if third_party else quiet)
    logging.getLogger("keyturn").setLevel(level)
    for name in THIRD_PARTY_LOGGERS:  # so that they do not even build their debug records
        logging.getLogger(name).setLevel(logging.NOTSET if third_party else quiet)
