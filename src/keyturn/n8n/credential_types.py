"""What keyturn knows of n8n's credential types: fields, secret fields, built-in tests.

Read from data/n8n_credential_types.json, generated from the pinned n8n by
scripts/gen_n8n_tables.py (secret fields are those n8n marks `typeOptions.password`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

from keyturn.core.errors import ConfigError
from keyturn.core.probe import COMMON_PLACEMENTS, AuthKind, AuthPlacement
from keyturn.n8n.models import Credential


@dataclass(frozen=True)
class CredentialType:
    name: str
    fields: tuple[str, ...]
    secret_fields: tuple[str, ...]
    has_test: bool
    oauth2: bool = False  # n8n updates it on each token refresh


@cache
def _table() -> dict[str, CredentialType]:
    raw = json.loads(
        resources.files("keyturn").joinpath("data/n8n_credential_types.json").read_text()
    )
    return {
        name: CredentialType(
            name=name,
            fields=tuple(entry["fields"]),
            secret_fields=tuple(entry["secret_fields"]),
            has_test=bool(entry["has_test"]),
            oauth2=bool(entry.get("oauth2")),
        )
        for name, entry in raw["types"].items()
    }


def credential_type(name: str) -> CredentialType | None:
    return _table().get(name)


def secret_changed_at(credential: Credential) -> datetime | None:
    """The best evidence of when a credential's secret last changed: its updatedAt, except
    for an OAuth2 app, which n8n updates whenever it stores a refreshed token (its creation
    then; an older answer errs towards rotating)."""
    known = credential_type(credential.type)
    if known is not None and known.oauth2:
        return credential.created_at
    return credential.updated_at or credential.created_at


def secret_field_for(type_name: str, requested: str | None = None) -> str:
    """The data field to rotate: `requested` if valid, else the type's (first) secret field."""
    known = credential_type(type_name)
    if requested:
        if known is not None and known.fields and requested not in known.fields:
            raise ConfigError(
                f"Credential type {type_name} has no field {requested!r} "
                f"(fields: {', '.join(known.fields)}).",
                "Pick one of those with --field.",
            )
        return requested
    if known is None:
        raise ConfigError(
            f"keyturn does not know the credential type {type_name!r}, so it cannot tell which "
            "field holds the secret.",
            "Name it with --field.",
        )
    if not known.secret_fields:
        raise ConfigError(
            f"Credential type {type_name} has no field n8n marks as secret.",
            f"Name the field to rotate with --field (fields: {', '.join(known.fields)}).",
        )
    return known.secret_fields[0]


# How n8n's generic credential types apply their secret (non-secret fields in brackets).
GENERIC_AUTH: dict[str, tuple[AuthKind, str]] = {
    "httpHeaderAuth": ("header", "name"),
    "httpQueryAuth": ("query", "name"),
    "httpBasicAuth": ("basic", "user"),
    "httpBearerAuth": ("bearer", ""),
}


def placement_for(credential_type: str, explicit: AuthPlacement | None) -> AuthPlacement:
    """The placement to probe a credential of `credential_type` with."""
    if explicit is not None:
        return explicit
    if credential_type == "httpBearerAuth":
        return AuthPlacement("bearer")
    kind, field = GENERIC_AUTH.get(credential_type, ("header", ""))
    example = {"header": "header:X-API-Key", "query": "query:api_key", "basic": "basic:USER"}
    raise ConfigError(
        f"keyturn cannot tell how a {credential_type} credential sends its secret: n8n's API "
        f"never returns credential data{f' (such as its {field!r} field)' if field else ''}.",
        f"Say it with --probe-auth (for example {example.get(kind, 'header:NAME')}), "
        "or in the credential's [rotation] section of keyturn.toml.",
    )


def auto_candidates(credential_type: str) -> tuple[AuthPlacement, ...]:
    """The placements `--probe-auth auto` tries for a credential type: a generic type's own
    kind only (a Header Auth credential sends a header), else the common ones."""
    kind, _ = GENERIC_AUTH.get(credential_type, ("", ""))
    if kind == "basic":
        raise ConfigError(
            "--probe-auth auto cannot guess a Basic auth user name.",
            "Give it once with --probe-auth basic:USER (keyturn remembers it).",
        )
    if kind == "bearer":
        return (AuthPlacement("bearer"),)
    if kind == "query":
        return tuple(AuthPlacement("query", name) for name in ("api_key", "key", "apikey", "token"))
    if kind == "header":
        headers = [placement for placement in COMMON_PLACEMENTS if placement.kind == "header"]
        return (*headers, AuthPlacement("header", "api-key"))
    return COMMON_PLACEMENTS


def placement_from_fields(credential_type: str, fields: dict[str, object]) -> AuthPlacement | None:
    """The placement a generic credential's own non-secret fields say (its header's name, its
    Basic auth user), as a keyturn user's session reads them; None when they do not say."""
    if credential_type == "httpBearerAuth":
        return AuthPlacement("bearer")
    kind, field = GENERIC_AUTH.get(credential_type, ("header", ""))
    value = fields.get(field) if field else None
    if isinstance(value, str) and value and not value.startswith("="):
        return AuthPlacement(kind, value)
    return None


def placement_fields(credential_type: str, placement: AuthPlacement) -> dict[str, str]:
    """The non-secret fields of a generic credential that `placement` implies (a header's
    name, a Basic auth user), for a credential keyturn creates."""
    kind, field = GENERIC_AUTH.get(credential_type, (placement.kind, ""))
    return {field: placement.name} if field and kind == placement.kind and placement.name else {}
