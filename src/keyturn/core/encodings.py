"""The encodings a secret travels in: one list, for the scanner (an old secret still somewhere)
and for redaction (a secret in a log line, an error, an output).

A secret shows up as is; JSON-escaped (`\\"`, `\\u00fc`, `\\/`); URL-encoded (quote and
quote_plus, upper- and lower-case hex); as Python prints bytes (`\\xc3\\xbc`); as hex; and in
base64, standard or URL-safe, with or without padding, alone or inside a longer value (Basic
auth's `user:secret`, a Kubernetes secret's JSON).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import orjson

MIN_BASE64_CORE = 8  # shorter cores would match unrelated base64 too often
_PERCENT_HEX = re.compile(r"%[0-9A-F]{2}")


def encoded_forms(secret: str) -> dict[bytes, str]:
    """{the secret's bytes in one encoding: what that encoding is called}, every whole form,
    for the secret as given and in its other Unicode normal form (NFC / NFD)."""
    forms: dict[bytes, str] = {}
    normal = (unicodedata.normalize(form, secret) for form in ("NFC", "NFD"))
    for variant in dict.fromkeys((secret, *normal)):
        for needle, how in _forms_of(variant).items():
            forms.setdefault(needle, how)
    return forms


def _forms_of(secret: str) -> dict[bytes, str]:
    raw = secret.encode()
    forms: dict[bytes, str] = {}
    for needle, how in (
        (raw, "as is"),
        *((escaped, "JSON-escaped") for escaped in _json_forms(secret)),
        *((encoded, "URL-encoded") for encoded in _url_forms(secret)),
        (repr(raw)[2:-1].encode(), "as Python bytes"),
        (raw.hex().encode(), "hex"),
        (raw.hex().upper().encode(), "hex"),
        *((encoded, "base64") for encoded in _base64_forms(raw)),
    ):
        forms.setdefault(needle, how)
    return forms


def base64_cores(raw: bytes) -> Iterator[bytes]:
    """Substrings that base64 of any text containing `raw` must contain (3 alignments), in the
    standard and URL-safe alphabets; empty for a value too short to have a distinctive core."""
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = (shift * 4 + 2) // 3 + (1 if shift else 0)
        core = encoded[start : len(encoded) - 4]
        if len(core) >= MIN_BASE64_CORE:
            yield core
            yield core.replace(b"+", b"-").replace(b"/", b"_")


def _json_forms(secret: str) -> Iterator[bytes]:
    once = list(_json_escapes(secret))
    yield from (form.encode() for form in once)
    for form in once:  # JSON inside JSON: a logged request body, a Kubernetes secret manifest
        yield from (twice.encode() for twice in _json_escapes(form))


def _json_escapes(secret: str) -> Iterator[str]:
    yield orjson.dumps(secret)[1:-1].decode()  # UTF-8 kept
    ascii_only = json.dumps(secret)[1:-1]  # \u00fc, as Python's json and many loggers write
    yield ascii_only
    yield re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), ascii_only)
    yield ascii_only.replace("/", "\\/")  # PHP and some Java encoders escape `/`


_WHATWG_QUERY_SAFE = "".join(chr(i) for i in range(0x21, 0x7F) if chr(i) not in '"#<>')
_WHATWG_PATH_SAFE = "".join(c for c in _WHATWG_QUERY_SAFE if c not in "?`{}")


def _url_forms(secret: str) -> Iterator[bytes]:
    # And as a URL's path and query are written by WHATWG rules, as httpx logs them.
    path, query = quote(secret, safe=_WHATWG_PATH_SAFE), quote(secret, safe=_WHATWG_QUERY_SAFE)
    for encoded in (
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret),
        path,
        query,
    ):
        yield encoded.encode()
        yield _PERCENT_HEX.sub(lambda m: m.group().lower(), encoded).encode()


def _base64_forms(raw: bytes) -> Iterator[bytes]:
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        yield encoded
        yield encoded.rstrip(b"=")
