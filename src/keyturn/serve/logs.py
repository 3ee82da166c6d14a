"""`keyturn serve`'s log: one line per event, as text or as JSON (`--log-format json`).

Events come from scheduler.event(): a name and redacted fields. Other records (keyturn's own
warnings, a library's) become a line of the same shape. The redacting filter that
core/redact.configure_logging installs has already removed secrets from every message.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from keyturn.core.redact import redact


class EventFormatter(logging.Formatter):
    def __init__(self, json_lines: bool) -> None:
        super().__init__()
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        name = getattr(record, "event", None)
        fields: dict[str, str] = dict(getattr(record, "fields", {}) or {})
        if name is None:
            name, fields = "log", {"logger": record.name, "message": redact(record.getMessage())}
        if self.json_lines:
            document = {"at": at, "level": record.levelname.lower(), "event": name, **fields}
            return json.dumps(document)  # ASCII: valid JSON whatever stderr's encoding
        pairs = " ".join(f"{key}={_quoted(value)}" for key, value in fields.items())
        return f"{at} {record.levelname} {name} {pairs}".rstrip()


def _quoted(value: str) -> str:
    """A value as one token: quoted (JSON style, so newlines and quotes are escaped) when it
    holds anything but plain characters."""
    plain = value and all(c.isalnum() or c in "-_.:/@+" for c in value)
    return value if plain else json.dumps(value, ensure_ascii=False)


def use_event_lines(json_lines: bool) -> None:
    """Format keyturn's log handler (configure_logging's) as event lines, and show serve's
    events (INFO) whatever the log level."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_keyturn", False):
            handler.setFormatter(EventFormatter(json_lines))
    logging.getLogger("keyturn.serve").setLevel(logging.INFO)
