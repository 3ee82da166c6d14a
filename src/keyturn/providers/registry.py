"""Build a provider from its keyturn.toml section; a backend's code is imported only when used.

Adding a provider: one module in this folder with its settings model and a class implementing
`SecretProvider`, and one branch in `build_provider`.
"""

from __future__ import annotations

from typing import Any

from keyturn.core.config import FileConfig, read_section
from keyturn.core.errors import ConfigError, missing_extra
from keyturn.providers.interface import SecretProvider

PROVIDER_TYPES = ("http", "aws_iam")


def build_provider(name: str, config: FileConfig) -> SecretProvider:
    raw = provider_section(name, config)
    where = f"providers.{name}"
    kind = raw.get("type", "http")
    if kind == "aws_iam":
        try:
            from keyturn.providers.aws_iam import AwsIamProvider, AwsIamProviderConfig
        except ModuleNotFoundError as exc:
            raise missing_extra(exc, "aws", "The AWS IAM provider") from None
        return AwsIamProvider(name, read_section(AwsIamProviderConfig, raw, where))
    if kind == "http":
        from keyturn.providers.http import HttpProvider, HttpProviderConfig

        return HttpProvider(name, read_section(HttpProviderConfig, raw, where))
    raise ConfigError(
        f"keyturn.toml has an invalid setting: {where}.type: {kind!r} is not a provider type.",
        f"Use one of: {', '.join(PROVIDER_TYPES)}.",
    )


def provider_section(name: str, config: FileConfig) -> dict[str, Any]:
    section = config.providers.get(name)
    if section is None:
        known = ", ".join(sorted(config.providers)) or "none"
        raise ConfigError(
            f"Unknown provider {name!r} (providers in keyturn.toml: {known}).",
            f"Add [providers.{name}] to keyturn.toml (see docs/providers/http.md).",
        )
    return section
