"""Settings: `keyturn.toml` for named instances, `KEYTURN_*` environment variables for the rest.

Where keyturn looks for its config file, first found wins: `--config PATH`, `$KEYTURN_CONFIG`,
`./keyturn.toml`, `$XDG_CONFIG_HOME/keyturn/keyturn.toml` (default `~/.config/keyturn/`).
An API key is never taken from the command line: it comes from an environment variable or a file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from keyturn.core.errors import ConfigError
from keyturn.core.files import read_secret_file
from keyturn.core.redact import register_secret

CONFIG_FILE_NAME = "keyturn.toml"
SectionModel = TypeVar("SectionModel", bound=BaseModel)


class InstanceConfig(BaseModel):
    """One n8n instance, as `[instances.NAME]` in keyturn.toml."""

    model_config = ConfigDict(extra="forbid")

    url: str
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    api_key_file: Path | None = Field(
        default=None, description="File holding the API key (Docker secrets style)."
    )
    timeout: float = Field(default=30.0, gt=0)
    verify_tls: bool | str = Field(
        default=True, description="false to skip TLS checks, or the path of a CA bundle."
    )
    ca_bundle: Path | None = Field(
        default=None,
        description="PEM file of the CA certificates that n8n's certificate is checked against "
        "(a private CA); it replaces the default CAs.",
    )
    max_attempts: int = Field(default=3, ge=1, le=10)
    email: str | None = Field(
        default=None,
        description="E-mail of a dedicated n8n user for keyturn: with password_file, keyturn "
        "logs in and updates credentials in place on any n8n version.",
    )
    password_file: Path | None = Field(
        default=None, description="File holding that user's password (never on argv)."
    )
    strategy: Literal["auto", "in_place", "session", "replace"] = Field(
        default="auto",
        description="How rotations update credentials: in place (public API PATCH), session "
        "(in place through a logged-in n8n user), replace-and-repoint, or auto (the best the "
        "instance offers).",
    )
    restart_command: str | None = Field(
        default=None,
        description="Command that restarts n8n, run by `keyturn rotate --restart` for $env "
        "secrets; keyturn then waits for /healthz/readiness.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return normalize_url(value)

    @model_validator(mode="after")
    def _check_tls(self) -> InstanceConfig:
        if self.ca_bundle is not None and self.verify_tls is False:
            raise ValueError("ca_bundle and verify_tls = false contradict each other: drop one")
        if (self.email is None) != (self.password_file is None):
            raise ValueError("email and password_file go together: set both, or neither")
        return self


class RotationProfile(BaseModel):
    """Rotation settings for one credential, as `[rotation."NAME or ID"]` in keyturn.toml.

    Command-line options override them.
    """

    model_config = ConfigDict(extra="forbid")

    field: str | None = None
    provider: str | None = None
    new_secret: str | None = Field(default=None, description="A SOURCE, e.g. provider.")
    probe_url: str | None = None
    probe_auth: str | None = None
    grace: str | None = None
    verify: list[str] | None = None
    verify_webhooks: list[str] = Field(default_factory=list)
    watch: str | None = None
    write_back: list[str] = Field(
        default_factory=list,
        description="Stores that follow the rotation: file:PATH, env-file:PATH#VAR, "
        "vault:MOUNT/PATH#FIELD.",
    )
    max_age: str | None = Field(
        default=None, description="Rotate when the key is older than this (keyturn due)."
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Non-secret fields of the credential (a base URL, a domain, a region) for "
        "the probe built from its type's own test request; remembered after a rotation.",
    )
    extra_secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Secret fields rotated together with the main one, each with its SOURCE "
        '(e.g. appKey = "vault:kv/datadog#app_key"), as --field NAME=SOURCE.',
    )
    accept_webhook_gap: bool = Field(
        default=False,
        description="Let replace-and-repoint re-register the webhooks of active workflows "
        "(calls in that moment answer 404), for n8n without in-place update or keyturn user.",
    )
    # `keyturn serve` (docs/serve.md): when it rotates, and what it does when that fails.
    schedule: str | None = Field(
        default=None,
        description='Cron expression, UTC ("0 3 * * 1"): rotate at each occurrence (or, with '
        "max_age, only inside the windows it opens).",
    )
    window: str | None = Field(
        default=None, description="How long each schedule occurrence stays open (default 1h)."
    )
    blackout: list[str] = Field(
        default_factory=list,
        description='Never rotate then: "CRON for DURATION" ("0 18 * * 5 for 62h") or '
        '"START/END" in ISO 8601 ("2026-12-24T00:00Z/2026-12-27T00:00Z").',
    )
    jitter: str | None = Field(
        default=None,
        description="Spread starts over up to this long, per credential (default 10m, at "
        "most half the window).",
    )
    remind_after: str | None = Field(
        default=None,
        description="For a credential rotated by hand: alert when its secret is older.",
    )
    health_interval: str | None = Field(
        default=None, description="How often its health is checked (default: [serve] setting)."
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Failed rotations (each rolled back) before it is marked needs_attention.",
    )
    retry_backoff: str = Field(
        default="5m", description="Wait before the first retry; doubled for each next one."
    )


class FileConfig(BaseModel):
    """The whole of keyturn.toml.

    The sections of backends (`[providers.*]`, `[vault]`, `[notifications]`) stay plain tables
    here: each backend reads its own with its own model (`read_section`) when it is used, so
    reading the file loads no AWS or Vault code.
    """

    model_config = ConfigDict(extra="forbid")

    default_instance: str | None = None
    instances: dict[str, InstanceConfig] = Field(default_factory=dict)
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    vault: dict[str, Any] | None = None
    notifications: dict[str, Any] | None = None
    serve: dict[str, Any] | None = None  # read by keyturn.serve.settings
    rotation: dict[str, RotationProfile] = Field(default_factory=dict)


def read_section(model: type[SectionModel], raw: dict[str, Any], where: str) -> SectionModel:
    """A backend's section of keyturn.toml, checked by the backend's model.

    `where` is the section's dotted name (`providers.partner`), so an error names the setting.
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"keyturn.toml has an invalid setting: {where}.{_first_problem(exc)}.",
            "See docs/configuration.md for the settings keyturn.toml accepts.",
        ) from None


class EnvSettings(BaseSettings):
    """The `KEYTURN_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="KEYTURN_", extra="ignore")

    n8n_url: str | None = None
    n8n_api_key: SecretStr | None = None
    n8n_api_key_file: Path | None = None
    n8n_timeout: float = 30.0
    n8n_verify_tls: bool = True
    n8n_ca_bundle: Path | None = None
    n8n_max_attempts: int = 3
    n8n_strategy: Literal["auto", "in_place", "session", "replace"] = "auto"
    n8n_email: str | None = None
    n8n_password_file: Path | None = None
    n8n_restart_command: str | None = None
    config: Path | None = None
    instance: str | None = None
    log_level: str = "WARNING"


@dataclass(frozen=True)
class N8nLogin:
    """A dedicated n8n user keyturn logs in as (n8n's internal REST API, as its UI does).

    `source` names the settings, for messages; the password never leaves this object except
    in the login request's body.
    """

    email: str
    password: SecretStr
    source: str


@dataclass(frozen=True)
class N8nConnection:
    """Everything needed to talk to one n8n instance. `key_source` names where the key came from."""

    name: str
    url: str
    api_key: SecretStr
    key_source: str
    timeout: float = 30.0
    verify_tls: bool | str = True
    max_attempts: int = 3
    strategy: str = "auto"
    restart_command: str | None = None
    ca_bundle: str | None = None
    login: N8nLogin | None = None

    @property
    def url_setting(self) -> str:
        """The setting a user edits to change this instance's URL."""
        return "KEYTURN_N8N_URL" if self.name == "env" else f"instances.{self.name}.url"

    @property
    def tls_verify(self) -> bool | str:
        """What n8n's certificate is checked against: the CA bundle, else `verify_tls`.

        Every call to this instance (its API, webhooks, the readiness poll) uses it.
        """
        return self.ca_bundle or self.verify_tls

    @property
    def ca_bundle_setting(self) -> str:
        """The setting a user edits to trust a private CA for this instance."""
        if self.name == "env":
            return "KEYTURN_N8N_CA_BUNDLE"
        legacy = self.ca_bundle is None and isinstance(self.verify_tls, str)  # verify_tls = PATH
        return f"instances.{self.name}.{'verify_tls' if legacy else 'ca_bundle'}"


def normalize_url(value: str) -> str:
    """Check an n8n base URL and strip a trailing slash or `/api/v1` the user may have added."""
    url = value.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError("an n8n URL must start with http:// or https://")  # no echo: a token?
    url = url.removesuffix("/api/v1").rstrip("/")
    return url


def load_env_settings() -> EnvSettings:
    try:
        return EnvSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "KEYTURN_" + "_".join(str(part) for part in error["loc"]).upper()
        raise ConfigError(
            f"The environment variable {name} is invalid: {error['msg']}.",
            f"Fix or unset {name}.",
        ) from None


def find_config_file(explicit: Path | None, env: EnvSettings) -> Path | None:
    """The config file to read, or None when there is none (which is fine)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"Config file {explicit} does not exist.", "Check --config.")
        return explicit
    if env.config is not None:
        if not env.config.is_file():
            raise ConfigError(f"Config file {env.config} does not exist.", "Check KEYTURN_CONFIG.")
        return env.config
    candidates = [Path.cwd() / CONFIG_FILE_NAME]
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    candidates.append(Path(xdg) / "keyturn" / CONFIG_FILE_NAME)
    return next((path for path in candidates if path.is_file()), None)


def load_file_config(path: Path | None) -> FileConfig:
    if path is None:
        return FileConfig()
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"Cannot read {path}: {exc.strerror}.", "Check the file's permissions."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}.", "Fix the file (see docs/configuration.md)."
        ) from None
    try:
        return FileConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{path} has an invalid setting: {_first_problem(exc)}.",
            "See docs/configuration.md for the settings keyturn.toml accepts.",
        ) from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"{where}: {error['msg']}"


@dataclass(frozen=True)
class Settings:
    """The n8n instance to talk to, and the rest of keyturn.toml."""

    connection: N8nConnection
    file: FileConfig

    def profile_for(self, credential_id: str, credential_name: str) -> RotationProfile:
        """The `[rotation."..."]` section for a credential (by id, then name), or defaults."""
        rotation = self.file.rotation
        return rotation.get(credential_id) or rotation.get(credential_name) or RotationProfile()


def load_settings(instance: str | None = None, config_path: Path | None = None) -> Settings:
    env = load_env_settings()
    file_path = find_config_file(config_path, env)
    file_config = load_file_config(file_path)
    return Settings(_pick_connection(instance, env, file_config, file_path), file_config)


def resolve_connection(
    instance: str | None = None, config_path: Path | None = None
) -> N8nConnection:
    return load_settings(instance, config_path).connection


def _pick_connection(
    instance: str | None, env: EnvSettings, file_config: FileConfig, file_path: Path | None
) -> N8nConnection:
    """Pick the n8n instance to talk to and read its API key.

    With an instance name (`--instance` or `KEYTURN_INSTANCE`), keyturn.toml decides. Without one,
    `KEYTURN_N8N_URL` wins, then the file's `default_instance`, then its only instance.
    """
    name = instance or env.instance
    if name is not None:
        return _connection_from_file(name, file_config, file_path)
    if env.n8n_url:
        return _connection_from_env(env)
    if file_config.default_instance:
        return _connection_from_file(file_config.default_instance, file_config, file_path)
    if len(file_config.instances) == 1:
        only = next(iter(file_config.instances))
        return _connection_from_file(only, file_config, file_path)
    raise ConfigError(
        "No n8n instance is configured.",
        "Set KEYTURN_N8N_URL and KEYTURN_N8N_API_KEY (or KEYTURN_N8N_API_KEY_FILE), "
        "or define [instances.NAME] in keyturn.toml and pass --instance NAME.",
    )


def _connection_from_env(env: EnvSettings) -> N8nConnection:
    assert env.n8n_url is not None
    try:
        url = normalize_url(env.n8n_url)
    except ValueError as exc:
        raise ConfigError(f"KEYTURN_N8N_URL is invalid: {exc}.", "Fix KEYTURN_N8N_URL.") from None
    if env.n8n_ca_bundle is not None and not env.n8n_verify_tls:
        raise ConfigError(
            "KEYTURN_N8N_CA_BUNDLE and KEYTURN_N8N_VERIFY_TLS=false contradict each other.",
            "Keep KEYTURN_N8N_CA_BUNDLE and unset KEYTURN_N8N_VERIFY_TLS.",
        )
    if env.n8n_api_key is not None and env.n8n_api_key.get_secret_value().strip():
        key, source = env.n8n_api_key.get_secret_value().strip(), "KEYTURN_N8N_API_KEY"
    elif env.n8n_api_key_file is not None:
        key = read_secret_file(env.n8n_api_key_file, "KEYTURN_N8N_API_KEY_FILE")
        source = f"KEYTURN_N8N_API_KEY_FILE ({env.n8n_api_key_file})"
    else:
        raise ConfigError(
            "KEYTURN_N8N_URL is set but no API key is.",
            "Set KEYTURN_N8N_API_KEY or KEYTURN_N8N_API_KEY_FILE "
            "(create a key in n8n under Settings > n8n API).",
        )
    register_secret(key)
    return N8nConnection(
        name="env",
        url=url,
        api_key=SecretStr(key),
        key_source=source,
        timeout=env.n8n_timeout,
        verify_tls=env.n8n_verify_tls,
        max_attempts=env.n8n_max_attempts,
        strategy=env.n8n_strategy,
        restart_command=env.n8n_restart_command,
        ca_bundle=str(env.n8n_ca_bundle) if env.n8n_ca_bundle else None,
        login=_login(
            env.n8n_email,
            env.n8n_password_file,
            "KEYTURN_N8N_EMAIL",
            "KEYTURN_N8N_PASSWORD_FILE",
        ),
    )


def _connection_from_file(name: str, config: FileConfig, path: Path | None) -> N8nConnection:
    settings = config.instances.get(name)
    if settings is None:
        known = ", ".join(sorted(config.instances)) or "none"
        where = str(path) if path else "no keyturn.toml was found"
        raise ConfigError(
            f"Unknown instance {name!r} ({where}; instances defined: {known}).",
            "Add [instances." + name + "] to keyturn.toml or pick a defined instance.",
        )
    key, source = _instance_api_key(name, settings)
    register_secret(key)
    return N8nConnection(
        name=name,
        url=settings.url,
        api_key=SecretStr(key),
        key_source=source,
        timeout=settings.timeout,
        verify_tls=settings.verify_tls,
        max_attempts=settings.max_attempts,
        strategy=settings.strategy,
        restart_command=settings.restart_command,
        ca_bundle=str(settings.ca_bundle) if settings.ca_bundle else None,
        login=_login(
            settings.email,
            settings.password_file,
            f"instances.{name}.email",
            f"instances.{name}.password_file",
        ),
    )


def _login(
    email: str | None, password_file: Path | None, email_setting: str, file_setting: str
) -> N8nLogin | None:
    """The keyturn user's login, when both its settings are given (one alone is an error)."""
    if email is None and password_file is None:
        return None
    if email is None or not email.strip():
        raise ConfigError(
            f"{file_setting} is set but {email_setting} is not.",
            f"Set {email_setting} to the keyturn user's e-mail, or unset {file_setting}.",
        )
    if password_file is None:
        raise ConfigError(
            f"{email_setting} is set but {file_setting} is not.",
            f"Put the user's password in a file (mode 600) and point {file_setting} at it; "
            "keyturn never takes a password on the command line.",
        )
    password = read_secret_file(password_file, file_setting)
    register_secret(password)
    return N8nLogin(email.strip(), SecretStr(password), f"{email_setting} ({email.strip()})")


def _instance_api_key(name: str, settings: InstanceConfig) -> tuple[str, str]:
    if settings.api_key_env:
        value = os.environ.get(settings.api_key_env, "").strip()
        if not value:
            raise ConfigError(
                f"Instance {name!r} reads its API key from ${settings.api_key_env}, "
                "which is not set.",
                f"Export {settings.api_key_env} with the n8n API key.",
            )
        return value, f"${settings.api_key_env} (instance {name})"
    if settings.api_key_file:
        setting = f"instances.{name}.api_key_file"
        return read_secret_file(
            settings.api_key_file, setting
        ), f"{setting} ({settings.api_key_file})"
    raise ConfigError(
        f"Instance {name!r} has no API key source.",
        f"Set api_key_env or api_key_file under [instances.{name}] in keyturn.toml.",
    )
