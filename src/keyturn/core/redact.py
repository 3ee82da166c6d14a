"""Keep secrets out of logs and output.

Every secret keyturn handles is registered here the moment it is read. The logging filter and
the CLI's error printer pass all text through `redact`, so no feature can leak a registered
value by accident, even in a traceback or a third-party library's log line.
"""

from __future__ import annotations

import logging
import sys
import threading

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_known: list[str] = []


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` hides it wherever it appears."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if value not in _known:
            _known.append(value)
            _known.sort(key=len, reverse=True)  # longest first: a secret may contain another


def forget_secrets() -> None:
    """Forget every registered secret (for tests)."""
    with _lock:
        _known.clear()


def redact(text: str) -> str:
    """Replace every registered secret in `text` with a marker."""
    with _lock:
        known = list(_known)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record once and removes registered secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        return True


def configure_logging(level: str | int) -> None:
    """Log to stderr through the redacting filter, at `level` (DEBUG, INFO, ... or a number)."""
    if isinstance(level, str):
        resolved = logging.getLevelName(level.strip().upper())
        level = resolved if isinstance(resolved, int) else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_keyturn", False):
            root.removeHandler(existing)
    handler._keyturn = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
