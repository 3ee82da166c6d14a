"""Build a store from its target: `file:PATH`, `env-file:PATH#VAR`, `vault:MOUNT/PATH#FIELD`."""

from __future__ import annotations

from pathlib import Path

from keyturn.stores.files import EnvFileStore, FileStore
from keyturn.stores.interface import SecretStore, StoreError
from keyturn.stores.vault import VaultSettings, VaultStore, vault_client


def build_store(target: str, vault: VaultSettings | None = None) -> SecretStore:
    kind, _, rest = target.partition(":")
    if kind == "file" and rest:
        return FileStore(Path(rest).expanduser())
    if kind == "env-file" and "#" in rest:
        path, _, variable = rest.rpartition("#")
        return EnvFileStore(Path(path).expanduser(), variable)
    if kind == "vault" and rest:
        return VaultStore(rest, vault_client(vault))
    raise StoreError(
        f"{target!r} is not a write-back target.",
        "Use file:PATH, env-file:PATH#VAR or vault:MOUNT/PATH#FIELD.",
    )
