"""Data as terminal text: what n8n, a provider or a file says is never Rich markup.

A credential named `x [/b]` must print as itself instead of crashing the renderer, and one named
`[link=https://...]click[/link]`, or holding a raw escape sequence, must reach the terminal
neither as a hyperlink nor as a control code. So every value that did not come from keyturn
itself is printed as a `Text` (never parsed for markup or emoji codes), with its control
characters shown as escapes (`\\x1b`, `\\n`, `\\u202e`) rather than sent to the terminal.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls (ESC, CSI, OSC, BEL, newlines, tabs), DEL, bidirectional overrides and
# isolates (text that reads differently from what it is) and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def visible(value: object) -> str:
    """`value` as a string whose control characters are shown as escapes."""
    return _CONTROL.sub(_escape, str(value))


def plain(value: object, style: str = "") -> Text:
    """`value` as Rich text that is printed literally, never parsed as markup."""
    return Text(visible(value), style=style)


def plain_lines(values: list[str], style: str = "") -> Text:
    """Several values, one per line (the newlines are keyturn's; the values' own are escaped)."""
    return Text("\n", style=style).join(plain(value, style) for value in values)
