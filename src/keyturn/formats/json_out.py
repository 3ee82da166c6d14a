"""JSON output: one document on stdout, stable field names, ISO 8601 times."""

from __future__ import annotations

import json
import sys

from pydantic import BaseModel

from keyturn.core.redact import redact_document


def print_json(document: BaseModel) -> None:
    plain = document.model_dump(by_alias=True, mode="json")
    sys.stdout.write(json.dumps(redact_document(plain), indent=2, ensure_ascii=False) + "\n")
