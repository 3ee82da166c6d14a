"""JSON output: one document on stdout, stable field names, ISO 8601 times."""

from __future__ import annotations

import sys

from pydantic import BaseModel

from keyturn.core.redact import redact


def print_json(document: BaseModel) -> None:
    text = document.model_dump_json(by_alias=True, indent=2)
    sys.stdout.write(redact(text) + "\n")
