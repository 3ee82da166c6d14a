"""Where a secret value comes from: `stdin`, `file:PATH`, `env:VAR`, `generate[:LENGTH]`,
`provider`. Never a literal on the command line, where `ps` and shell history would keep it.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from keyturn.errors import ConfigError
from keyturn.files import read_secret_file
from keyturn.redact import register_secret

SourceKind = Literal["stdin", "file", "env", "generate", "provider", "vault"]
DEFAULT_GENERATED_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SecretSource:
    kind: SourceKind
    argument: str = ""

    def describe(self) -> str:
        """Where the value came from, safe to show and to write in the audit trail."""
        return f"{self.kind}:{self.argument}" if self.argument else self.kind


def parse_source(text: str, option: str = "--new-secret") -> SecretSource:
    """Parse a SOURCE. The error never repeats `text`, which may be a pasted secret."""
    kind, _, argument = text.partition(":")
    if kind == "stdin" and not argument:
        return SecretSource("stdin")
    if kind == "provider" and not argument:
        return SecretSource("provider")
    if kind == "file" and argument:
        return SecretSource("file", argument)
    if kind == "env" and _VAR.fullmatch(argument):
        return SecretSource("env", argument)
    if kind == "vault" and "#" in argument:
        return SecretSource("vault", argument)
    if kind == "generate":
        length = argument or str(DEFAULT_GENERATED_LENGTH)
        if length.isdigit() and 16 <= int(length) <= 512:
            return SecretSource("generate", length)
        raise ConfigError(f"{option} generate:LENGTH takes a length from 16 to 512.", None)
    raise ConfigError(
        f"{option} must be stdin, file:PATH, env:VAR, vault:MOUNT/PATH#FIELD, generate[:LENGTH] "
        "or provider; "
        "a secret itself is never accepted on the command line.",
        "Put the value in a file or an environment variable, or pipe it to stdin.",
    )


def read_source(source: SecretSource, stdin: TextIO | None = None) -> str:
    """The value of a stdin, file, env or generate source (registered for redaction)."""
    if source.kind == "stdin":
        value = (stdin or sys.stdin).read().strip()
        where = "standard input"
    elif source.kind == "file":
        value = read_secret_file(Path(source.argument), f"file:{source.argument}")
        where = source.argument
    elif source.kind == "env":
        value = os.environ.get(source.argument, "").strip()
        where = f"${source.argument}"
    elif source.kind == "generate":
        value = "".join(secrets.choice(_ALPHABET) for _ in range(int(source.argument)))
        where = "generator"
    else:
        raise ConfigError(f"A {source.kind} source is read through its store or provider.", None)
    if not value:
        raise ConfigError(f"The secret from {where} is empty.", "Provide a non-empty value.")
    register_secret(value)
    return value
