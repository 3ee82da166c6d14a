"""Names from n8n are data: the real CLI prints them literally against a real n8n (issue 10)."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import N8nHandle

CLOSING_TAG = "x [/b]"  # Rich markup: a closing tag that closes nothing (was exit 70)
HYPERLINK = "[link=https://evil.example]click[/link]"  # Rich markup: a terminal hyperlink
ESCAPE = "esc \x1b]8;;https://evil.example\x1b\\raw\x1b]8;;\x1b\\ link"  # a raw OSC 8 sequence
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_inventory_prints_hostile_names_literally(n8n: N8nHandle, run_cli: Any) -> None:
    for name in (CLOSING_TAG, HYPERLINK, ESCAPE):
        n8n.client.create_credential(name, "httpHeaderAuth", {"name": "X-Key", "value": "v"})

    # FORCE_COLOR: Rich writes for a colour terminal, so a parsed [link] would be an OSC 8.
    result = run_cli("inventory", env={**n8n.env(), "FORCE_COLOR": "1", "COLUMNS": "250"})

    assert result.code == 0, result.stderr
    assert "\x1b[" in result.stdout  # the terminal really was a colour one
    assert "\x1b]8;" not in result.stdout
    text = _SGR.sub("", result.stdout)
    assert "\x1b" not in text
    assert CLOSING_TAG in text
    assert HYPERLINK in text
    assert "esc \\x1b]8;;https://evil.example\\x1b\\raw\\x1b]8;;\\x1b\\ link" in text
