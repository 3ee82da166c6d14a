"""HashiCorp Vault / OpenBao KV v2: read a new secret from a path and field, and write the
rotated value back (a new version, so Vault keeps the history).

Paths are named as `vault kv get` names them: `secret/n8n/partner#api_key` is the field
`api_key` of the secret `n8n/partner` in the KV v2 engine mounted at `secret`.
Authentication follows Vault's own environment (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE,
~/.vault-token), keyturn.toml's `[vault]` (token_file, AppRole role/secret ids).
"""

from __future__ import annotations

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

    def __init__(self, target: str, client: hvac.Client) -> None:
        self.target = target
        self.mount, self.path, self.field = parse_vault_target(target)
        self.client = client

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

    def preflight(self) -> None:
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


def open_vault_store(target: str, settings: dict[str, Any] | None) -> VaultStore:
    """A `vault:` location; `settings` is keyturn.toml's `[vault]` table (or None)."""
    parse_vault_target(target)  # a malformed name fails before any login
    return VaultStore(target, vault_client(read_section(VaultSettings, settings or {}, "vault")))
