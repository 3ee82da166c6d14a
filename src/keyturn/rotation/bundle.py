"""Several secret fields rotated together (a key and its secret, two keys a type needs at
once) travel through the protocol and the journal as one value, so that every step (saved
before anything changes, probed, set, rolled back) handles them as a unit.

A single field stays its plain value, so its fingerprint is the value's own and matches the
copies in stores; several become one JSON object behind a prefix no real secret starts with.
"""

from __future__ import annotations

import json

from keyturn.core.errors import ConfigError
from keyturn.core.redact import register_secret

PREFIX = "keyturn-fields:1:"


def pack(values: dict[str, str], primary: str) -> str:
    """One value for the journal: the primary field's value alone, or all of them. A value
    that looks like a bundle itself is refused: read as one later, it would write fields of
    its own choosing into the credential."""
    for name, value in values.items():
        if value.startswith(PREFIX):
            raise ConfigError(
                f"The value for {name} starts with {PREFIX!r}, which keyturn reserves for its "
                "own use; it is not a secret keyturn will put into n8n.",
                "Check where the value comes from (a provider's answer, a file, a variable).",
            )
    if set(values) == {primary}:
        return values[primary]
    return PREFIX + json.dumps(values, sort_keys=True, separators=(",", ":"))


def unpack(value: str, field: str) -> dict[str, str]:
    """Field -> value; a plain value belongs to `field`. Each value is registered for
    redaction (its JSON form in the bundle escapes some characters)."""
    if not value.startswith(PREFIX):
        return {field: value}
    try:
        data = json.loads(value[len(PREFIX) :])
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigError(
            "A secret in keyturn's journal is damaged (its fields cannot be read).",
            "Restore the journal from a backup (docs/rotation.md).",
        )
    for item in data.values():
        register_secret(item)
    return data


def values_of(value: str, field: str) -> list[str]:
    """Every secret value a journal value holds (for searches for old copies)."""
    return list(unpack(value, field).values())
