"""`[serve]` in keyturn.toml: where `keyturn serve` listens and how often it looks."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from keyturn.core.config import read_section
from keyturn.core.durations import format_duration, parse_duration
from keyturn.core.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:9464"  # 9464: the port Prometheus exporters of this kind use


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listen: str = Field(default=DEFAULT_LISTEN, description="HOST:PORT of the HTTP server.")
    interval: str = Field(
        default="1m", description="How often policies are evaluated (and the leader checked)."
    )
    health_interval: str = Field(
        default="15m", description="How often each credential's health is checked."
    )
    token_env: str | None = Field(
        default=None,
        description="Variable holding the token the dashboard and /metrics ask for; required "
        "when `listen` is not a loopback address.",
    )
    token_file: Path | None = None
    failures_since: str = Field(
        default="1h", description="How far back failed executions are read at start."
    )


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # a host name: it may resolve to anything


# (shortest, longest) of each duration: an interval of 0s would poll n8n in a tight loop.
_BOUNDS = {
    "interval": (1.0, 86400.0),
    "health_interval": (10.0, 7 * 86400.0),
    "failures_since": (60.0, 30 * 86400.0),
}


def serve_settings(table: dict[str, Any] | None) -> ServeSettings:
    settings = read_section(ServeSettings, table or {}, "serve")
    for name, (shortest, longest) in _BOUNDS.items():
        text = getattr(settings, name)
        seconds = parse_duration(text, f"serve.{name}")  # a bad one fails at start
        if not shortest <= seconds <= longest:
            raise ConfigError(
                f"serve.{name} {text!r} is out of range.",
                f"Give between {format_duration(shortest)} and {format_duration(longest)}.",
            )
    return settings


def parse_listen(text: str) -> Listen:
    """HOST:PORT, [IPv6]:PORT or :PORT (all addresses); port 0 takes any free port."""
    host, separator, port = text.rpartition(":")
    host = host.strip("[]") if host.startswith("[") else host
    if not separator or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(
            f"serve.listen must be HOST:PORT, not {text!r}.",
            'For example listen = "127.0.0.1:9464".',
        )
    return Listen(host or "0.0.0.0", int(port))  # noqa: S104 (asked for: ":PORT")


LogFormat = Literal["text", "json"]
