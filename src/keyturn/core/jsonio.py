"""JSON read and written as orjson does it, without loading orjson for a small text.

orjson parses every file keyturn scans. Loading it costs a process 30 to 60 ms (it imports
dataclasses, inspect, uuid, datetime and json), a third of what a pre-commit hook's
`keyturn scan FILE` takes on one small workflow. So until a process has read or written
SMALL_BYTES of JSON (or loaded orjson for another reason, or was told the job is large), the
standard library's json reads and writes it, made as strict as orjson:
no NaN or Infinity, no number that overflows a double, integers beyond 64 bits read as
doubles, UTF-8 only. Whatever json cannot settle the same way (an error, whose message a scan
reports; a surrogate escape, which orjson refuses alone; a nesting deeper than Python's
recursion limit) is handed to orjson, so the result is orjson's whatever the path
(tests/unit/test_jsonio.py compares the two on generated and malformed texts).
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

SMALL_BYTES = 64 * 1024
# A surrogate escape (\uD800-\uDFFF): orjson refuses an unpaired one, json does not.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_INT64_MIN, _UINT64_END = -(2**63), 2**64
# orjson refuses nesting deeper than 1024; json's limit depends on the Python version (the
# interpreter's recursion limit on 3.11, a larger C budget from 3.12).
_MAX_DEPTH = 1000
_handled = 0  # bytes of JSON this process has read and written


def expect_large_job() -> None:
    """From now on orjson reads and writes (a scan spread over worker processes: their
    findings make a large report)."""
    global _handled
    _handled = max(_handled, SMALL_BYTES)


def loads(data: bytes | str) -> Any:
    """The value of a JSON text; ValueError (orjson's JSONDecodeError) if it is not one."""
    global _handled
    _handled += len(data)
    if not _small_job():
        return _orjson_loads(data)
    try:
        if isinstance(data, bytes):
            text = data.decode("utf-8")
        else:
            text = data
            text.encode("utf-8")  # raises for a lone surrogate, which orjson refuses
        if "\\u" in text and _SURROGATE_ESCAPE.search(text):
            return _orjson_loads(data)
        if text.count("[") + text.count("{") > _MAX_DEPTH:  # maybe deeper than orjson reads
            return _orjson_loads(data)
        return json.loads(text, parse_constant=_refuse, parse_float=_double, parse_int=_integer)
    except (ValueError, RecursionError):  # refused here: orjson decides, with its message
        return _orjson_loads(data)


def write_stdout(document: bytes) -> None:
    """A JSON document (or any report) on stdout as the UTF-8 bytes it is, whatever the
    output's encoding: JSON is UTF-8 (RFC 8259), and an encoding that lacks a character would
    fail, or (with escapes) write `\\xe9`, which is not JSON."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (tests may capture output with one)
        sys.stdout.write(document.decode())
        return
    sys.stdout.flush()  # whatever was written as text goes first
    buffer.write(document)
    buffer.flush()


def dumps(value: Any, *, indent: bool = False, large: bool = False, newline: bool = False) -> bytes:
    """Compact JSON, or indented by two spaces; non-ASCII text written as UTF-8; `newline`: with
    a line end after it. `large`: the caller knows the value is large (orjson writes it ten
    times faster)."""
    global _handled
    if large or not _small_job():
        import orjson

        option = (orjson.OPT_INDENT_2 if indent else 0) | (
            orjson.OPT_APPEND_NEWLINE if newline else 0
        )
        return orjson.dumps(value, default=str, option=option)
    if indent:
        text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if newline:
        text += "\n"
    written = text.encode()
    _handled += len(written)
    return written


def _small_job() -> bool:
    """Nothing loaded orjson, and little JSON was handled: not worth loading it."""
    return _handled < SMALL_BYTES and "orjson" not in sys.modules


def _orjson_loads(data: bytes | str) -> Any:
    import orjson

    return orjson.loads(data)


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _double(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number is infinity when parsed as double")
    return value


def _integer(text: str) -> int | float:
    value = int(text)
    return value if _INT64_MIN <= value < _UINT64_END else _double(text)
