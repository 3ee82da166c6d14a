"""The `keyturn serve` process: the scheduler in the main thread, the HTTP server (uvicorn) in
another, and a heartbeat that keeps the scheduler's lease while a rotation runs.

SIGTERM or SIGINT asks everything to stop: the scheduler finishes the step it is in (or leaves
a grace period at once, the rotation kept in flight for the next start), gives its lease up,
and the process exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from keyturn.checklist import Checklist
from keyturn.core.config import Settings
from keyturn.core.errors import ConfigError, ExitCode, KeyturnError
from keyturn.core.files import read_secret_file
from keyturn.core.redact import register_secret
from keyturn.journal import Journal
from keyturn.journal.serve_state import resign
from keyturn.n8n.client import N8nClient
from keyturn.notify import Notifier
from keyturn.serve.metrics import render
from keyturn.serve.scheduler import Scheduler, event
from keyturn.serve.settings import Listen, ServeSettings, parse_listen

_SERVER_START_SECONDS = 15.0
MIN_TOKEN_LENGTH = 32


@dataclass
class Serving:
    """A running server, for `keyturn serve` and for tests that start one in-process."""

    scheduler: Scheduler
    server: Any  # uvicorn.Server
    thread: threading.Thread
    listen: Listen

    @property
    def url(self) -> str:
        host = f"[{self.listen.host}]" if ":" in self.listen.host else self.listen.host
        return f"http://{host}:{self.port}"

    @property
    def port(self) -> int:
        sockets = [s for server in self.server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1]) if sockets else self.listen.port

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def read_token(serve: ServeSettings) -> str | None:
    import os

    token = os.environ.get(serve.token_env, "").strip() if serve.token_env else ""
    if not token and serve.token_file is not None:
        token = read_secret_file(serve.token_file, "serve.token_file")
    if serve.token_env and not token and serve.token_file is None:
        raise ConfigError(
            f"serve.token_env names ${serve.token_env}, which is empty or not set.",
            f"Export {serve.token_env} with the dashboard's token, or drop token_env.",
        )
    if token:
        register_secret(token)
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"The dashboard's token (serve.token_env or token_file) has {len(token)} "
                f"characters; it needs at least {MIN_TOKEN_LENGTH}.",
                "Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
    return token or None


CHECKLIST_CACHE_SECONDS = 60.0


def checklist_of(settings: Settings) -> Callable[[str], Checklist]:
    """A credential's checklist for the dashboard, with a client and a journal of its own (the
    scheduler's are not shared across threads)."""

    lock = threading.Lock()  # one at a time: each reads every workflow and execution
    cache: dict[str, tuple[float, Checklist]] = {}

    def checklist(credential_id: str) -> Checklist:
        cached = cache.get(credential_id)
        if cached is not None and time.monotonic() - cached[0] < CHECKLIST_CACHE_SECONDS:
            return cached[1]
        if not lock.acquire(blocking=False):
            raise KeyturnError(
                "Another checklist is being computed.", "Try again in a moment.",
                exit_code=ExitCode.BUSY,
            )  # fmt: skip
        try:
            result = _checklist(settings, credential_id)
        finally:
            lock.release()
        cache[credential_id] = (time.monotonic(), result)
        return result

    return checklist


def _checklist(settings: Settings, credential_id: str) -> Checklist:
    from keyturn.checklist import build_checklist
    from keyturn.journal import open_journal
    from keyturn.journal.leases import instance_identity

    connection = settings.connection
    journal = open_journal()
    try:
        with N8nClient(connection) as client:
            return build_checklist(
                client, journal, connection.name, instance_identity(connection.url),
                credential_id, quiet_since=datetime.now(UTC) - timedelta(hours=24),
                paths=[], vault=settings.file.vault,
            )  # fmt: skip
    finally:
        journal.close()


def start_http(scheduler: Scheduler, serve: ServeSettings, token: str | None) -> Serving:
    """Start the HTTP server in a thread; a ConfigError if it cannot listen."""
    import uvicorn

    from keyturn.serve.web import create_app

    listen = parse_listen(serve.listen)
    if not listen.loopback and token is None:
        raise ConfigError(
            f"serve.listen {serve.listen!r} is not a loopback address, and no token is set: the "
            "dashboard and /metrics would be open to the network.",
            "Set serve.token_env (or token_file) to a long random token, or listen on 127.0.0.1.",
        )
    app = create_app(
        view=lambda: scheduler.view,
        metrics=lambda: render(scheduler.view, scheduler.rotation_counts),
        ready=lambda: ready(scheduler),
        token=token,
        rotate_now=scheduler.ask_rotation if token else None,
        checklist=checklist_of(scheduler.settings),
    )
    # log_config=None: uvicorn's records go through keyturn's handler (redacted, event lines).
    config = uvicorn.Config(
        app, host=listen.host, port=listen.port, log_level="warning", lifespan="off",
        access_log=False, log_config=None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="keyturn-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + _SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(
                f"keyturn serve cannot listen on {serve.listen}.",
                "Is another process on that port? Set serve.listen to another HOST:PORT.",
            )
        thread.join(timeout=0.05)  # waiting for uvicorn to bind, bounded by the deadline
    serving = Serving(scheduler, server, thread, listen)
    event("http.listening", url=serving.url, token=("required" if token else "none"))
    return serving


def ready(scheduler: Scheduler) -> tuple[bool, str]:
    """Readiness, in words that name no host and quote no error (the probe is open)."""
    ok, detail = scheduler.reachable
    age = (datetime.now(UTC) - scheduler.view.generated_at).total_seconds()
    if ok and age > 3 * scheduler.interval + 60:
        return False, "the last evaluation is late (a long rotation, or a stuck call)"
    return ok, detail


def keep_lease(scheduler: Scheduler) -> threading.Thread:
    """Renew the scheduler's lease a few times per time to live, also during a long rotation
    (the scheduler's thread is busy then). A leader that cannot renew it for its whole life
    steps down: another replica may hold it by then."""

    def beat() -> None:
        renewed = time.monotonic()
        while not scheduler.stop.wait(scheduler.lease_seconds / 3):
            if not scheduler.leader:
                continue
            try:
                scheduler.beat()
                renewed = time.monotonic()
            except Exception as exc:  # the database away for a moment: the next try
                event("leader.heartbeat_failed", level=logging.WARNING, error=type(exc).__name__)
                if time.monotonic() - renewed > scheduler.lease_seconds:
                    scheduler.step_down()

    thread = threading.Thread(target=beat, name="keyturn-lease", daemon=True)
    thread.start()
    return thread


def run_serve(
    settings: Settings,
    serve: ServeSettings,
    client: N8nClient,
    journal: Journal,
    *,
    once: bool = False,
    dry_run: bool = False,
) -> int:
    """Run until SIGTERM or SIGINT (0), or evaluate once (`once`: 0, or 3 when n8n or the
    journal did not answer), or show what one evaluation would do (`dry_run`)."""
    notifier = Notifier.from_config(settings.file.notifications)
    stop = threading.Event()
    scheduler = Scheduler(settings, serve, client, journal, notifier.alert, stop=stop)
    if dry_run:
        scheduler.preview()
        return 0
    token = read_token(serve)
    scheduler.refresh_view()
    serving = start_http(scheduler, serve, token)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    event("serve.started", instance=settings.connection.name, interval=serve.interval,
          holder=scheduler.holder)  # fmt: skip
    heartbeat = keep_lease(scheduler)
    evaluated_ok = True
    try:
        if once:
            evaluated_ok = scheduler.tick()
        else:
            scheduler.run()
    finally:
        stop.set()
        heartbeat.join(timeout=scheduler.lease_seconds + 5)  # no renewal after the hand-over
        if scheduler.leader:
            with contextlib.suppress(Exception):  # unreachable journal: the lease expires
                resign(journal.engine, scheduler.identity, scheduler.holder)
                event("leader.resigned", holder=scheduler.holder)
        serving.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        event("serve.stopped")
    return 0 if evaluated_ok else int(ExitCode.N8N)


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
