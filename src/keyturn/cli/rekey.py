"""`keyturn rekey`: rotate n8n's own encryption key (docs/rekey.md)."""

from __future__ import annotations

import json as json_module
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from keyturn.cli.app import DryRunOption, GlobalOptions, JsonOption, _flag, _opt, app, stderr

if TYPE_CHECKING:
    from keyturn.rekey.apply import Outcome


@app.command()
def rekey(
    ctx: typer.Context,
    n8n_dir: Annotated[Path, typer.Option("--n8n-dir", metavar="DIR", show_default=False,
        help="n8n's folder: the one mounted at /home/node/.n8n, holding config (and "
        "database.sqlite on SQLite).")],
    database_url: Annotated[str | None, _opt("--database-url", "URL", "n8n's database, when "
        "not n8n's DB_* variables: sqlite:///PATH or postgresql://USER@HOST:PORT/DB (no "
        "password: DB_POSTGRESDB_PASSWORD_FILE or PGPASSWORD).")] = None,
    old_key_file: Annotated[Path | None, _opt("--old-key-file", "FILE", "The key n8n uses "
        "now (default: DIR/config, else N8N_ENCRYPTION_KEY).")] = None,
    new_key_file: Annotated[Path | None, _opt("--new-key-file", "FILE",
        "The new key, read from this file.")] = None,
    generate: Annotated[bool, _flag("--generate", "Generate the new key (43 characters); "
        "it is written to DIR/config and to every --write-back store, never printed.")] = False,
    write_back: Annotated[list[str] | None, _opt("--write-back", "STORE", "Also write the new "
        "key here, after the commit: env-file:PATH#N8N_ENCRYPTION_KEY, file:PATH (a Docker "
        "secret), vault:MOUNT/PATH#FIELD. Repeatable.")] = None,
    pin_jwt_secret: Annotated[list[str] | None, _opt("--pin-jwt-secret", "STORE", "n8n 1.x: "
        "write the JWT secret n8n derives from the old key here (as "
        "N8N_USER_MANAGEMENT_JWT_SECRET), so no session and no API key breaks. Repeatable.")]
    = None,
    backup_dir: Annotated[Path | None, _opt("--backup-dir", "DIR", "Where backups go "
        "(default: keyturn's state folder, rekey-backups/).")] = None,
    n8n_url: Annotated[str | None, _opt("--n8n-url", "URL", "n8n's URL: refuse while it "
        "answers.")] = None,
    assume_stopped: Annotated[bool, _flag("--assume-stopped", "Accept other database sessions "
        "and recent executions as not n8n's (never a process holding the SQLite file).")]
    = False,
    skip_unreadable: Annotated[bool, _flag("--skip-unreadable", "Leave values that do not "
        "read with the old key as they are (they are broken in n8n already).")] = False,
    restore: Annotated[Path | None, _opt("--restore", "BACKUP", "Put a rekey back: rekey "
        "from its new key to its old one (what n8n wrote since is kept), and the old key into "
        "config and that rekey's --write-back stores.")] = None,
    dry_run: DryRunOption = False,
    json: JsonOption = False,
) -> None:  # fmt: skip
    """Rotate n8n's own encryption key (N8N_ENCRYPTION_KEY) without losing a credential.

    With n8n stopped (main, workers, webhook processes): every encrypted value of n8n's
    database is read with the old key first (nothing changes if one fails), the touched rows
    are backed up, then re-encrypted in one transaction that is checked with the new key
    before it commits. Then the new key goes to DIR/config and the --write-back stores.
    Start n8n with the new key everywhere afterwards. A crash is finished by running the
    command again; --restore BACKUP undoes it.
    """
    from keyturn.core.crypto import REKEY_BACKUPS, load_secret_box, state_dir
    from keyturn.rekey import apply, keys
    from keyturn.rekey.database import find_target

    env = dict(os.environ)
    n8n_dir = n8n_dir.expanduser().resolve()
    if not n8n_dir.is_dir():
        from keyturn.core.errors import ConfigError

        raise ConfigError(f"--n8n-dir {n8n_dir} is not a folder.", "Give n8n's folder.")
    target = find_target(n8n_dir, database_url, env)
    vault = _vault_settings(ctx)
    box = load_secret_box()
    request = apply.Request(
        n8n_dir=n8n_dir,
        target=target,
        keys=keys.Keys("", "", "", ""),
        backup_root=(backup_dir or state_dir() / REKEY_BACKUPS).expanduser().resolve(),
        write_back=[apply.absolute_store(target) for target in write_back or []],
        pin_jwt_secret=[apply.absolute_store(target) for target in pin_jwt_secret or []],
        vault=vault,
        n8n_url=n8n_url,
        assume_stopped=assume_stopped,
        skip_unreadable=skip_unreadable,
        dry_run=dry_run,
        execution_storage=env.get("N8N_EXECUTION_DATA_STORAGE_MODE", "database"),
    )
    _refuse_a_plan_beside_a_pending_rekey(n8n_dir, dry_run)
    if restore is not None:
        _print(apply.restore(restore.expanduser(), request, box, _say), json)
        return
    options = apply.Resume(n8n_dir, target, vault, n8n_url, assume_stopped, new_key_file, generate)
    resumed = apply.resume_pending(options, box, _say)
    if resumed is not None:
        _print(resumed, json)
        return
    old, old_source = keys.old_key(n8n_dir, old_key_file, env)
    new, new_source = keys.new_key(new_key_file, generate, old)
    request.keys = keys.Keys(old, old_source, new, new_source)
    _print(apply.rekey(request, box, _say), json)


def _refuse_a_plan_beside_a_pending_rekey(n8n_dir: Path, dry_run: bool) -> None:
    from keyturn.core.errors import ConfigError
    from keyturn.rekey.backup import pending

    folder = pending(n8n_dir)
    if dry_run and folder is not None:
        raise ConfigError(
            f"A rekey of this folder did not finish (its backup: {folder}); a plan now would "
            "read the database with the wrong key.",
            f"Run keyturn rekey --n8n-dir {n8n_dir} (without --dry-run) to finish it first.",
        )


def _vault_settings(ctx: typer.Context) -> dict[str, object] | None:
    from keyturn.core.config import find_config_file, load_env_settings, load_file_config

    options: GlobalOptions = ctx.obj
    return load_file_config(find_config_file(options.config, load_env_settings())).vault


def _say(line: str) -> None:
    """Progress, on stderr (stdout may carry JSON)."""
    from keyturn.formats.safe_text import plain

    stderr.print(plain(line))


def _print(outcome: Outcome, json: bool) -> None:
    from keyturn.core.redact import redact_document

    if json:
        print(json_module.dumps(redact_document(outcome.to_json()), indent=2))
        return
    from keyturn.formats.rekey_out import render

    render(outcome)
