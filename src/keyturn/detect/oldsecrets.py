"""Where an old secret survives, also when encoded: base64 (also inside `user:password` Basic
auth), URL-encoding, JSON string escaping, hex. Searched in raw bytes, so it is fast."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import NamedTuple

from keyturn.core.encodings import base64_cores, encoded_forms
from keyturn.detect.rules import OLD_SECRET
from keyturn.detect.values import Hit

_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{12,}={0,2}")


class _Variant(NamedTuple):
    needle: bytes
    encoding: str
    secret: str


class OldSecrets:
    """The values given with --old-secret, and every encoded form keyturn looks for (the list
    that redaction hides, core/encodings.py)."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [secret for secret in secrets if secret]
        self._variants: list[_Variant] = []
        for secret in self.secrets:
            forms = encoded_forms(secret)
            for core in base64_cores(secret.encode()):
                forms.setdefault(core, "base64 (inside a longer value, e.g. Basic auth)")
            self._variants.extend(
                _Variant(needle, how, secret) for needle, how in _shortest(forms).items()
            )

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


def _shortest(forms: dict[bytes, str]) -> dict[bytes, str]:
    """The forms without those that contain another of the same kind (padded base64 holds the
    unpadded): one search finds both."""
    return {
        needle: how
        for needle, how in forms.items()
        if not any(other != needle and other in needle and forms[other] == how for other in forms)
    }
