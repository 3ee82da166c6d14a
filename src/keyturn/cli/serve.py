"""`keyturn serve`: rotation and credential health, unattended (docs/serve.md)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from keyturn.cli.app import DryRunOption, GlobalOptions, InstanceOption, _flag, _opt, app


@app.command()
def serve(
    ctx: typer.Context,
    listen: Annotated[str | None, _opt("--listen", "HOST:PORT", "Where the dashboard, /metrics "
        "and /healthz listen (default [serve] listen, else 127.0.0.1:9464). Any address but "
        "loopback needs a token ([serve] token_env).")] = None,
    interval: Annotated[str | None, _opt("--interval", "DURATION", "How often policies are "
        "evaluated (default [serve] interval, else 1m).")] = None,
    log_format: Annotated[Literal["text", "json"], _opt("--log-format", "FORMAT",
        "text, or json: one JSON object per line.")] = "text",
    once: Annotated[bool, _flag("--once", "Evaluate once (rotate what is due, check health), "
        "then exit: 0, or 3 when n8n or the journal did not answer. For cron, or to try a "
        "configuration.")] = False,
    dry_run: DryRunOption = False,
    instance: InstanceOption = None,
) -> None:  # fmt: skip
    """Run unattended: rotate each credential when its policy says, watch every credential's
    health, alert on a change, and serve a dashboard and Prometheus metrics.

    Rotations are the same as `keyturn rotate`'s (saved first, proven, rolled back on
    failure). A failed one is retried with back-off, then the credential is marked
    needs_attention and alerted once. Several replicas may share one PostgreSQL journal: one
    of them runs the scheduler. SIGTERM stops at a safe point; the next start resumes.
    """
    from keyturn.core.config import load_settings
    from keyturn.journal import open_journal
    from keyturn.n8n.client import N8nClient
    from keyturn.serve.logs import use_event_lines
    from keyturn.serve.runner import run_serve
    from keyturn.serve.settings import serve_settings

    options: GlobalOptions = ctx.obj
    settings = load_settings(instance, options.config)
    overrides = {"listen": listen, "interval": interval}
    table = {**(settings.file.serve or {}), **{k: v for k, v in overrides.items() if v}}
    serve_config = serve_settings(table)
    use_event_lines(log_format == "json")
    journal = open_journal()
    client = N8nClient(settings.connection)
    try:
        code = run_serve(settings, serve_config, client, journal, once=once, dry_run=dry_run)
    finally:
        client.close()
        journal.close()
    if code:
        raise typer.Exit(code)
