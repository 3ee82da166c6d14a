"""Where an old secret survives, also when encoded: base64 (also inside `user:password` Basic
auth), URL-encoding, JSON string escaping, hex. Searched in raw bytes, so it is fast."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import orjson

from keyturn.detect.rules import OLD_SECRET
from keyturn.detect.values import Hit

_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{12,}={0,2}")


@dataclass(frozen=True)
class _Variant:
    needle: bytes
    encoding: str
    secret: str


def _base64_cores(secret: bytes) -> Iterator[bytes]:
    """Substrings that base64 of any text containing `secret` must contain (3 alignments)."""
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret)
        start = (shift * 4 + 2) // 3 + (1 if shift else 0)
        core = encoded[start : len(encoded) - 4]
        if len(core) >= 8:
            yield core
            yield core.replace(b"+", b"-").replace(b"/", b"_")


class OldSecrets:
    """The values given with --old-secret, and every encoded form keyturn looks for."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [secret for secret in secrets if secret]
        self._variants: list[_Variant] = []
        for secret in self.secrets:
            raw = secret.encode()
            forms: dict[bytes, str] = {}
            for needle, how in (
                (raw, "as is"),
                (orjson.dumps(secret)[1:-1], "JSON-escaped"),
                (quote(secret, safe="").encode(), "URL-encoded"),
                (quote_plus(secret, safe="").encode(), "URL-encoded"),
                (raw.hex().encode(), "hex"),
                (raw.hex().upper().encode(), "hex"),
                (base64.b64encode(raw), "base64"),
                (base64.urlsafe_b64encode(raw), "base64"),
                *(
                    (core, "base64 (inside a longer value, e.g. Basic auth)")
                    for core in _base64_cores(raw)
                ),
            ):
                forms.setdefault(needle, how)
            self._variants.extend(_Variant(needle, how, secret) for needle, how in forms.items())

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def find_in(self, data: bytes) -> Iterator[tuple[int, Hit]]:
        """(offset, hit) for every occurrence; one hit per offset (the most direct encoding)."""
        seen: set[int] = set()
        for variant in self._variants:
            start = data.find(variant.needle)
            while start >= 0:
                if start not in seen and not any(abs(start - other) < 4 for other in seen):
                    seen.add(start)
                    yield (
                        start,
                        Hit(OLD_SECRET, variant.secret, "", f"old secret, {variant.encoding}"),
                    )
                start = data.find(variant.needle, start + 1)
        yield from self._basic_auth(data, seen)

    def _basic_auth(self, data: bytes, seen: set[int]) -> Iterator[tuple[int, Hit]]:
        """`Basic dXNlcjpwYXNz` whose decoded `user:password` holds an old secret."""
        if b"asic" not in data:
            return
        for match in re.finditer(rb"[Bb]asic\s+(" + _BASE64_RUN.pattern + rb")", data):
            start = match.start(1)
            if start in seen:
                continue
            try:
                decoded = base64.b64decode(match.group(1) + b"==", validate=False)
            except (binascii.Error, ValueError):
                continue
            for secret in self.secrets:
                if secret.encode() in decoded:
                    seen.add(start)
                    yield start, Hit(OLD_SECRET, secret, "", "old secret, in Basic auth")
                    break
