"""JSON output: one document on stdout, stable field names, ISO 8601 times."""

from __future__ import annotations

import json

from pydantic import BaseModel

from keyturn.core.jsonio import write_stdout
from keyturn.core.redact import redact_document


def print_json(document: BaseModel) -> None:
    plain = document.model_dump(by_alias=True, mode="json")
    text = json.dumps(redact_document(plain), indent=2, ensure_ascii=False) + "\n"
    # A lone surrogate (a name n8n's API handed back broken) as the JSON escape \udcXX
    write_stdout(text.encode("utf-8", "backslashreplace"))
