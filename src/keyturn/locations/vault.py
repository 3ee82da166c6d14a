"""HashiCorp Vault / OpenBao KV v2: read a new secret from a path and field, and write the
rotated value back (a new version, so Vault keeps the history).

Paths are named as `vault kv get` names them: `secret/n8n/partner#api_key` is the field
`api_key` of the secret `n8n/partner` in the KV v2 engine mounted at `secret`.
Authentication follows Vault's own environment (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE,
~/.vault-token), keyturn.toml's `[vault]` (token_file, AppRole role/secret ids). keyturn logs
in once per run and every `vault:` location shares that token (a limited-use AppRole secret id
must not run out in the middle of a rollback); a store's preflight checks that the token will
last the rotation (renewing it when it can) before anything changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import hvac
import requests
from hvac import exceptions as vault_errors
from pydantic import BaseModel, ConfigDict

from keyturn.core.config import read_section
from keyturn.core.errors import StoreError
from keyturn.core.files import read_secret_file
from keyturn.core.redact import register_secret

log = logging.getLogger(__name__)


class VaultSettings(BaseModel):
    """`[vault]` in keyturn.toml; every field falls back on Vault's own environment."""

    model_config = ConfigDict(extra="forbid")

    addr: str | None = None
    namespace: str | None = None
    token_file: Path | None = None
    approle_role_id: str | None = None
    approle_secret_id_env: str | None = None
    approle_secret_id_file: Path | None = None
    approle_mount: str = "approle"
    verify_tls: bool | str = True
    timeout: int = 10
    # What the token must have left when a rotation starts (a renewable token is renewed).
    min_token_ttl: int = 900  # seconds
    min_token_uses: int = 50  # for a token with limited uses; a rotation makes a few per store


def parse_vault_target(text: str) -> tuple[str, str, str]:
    """`MOUNT/PATH#FIELD` -> (mount, path, field)."""
    location, _, field = text.partition("#")
    mount, _, path = location.strip("/").partition("/")
    if not (mount and path and field):
        raise StoreError(
            f"vault:{text} is not MOUNT/PATH#FIELD.",
            "Write it like vault:secret/n8n/partner#api_key.",
        )
    return mount, path, field


def vault_client(settings: VaultSettings | None = None) -> hvac.Client:
    settings = settings or VaultSettings()
    addr = settings.addr or os.environ.get("VAULT_ADDR")
    if not addr:
        raise StoreError(
            "No Vault address is configured.",
            "Set VAULT_ADDR, or addr under [vault] in keyturn.toml.",
        )
    client = hvac.Client(
        url=addr,
        namespace=settings.namespace or os.environ.get("VAULT_NAMESPACE"),
        verify=settings.verify_tls,
        timeout=settings.timeout,
    )
    if settings.approle_role_id:
        secret_id = _approle_secret_id(settings)
        try:
            client.auth.approle.login(
                role_id=settings.approle_role_id,
                secret_id=secret_id,
                mount_point=settings.approle_mount,
            )
        except (vault_errors.VaultError, requests.RequestException) as exc:
            raise _explain(exc, addr, "AppRole login") from None
    else:
        client.token = _token(settings)
    if client.token:
        register_secret(client.token)
    return client


# One logged-in client per configuration, for the whole run.
_sessions: dict[str, hvac.Client] = {}


def shared_vault_client(settings: VaultSettings) -> hvac.Client:
    """The client of this run for `settings`: logged in on first use, then reused."""
    key = _session_key(settings)
    client = _sessions.get(key)
    if client is None:
        client = _sessions[key] = vault_client(settings)
    return client


def _session_key(settings: VaultSettings) -> str:
    environment = [
        os.environ.get(name, "") for name in ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE")
    ]
    text = "\0".join([settings.model_dump_json(), *environment])
    return hashlib.sha256(text.encode()).hexdigest()


def check_token_lasts(client: hvac.Client, settings: VaultSettings) -> None:
    """Fail now unless the token has the time and the uses a rotation needs (renew it when it
    is short of time and renewable): running out in the middle would stop a rollback."""
    data = _look_up_token(client)
    if data is None:
        return
    ttl = int(data.get("ttl") or 0)  # 0: never expires (a root token)
    if 0 < ttl < settings.min_token_ttl and data.get("renewable"):
        try:
            client.auth.token.renew_self(increment=f"{settings.min_token_ttl}s")
        except (vault_errors.VaultError, requests.RequestException) as exc:
            raise _explain(exc, client.url, "renewing the token") from None
        data = _look_up_token(client) or {}
        ttl = int(data.get("ttl") or 0)
    if 0 < ttl < settings.min_token_ttl:
        raise StoreError(
            f"The Vault token expires in {ttl}s, too soon for a rotation "
            f"(min_token_ttl = {settings.min_token_ttl}s).",
            "Give the token (or the AppRole's token_ttl and token_max_ttl) a longer life, or "
            "lower min_token_ttl under [vault].",
        )
    uses = int(data.get("num_uses") or 0)  # 0: unlimited
    if 0 < uses < settings.min_token_uses:
        raise StoreError(
            f"The Vault token has {uses} uses left; a rotation and its rollback may need "
            f"more (min_token_uses = {settings.min_token_uses}).",
            "Use a token with unlimited uses (the AppRole's token_num_uses = 0), or more.",
        )


def _look_up_token(client: hvac.Client) -> dict[str, Any] | None:
    """The token's TTL and uses; None when its policy may not look itself up (Vault's
    `default` policy allows it)."""
    try:
        response = client.auth.token.lookup_self()
    except vault_errors.Forbidden:
        log.warning("the Vault token may not look itself up: its TTL and uses are not checked")
        return None
    except (vault_errors.VaultError, requests.RequestException) as exc:
        raise _explain(exc, client.url, "looking up its own token") from None
    data: dict[str, Any] = response.get("data") or {}
    return data


def _approle_secret_id(settings: VaultSettings) -> str:
    if settings.approle_secret_id_file:
        value = read_secret_file(settings.approle_secret_id_file, "vault.approle_secret_id_file")
    elif settings.approle_secret_id_env:
        value = os.environ.get(settings.approle_secret_id_env, "").strip()
    else:
        value = ""
    if not value:
        raise StoreError(
            "AppRole needs a secret id.",
            "Set approle_secret_id_env or approle_secret_id_file under [vault].",
        )
    register_secret(value)
    return value


def _token(settings: VaultSettings) -> str:
    if settings.token_file:
        return read_secret_file(settings.token_file, "vault.token_file")
    token = os.environ.get("VAULT_TOKEN", "").strip()
    if token:
        return token
    default = Path.home() / ".vault-token"
    if default.is_file():
        return read_secret_file(default, "~/.vault-token")
    raise StoreError(
        "No Vault token is configured.",
        "Set VAULT_TOKEN, token_file or AppRole under [vault], or log in with `bao login`.",
    )


def _explain(exc: Exception, addr: str, what: str) -> StoreError:
    if isinstance(exc, vault_errors.VaultDown):
        return StoreError(
            f"Vault at {addr} is sealed ({what}).", "Unseal it, then run keyturn again."
        )
    if isinstance(exc, vault_errors.Forbidden):
        return StoreError(
            f"Vault at {addr} refused the token for {what} (403).",
            "Check VAULT_TOKEN / the AppRole and the policy on this path.",
        )
    if isinstance(exc, vault_errors.InvalidPath):
        return StoreError(f"Vault at {addr} has nothing at {what} (404).", "Check the path.")
    if isinstance(exc, requests.RequestException):
        return StoreError(
            f"Cannot reach Vault at {addr} ({type(exc).__name__}).", "Check VAULT_ADDR."
        )
    return StoreError(f"Vault at {addr} failed {what}: {exc}.", None)


class VaultStore:
    """One field of one KV v2 secret."""

    def __init__(
        self, target: str, client: hvac.Client, settings: VaultSettings | None = None
    ) -> None:
        self.target = target
        self.mount, self.path, self.field = parse_vault_target(target)
        self.client = client
        self.settings = settings or VaultSettings()

    def describe(self) -> str:
        return f"vault:{self.target}"

    def _read(self) -> tuple[dict[str, Any], int] | None:
        try:
            response = self.client.secrets.kv.v2.read_secret_version(
                path=self.path, mount_point=self.mount, raise_on_deleted_version=True
            )
        except vault_errors.InvalidPath:
            return None
        except (vault_errors.VaultError, requests.RequestException) as exc:
            raise _explain(exc, self.client.url, f"reading {self.target}") from None
        data = response["data"]
        return dict(data["data"] or {}), int(data["metadata"]["version"])

    def preflight(self, value: str | None = None) -> None:
        try:
            if self.client.sys.is_sealed():  # type: ignore[no-untyped-call]
                raise StoreError(f"Vault at {self.client.url} is sealed.", "Unseal it first.")
            capabilities = self.client.sys.get_capabilities(  # type: ignore[no-untyped-call]
                paths=[f"{self.mount}/data/{self.path}"]
            )
        except (vault_errors.VaultError, requests.RequestException) as exc:
            raise _explain(exc, self.client.url, f"checking {self.target}") from None
        allowed = set(
            capabilities.get("capabilities", capabilities.get("data", {}).get("capabilities", []))
        )
        if not allowed & {"root", "update", "create"}:
            raise StoreError(
                f"The Vault token may not write {self.target} (capabilities: "
                f"{', '.join(sorted(allowed)) or 'none'}).",
                "Grant update on this path in the token's policy.",
            )
        check_token_lasts(self.client, self.settings)

    def read_current(self) -> str | None:
        found = self._read()
        if found is None:
            return None
        value = found[0].get(self.field)
        if not isinstance(value, str) or not value:
            return None
        register_secret(value)
        return value

    def write(self, secret: str) -> None:
        found = self._read()
        data, version = found if found is not None else ({}, 0)
        data[self.field] = secret
        try:
            self.client.secrets.kv.v2.create_or_update_secret(
                path=self.path, secret=data, mount_point=self.mount, cas=version
            )
        except (vault_errors.VaultError, requests.RequestException) as exc:
            raise _explain(exc, self.client.url, f"writing {self.target}") from None

    def discard_backup(self) -> None:
        """Nothing to remove: Vault's version history is the record (and KV v2 keeps it)."""


def open_vault_store(target: str, settings: dict[str, Any] | None) -> VaultStore:
    """A `vault:` location; `settings` is keyturn.toml's `[vault]` table (or None). Every
    location of one run shares one login."""
    parse_vault_target(target)  # a malformed name fails before any login
    parsed = read_section(VaultSettings, settings or {}, "vault")
    return VaultStore(target, shared_vault_client(parsed), parsed)
