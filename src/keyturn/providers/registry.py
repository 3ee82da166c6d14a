"""Build a provider from its keyturn.toml section."""

from __future__ import annotations

from keyturn.config import FileConfig
from keyturn.errors import ConfigError
from keyturn.providers.aws_iam import AwsIamProvider, AwsIamProviderConfig
from keyturn.providers.http import HttpProvider
from keyturn.providers.interface import SecretProvider


def build_provider(name: str, config: FileConfig) -> SecretProvider:
    section = config.providers.get(name)
    if section is None:
        known = ", ".join(sorted(config.providers)) or "none"
        raise ConfigError(
            f"Unknown provider {name!r} (providers in keyturn.toml: {known}).",
            f"Add [providers.{name}] to keyturn.toml (see docs/providers/http.md).",
        )
    if isinstance(section, AwsIamProviderConfig):
        return AwsIamProvider(name, section)
    return HttpProvider(name, section)
