"""Reading a location's name: `kind:argument`, checked before anything is read or changed.

An error never repeats the text it was given: a user may have pasted a secret by mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from keyturn.core.errors import ConfigError

Kind = Literal["stdin", "file", "env", "generate", "env-file", "vault", "provider"]
WRITABLE: frozenset[str] = frozenset({"file", "env-file", "vault"})
DEFAULT_GENERATED_LENGTH = 40
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORMS = "stdin, file:PATH, env:VAR, generate[:LENGTH], env-file:PATH#VAR, vault:MOUNT/PATH#FIELD"


@dataclass(frozen=True)
class LocationName:
    """A parsed location name; `provider` stands for "the provider issues it"."""

    kind: Kind
    argument: str = ""

    def describe(self) -> str:
        return f"{self.kind}:{self.argument}" if self.argument else self.kind

    @property
    def writable(self) -> bool:
        return self.kind in WRITABLE


def parse_location(text: str, option: str = "--new-secret") -> LocationName:
    """Parse a location (`store:` in front, written by keyturn 0.1's journal, is accepted)."""
    kind, _, argument = text.removeprefix("store:").partition(":")
    if kind in ("stdin", "provider") and not argument:
        return LocationName(kind)  # type: ignore[arg-type]
    if kind == "file" and argument:
        return LocationName("file", argument)
    if kind == "env" and _VAR.fullmatch(argument):
        return LocationName("env", argument)
    if kind in ("vault", "env-file") and "#" in argument:
        return LocationName(kind, argument)  # type: ignore[arg-type]
    if kind == "generate":
        length = argument or str(DEFAULT_GENERATED_LENGTH)
        if length.isdigit() and 16 <= int(length) <= 512:
            return LocationName("generate", length)
        raise ConfigError(f"{option} generate:LENGTH takes a length from 16 to 512.", None)
    raise ConfigError(
        f"{option} must be {_FORMS} or provider; "
        "a secret itself is never accepted on the command line.",
        "Put the value in a file or an environment variable, or pipe it to stdin.",
    )


def parse_store(text: str, option: str = "--write-back") -> LocationName:
    """Parse a location that must be writable (a write-back target)."""
    try:
        name = parse_location(text, option)
    except ConfigError:
        name = None
    if name is None or not name.writable:
        raise ConfigError(
            f"{option} takes a location keyturn can write: file:PATH, env-file:PATH#VAR or "
            "vault:MOUNT/PATH#FIELD.",
            None,
        )
    return name
