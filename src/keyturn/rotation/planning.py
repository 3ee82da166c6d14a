"""Planning a rotation: from what the user asked (options, keyturn.toml) to a checked plan.

Everything that can be known or checked before anything changes is done here: which
credential, which field, where the new value comes from, which strategy, how the secret is
proven, what can be rolled back, what will be revoked, which stores follow. The plan is shown
by --dry-run and stored in the journal.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from keyturn.core.config import RotationProfile, Settings
from keyturn.core.durations import format_duration, parse_duration
from keyturn.core.errors import ConfigError, CredentialNotFound, N8nError
from keyturn.core.probe import AuthPlacement, parse_auth
from keyturn.core.redact import register_secret
from keyturn.inventory.usage import FlagCode, Usage, build_usage_index
from keyturn.journal import Journal, Label, SecretVersion
from keyturn.journal.leases import instance_identity
from keyturn.locations.interface import SecretStore
from keyturn.locations.parse import LocationName, parse_location
from keyturn.locations.registry import build_store
from keyturn.n8n.client import N8nClient
from keyturn.n8n.credential_types import (
    auto_candidates,
    credential_type,
    placement_fields,
    placement_for,
    placement_from_fields,
    secret_field_for,
)
from keyturn.n8n.expressions import ExpressionError
from keyturn.n8n.models import Credential, Workflow
from keyturn.n8n.node_types import registers_webhook
from keyturn.n8n.session import CredentialData, is_placeholder
from keyturn.n8n.type_probes import (
    build_request,
    needed_fields,
    probe_gaps,
    referenced_fields,
    type_probe,
)
from keyturn.notify import Notifier
from keyturn.providers.interface import Capability, SecretProvider
from keyturn.providers.registry import build_provider
from keyturn.rotation.bundle import unpack
from keyturn.rotation.proofs import (
    PROBE,
    RETRY_FAILED,
    VerificationPlan,
    parse_modes,
    plan_verification,
)
from keyturn.rotation.strategies import (
    IN_PLACE,
    REPLACE,
    SESSION,
    Strategy,
    choose_strategy,
)

log = logging.getLogger(__name__)

DEFAULT_GRACE = "60s"
AUTO = "auto"  # --probe-auth auto: the placement is found with the new key, before set
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GENERIC_REQUIRED = {"httpHeaderAuth": "name", "httpQueryAuth": "name", "httpBasicAuth": "user"}


@dataclass
class RotateOptions:
    """What `keyturn rotate` was asked; None means "from keyturn.toml, or the default"."""

    credential: str
    new_secret: str | None = None
    secret_field: str | None = None
    provider: str | None = None
    grace: str | None = None
    verify: list[str] | None = None
    probe_url: str | None = None
    probe_auth: str | None = None
    webhooks: list[str] = field(default_factory=list)
    watch: str | None = None
    current_secret: str | None = None
    current_key_id: str | None = None
    strategy: str | None = None
    set_fields: list[str] = field(default_factory=list)
    allow_unverified: bool = False
    allow_no_rollback: bool = False
    restart: bool = False
    write_back: list[str] = field(default_factory=list)
    accept_webhook_gap: bool = False
    extra_secrets: dict[str, str] = field(default_factory=dict)  # field -> SOURCE (--field N=S)
    current_extras: dict[str, str] = field(default_factory=dict)  # --current-secret N=S


@dataclass
class RotationPlan:
    """Everything a rotation will do, shown by --dry-run and stored in the journal."""

    instance: str
    credential_id: str
    credential_name: str
    credential_type: str
    secret_field: str
    source: str
    provider: str | None
    provider_capabilities: list[str]
    strategy: str
    grace_seconds: float
    verify: list[str]
    probe_url: str | None
    probe_auth: str | None
    webhooks: list[str]
    watch_seconds: float
    failed_executions: list[str]
    workflow_ids: list[str]
    usages: list[str]
    rollback: str
    revoke: str
    warnings: list[str]
    allow_unverified: bool
    extra_data: dict[str, Any]
    restart_command: str | None = None
    write_back: list[str] = field(default_factory=list)
    key_id_field: str | None = None
    previous_key_id: str | None = None
    current_secret: str | None = None  # where the value now in n8n is read from (no value)
    webhook_gap: list[str] = field(default_factory=list)  # workflows whose webhooks re-register
    accept_webhook_gap: bool = False
    probe_type: str | None = None  # the credential type whose own test request is the probe
    probe_fields: dict[str, Any] = field(default_factory=dict)  # its non-secret fields
    probe_request: str | None = None  # that request, the secret masked
    extra_secrets: dict[str, str] = field(default_factory=dict)  # more fields, their sources
    current_extras: dict[str, str] = field(default_factory=dict)  # their current values' sources

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def rotated_fields(self) -> list[str]:
        return [self.secret_field, *self.extra_secrets]

    def lines(self) -> list[tuple[str, str]]:
        verification = ", ".join(self.verify) or "NONE (--allow-unverified)"
        if self.probe_request and PROBE in self.verify:
            verification += f"; probe {self.probe_request}"
        if self.probe_url and not (self.extra_secrets and self.probe_type):
            verification += f"; probe GET {self.probe_url} ({self.probe_auth})"
        if self.webhooks:
            verification += f"; webhooks {', '.join(self.webhooks)}"
        provider = "-"
        if self.provider:
            provider = f"{self.provider} ({', '.join(self.provider_capabilities) or 'nothing'})"
        return [
            (
                "credential",
                f"{self.credential_name} ({self.credential_id}, {self.credential_type})",
            ),
            ("field", " + ".join([self.secret_field, *self.extra_secrets])),
            ("new secret", self.source),
            *[(f"new {name}", source) for name, source in self.extra_secrets.items()],
            ("provider", provider),
            ("strategy", _strategy_text(self.strategy, " + ".join(self.rotated_fields))),
            ("affects", "; ".join(self.usages) or "no workflow uses it"),
            ("verification", verification),
            ("rollback", self.rollback),
            ("revoke old", f"{self.revoke} after a grace of {format_duration(self.grace_seconds)}"),
            *([("restart", f"n8n, by {self.restart_command!r}")] if self.restart_command else []),
            *[("write back", target) for target in self.write_back],
            *[("warning", warning) for warning in self.warnings],
        ]


def _strategy_text(strategy: str, field_names: str) -> str:
    if strategy == IN_PLACE:
        return f"update in place (partial PATCH of {field_names} only; ids unchanged)"
    if strategy == SESSION:
        return (
            f"update in place as the keyturn user (n8n's UI route; only {field_names} "
            "changes; ids unchanged)"
        )
    return "replace and repoint (new credential, nodes repointed, old deleted at finish)"


def webhook_gap_text(workflows: list[str]) -> str:
    return (
        f"replace and repoint saves {len(workflows)} active webhook workflow(s) "
        f"({', '.join(workflows)}): n8n re-registers their webhooks, and calls in that moment "
        "answer 404 (failed runs for their callers). A keyturn user avoids this (session "
        "strategy, docs/compatibility.md); --accept-webhook-gap accepts it."
    )


def find_credential(client: N8nClient, wanted: str) -> Credential:
    """A credential by id, or by a name that only one credential has."""
    credentials = client.list_credentials()
    by_id = [c for c in credentials if c.id == wanted]
    if by_id:
        return by_id[0]
    named = [c for c in credentials if c.name == wanted]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        ids = ", ".join(f"{c.id} ({c.type})" for c in named)
        raise CredentialNotFound(
            f"{len(named)} credentials are named {wanted!r}: {ids}.",
            "Name the one to rotate by its id.",
        )
    raise CredentialNotFound(
        f"n8n has no credential with the id or name {wanted!r}.",
        "`keyturn inventory` lists credentials with their ids.",
    )


class Planner:
    """Builds and checks a RotationPlan for one instance."""

    def __init__(self, settings: Settings, client: N8nClient, journal: Journal) -> None:
        self.settings = settings
        self.client = client
        self.journal = journal
        self.instance = settings.connection.name
        self.instance_url = instance_identity(settings.connection.url)

    def label(self, credential_id: str, label: Label) -> SecretVersion | None:
        """A labelled secret of a credential on this instance (keyturn 0.1's rows by name)."""
        return self.journal.label(self.instance_url, credential_id, label, self.instance)

    def plan(self, options: RotateOptions) -> tuple[RotationPlan, Strategy, SecretProvider | None]:
        """Check everything a rotation needs, changing nothing; the plan --dry-run shows."""
        credential = find_credential(self.client, options.credential)
        profile = self.settings.profile_for(credential.id, credential.name)
        Notifier.from_config(self.settings.file.notifications)  # checked before any change
        provider = self._provider(options.provider or profile.provider)
        source = self._new_secret_source(options.new_secret or profile.new_secret, provider)
        strategy = choose_strategy(
            self.client, self.journal, self.settings.connection.strategy, options.strategy
        )
        _refuse_unpatchable_name(credential, strategy)
        secret_field = secret_field_for(credential.type, options.secret_field or profile.field)
        extras = self._extra_secrets(
            credential,
            secret_field,
            {**profile.extra_secrets, **options.extra_secrets},
            options.set_fields,
            provider,
        )
        named_currents = dict(options.current_extras)
        main_current = named_currents.pop(secret_field, None)
        if main_current and options.current_secret:
            raise ConfigError(f"--current-secret is given twice for {secret_field}.", None)
        current_secret_text = options.current_secret or main_current
        current_extras = _current_extras(extras, named_currents)
        _refuse_stdin_twice(options, current_secret_text, extras, current_extras, profile)
        last = self._last_completed_plan(credential.id)
        probe_url_value = options.probe_url or profile.probe_url
        probe_auth_text = options.probe_auth or profile.probe_auth
        if probe_url_value is None and last.get("probe_url"):  # given once, remembered
            probe_url_value = last["probe_url"]
            probe_auth_text = probe_auth_text or last.get("probe_auth")
        needs_fields = strategy.name in (SESSION, REPLACE) or bool(
            probe_url_value and not probe_auth_text
        )
        stored = self._stored_fields(credential, [secret_field, *extras], needs_fields)
        placement = self._placement(credential, probe_url_value, probe_auth_text, stored) or (
            provider.probe_placement if provider else None
        )
        has_own_probe = bool(probe_url_value) or bool(
            provider and Capability.PROBE in provider.capabilities
        )
        # With several fields, the type's own test request (which sends them all) comes
        # before a probe URL or a provider's probe (which send the main one only).
        type_probe_plan = (
            None
            if has_own_probe and not extras
            else self._type_probe(
                credential, [secret_field, *extras], profile, options.set_fields, stored
            )
        )
        if has_own_probe and extras and not (type_probe_plan and type_probe_plan[2]):
            if not options.allow_unverified:
                why = type_probe_plan[1] if type_probe_plan else "keyturn has no test for it"
                raise ConfigError(
                    f"{', '.join(extras)} would reach n8n unproven: a probe URL or a "
                    "provider's probe sends the main secret only, and the type's own test "
                    f"request cannot be used ({why}).",
                    "Make the type's test usable (see the reason), or accept the risk with "
                    "--allow-unverified.",
                )
            type_probe_plan = None
        workflows = self.client.list_workflows()
        index = build_usage_index([credential], workflows)
        usages = index.usages_of(credential.id)
        gap = webhook_gap(workflows, credential.id) if strategy.name == REPLACE else []
        accept_gap = options.accept_webhook_gap or profile.accept_webhook_gap
        verification = self._verification(
            credential,
            options,
            profile,
            usages,
            bool(probe_url_value) or bool(type_probe_plan and type_probe_plan[2]),
            provider,
        )
        targets = options.write_back or profile.write_back
        _refuse_write_back_of_several(targets, extras)
        current_source = self._current_source(
            credential, secret_field, current_secret_text, targets
        )
        previous_key_id = self._previous_key_id(credential, options, provider)
        rollback, revoke = self._rollback_and_revoke(
            credential, secret_field, current_source, provider, previous_key_id
        )
        unknown = self._unknown_currents(credential, secret_field, extras, current_extras)
        if unknown and not rollback.startswith("IMPOSSIBLE"):
            rollback = (
                f"IMPOSSIBLE: the current value of {', '.join(unknown)} is unknown to keyturn"
            )
        elif extras and not rollback.startswith("IMPOSSIBLE"):
            rollback += f"; {', '.join(extras)} too"
        self._refuse_without_rollback(
            credential, strategy, rollback, options.allow_no_rollback, unknown
        )
        plan = RotationPlan(
            instance=self.instance,
            credential_id=credential.id,
            credential_name=credential.name,
            credential_type=credential.type,
            secret_field=secret_field,
            source=source.describe(),
            provider=provider.name if provider else None,
            provider_capabilities=sorted(provider.capabilities) if provider else [],
            strategy=strategy.name,
            grace_seconds=parse_duration(
                options.grace or profile.grace or DEFAULT_GRACE, "--grace"
            ),
            verify=verification.modes,
            probe_url=probe_url_value,
            probe_auth=placement.describe()
            if placement
            else (AUTO if probe_url_value and probe_auth_text == AUTO else None),
            webhooks=verification.webhooks,
            watch_seconds=verification.watch_seconds,
            failed_executions=verification.failed_execution_ids,
            workflow_ids=_workflow_ids(usages),
            usages=[
                f"{u.workflow_name} > {u.node_name} ({'active' if u.active else 'inactive'})"
                for u in usages
            ],
            rollback=rollback,
            revoke=revoke,
            warnings=self._warnings(index.flags, credential, workflows)
            + _retry_warning(verification)
            + ([webhook_gap_text(gap)] if gap else []),
            allow_unverified=options.allow_unverified,
            extra_data=self._extra_data(
                credential, strategy, placement, options.set_fields, stored
            ),
            restart_command=self._restart_command(options.restart),
            write_back=list(targets),
            key_id_field=provider.key_id_field if provider else None,
            previous_key_id=previous_key_id,
            current_secret=current_source,
            webhook_gap=gap,
            accept_webhook_gap=accept_gap,
            extra_secrets={name: source.describe() for name, source in extras.items()},
            current_extras={name: source.describe() for name, source in current_extras.items()},
        )
        if type_probe_plan is not None:
            plan.probe_fields, plan.probe_request, usable = type_probe_plan
            if usable:
                plan.probe_type = credential.type
                plan.warnings += _assumed_switch_warnings(credential.type, plan.probe_fields)
            else:
                plan.warnings.append(f"no probe of its own before set: {plan.probe_request}")
                plan.probe_request = None
        return plan, strategy, provider

    def _type_probe(
        self,
        credential: Credential,
        rotated: list[str],
        profile: RotationProfile,
        set_fields: list[str],
        stored: dict[str, Any],
    ) -> tuple[dict[str, Any], str, bool] | None:
        """The credential type's own test request as the probe: (its non-secret fields, the
        request with the secret masked or why it cannot be built, whether it can). None when
        keyturn's table has no test for the type. Fields: the type's defaults, then those
        remembered from the last rotation, the keyturn user's reading, keyturn.toml's
        `fields`, and --set."""
        probe = type_probe(credential.type)
        if probe is None:
            return None
        remembered = self._last_completed_plan(credential.id).get("probe_fields")
        for name in profile.fields:
            _refuse_unknown_field(credential, name, "fields in keyturn.toml")
        fields = {
            **(remembered if isinstance(remembered, dict) else {}),
            **stored,
            **profile.fields,
            **_set_fields(credential, set_fields),
        }
        fields = {k: v for k, v in fields.items() if k not in probe.secret_fields}
        try:
            probe.typed(fields)
        except ExpressionError as exc:
            raise ConfigError(f"A field given to the probe is wrong: {exc}.", None) from None
        samples = {name: _sample(name) for name in rotated}
        try:
            gap = probe_gaps(probe, fields, rotated)
            if gap:
                return fields, gap, False
            request = build_request(probe, {**fields, **samples})
        except ExpressionError as exc:
            empty = [name for name in referenced_fields(probe) if not fields.get(name)]
            hint = f" (give --set {empty[0]}=VALUE)" if empty else ""
            return fields, f"{exc}{hint}", False
        missing = [name for name, sample in samples.items() if not request.carries(sample)]
        if missing:
            return fields, f"its test request does not carry {', '.join(missing)}", False
        return fields, request.describe(list(samples.values())), True

    def _extra_secrets(
        self,
        credential: Credential,
        secret_field: str,
        wanted: dict[str, str],
        set_fields: list[str],
        provider: SecretProvider | None,
    ) -> dict[str, LocationName]:
        """The secret fields rotated with the main one (`--field NAME=SOURCE`), checked:
        fields of the type, none twice, none a --set field or the provider's key id."""
        extras: dict[str, LocationName] = {}
        taken = {secret_field, *_set_fields(credential, set_fields)}
        if provider and provider.key_id_field:
            taken.add(provider.key_id_field)
        for name, text in wanted.items():
            secret_field_for(credential.type, name)  # refuses a field the type does not have
            if name in taken:
                raise ConfigError(
                    f"Field {name!r} is rotated or set twice in this rotation.",
                    "Name each field once: the main one with --field NAME and --new-secret, "
                    "each other with --field NAME=SOURCE.",
                )
            source = parse_location(text, f"--field {name}")
            if source.kind == "provider":
                raise ConfigError(
                    f"--field {name}=provider: a provider issues the main secret only.",
                    f"Give {name} from stdin, file:, env:, env-file:, vault: or generate.",
                )
            extras[name] = source
        return extras

    def known_current(self, credential_id: str, field_name: str) -> dict[str, str]:
        """The values keyturn knows are in n8n now, by field (its `current` label). A plain
        value belongs to the field of the rotation that set it, not to whatever field is
        rotated next."""
        current = self.label(credential_id, Label.CURRENT)
        value = self.journal.decrypt(current.secret if current else None)
        if current is None or value is None:
            return {}
        setter = self.journal.get(current.rotation_id) if current.rotation_id else None
        return unpack(value, setter.field if setter else field_name)

    def _unknown_currents(
        self,
        credential: Credential,
        secret_field: str,
        extras: dict[str, LocationName],
        current_extras: dict[str, LocationName],
    ) -> list[str]:
        """The fields rotated with the main one whose value now in n8n keyturn does not know
        (a rollback needs each)."""
        if not extras:
            return []
        known = self.known_current(credential.id, secret_field)
        return [name for name in extras if name not in known and name not in current_extras]

    def _last_completed_plan(self, credential_id: str) -> dict[str, Any]:
        """The plan of the last completed rotation of this credential (not a restore): what
        was given once (probe fields, probe URL and placement) is remembered from it."""
        for rotation in reversed(
            self.journal.rotations(self.instance, credential_id, self.instance_url)
        ):
            if rotation.status == "completed" and not rotation.plan.get("restore"):
                return dict(rotation.plan)
        return {}

    def _stored_fields(
        self, credential: Credential, rotated: list[str], needed: bool
    ) -> dict[str, Any]:
        """The credential's non-secret fields as n8n stores them, read by the keyturn user
        (the public API never returns them): only the fields keyturn's table of the type lists
        as not secret, so a value n8n shows in clear but is a secret never reaches the plan.
        `needed`: the rotation cannot go on without them (else a failed read is only logged).
        """
        if self.client.session is None:
            return {}
        try:
            data = self.client.read_credential(credential.id)
        except N8nError as exc:
            if needed:
                raise
            log.warning("The keyturn user could not read %s: %s", credential.id, exc.message)
            return {}
        if data is None:
            return {}
        for name in rotated:
            _refuse_expression(credential, name, data)
        clear = data.clear_fields()
        known = credential_type(credential.type)
        allowed = set(known.fields) - set(known.secret_fields) - set(rotated) if known else set()
        for name, value in clear.items():
            if name not in allowed and isinstance(value, str) and value:
                register_secret(value)  # a field keyturn cannot vouch for: kept out of output
        return {name: value for name, value in clear.items() if name in allowed}

    def _provider(self, name: str | None) -> SecretProvider | None:
        return build_provider(name, self.settings.file) if name else None

    @staticmethod
    def _new_secret_source(text: str | None, provider: SecretProvider | None) -> LocationName:
        """Where the new secret comes from: a location, or the provider (the default with one)."""
        text = text or ("provider" if provider else None)
        if text is None:
            raise ConfigError(
                "Say where the new secret comes from with --new-secret "
                "(stdin, file:PATH, env:VAR, env-file:PATH#VAR, vault:MOUNT/PATH#FIELD, "
                "generate[:LENGTH] or provider).",
                None,
            )
        source = parse_location(text)
        if source.kind == "provider" and (
            provider is None or Capability.ISSUE not in provider.capabilities
        ):
            raise ConfigError(
                "--new-secret provider needs a provider that can issue keys.",
                "Name one with --provider (see docs/providers/http.md).",
            )
        return source

    def _verification(
        self,
        credential: Credential,
        options: RotateOptions,
        profile: RotationProfile,
        usages: list[Usage],
        has_probe_url: bool,
        provider: SecretProvider | None,
    ) -> VerificationPlan:
        """The proofs the new secret must pass; refuses a rotation with none (unless allowed)."""
        can_probe = has_probe_url or bool(provider and Capability.PROBE in provider.capabilities)
        verification = plan_verification(
            self.client,
            credential_id=credential.id,
            cred_type=credential.type,
            workflow_ids=_workflow_ids(usages),
            can_probe=can_probe,
            webhooks=options.webhooks or profile.verify_webhooks,
            watch_seconds=parse_duration(options.watch or profile.watch or "0s", "--watch"),
            requested=parse_modes(options.verify or profile.verify),
        )
        self._refuse_blind(verification, options.allow_unverified)
        return verification

    def _current_source(
        self, credential: Credential, secret_field: str, given: str | None, targets: list[str]
    ) -> str | None:
        """Where the value in use now can be read, for a rollback: given, or a write-back store
        that holds it (when the journal does not know it yet). Checks every store on the way."""
        for target in targets:
            self.store(target).preflight()
        if given and parse_location(given, "--current-secret").kind in ("generate", "provider"):
            raise ConfigError(
                "--current-secret names where the value in use now can be read: stdin, "
                "file:PATH, env:VAR, env-file:PATH#VAR or vault:MOUNT/PATH#FIELD.",
                None,
            )
        if given or not targets:
            return given
        if secret_field in self.known_current(credential.id, secret_field):
            return None
        return self._current_from_stores(targets)

    @staticmethod
    def _refuse_without_rollback(
        credential: Credential,
        strategy: Strategy,
        rollback: str,
        allowed: bool,
        unknown: list[str],
    ) -> None:
        in_place = strategy.name in (IN_PLACE, SESSION)
        if in_place and rollback.startswith("IMPOSSIBLE") and not allowed:
            option = f"{unknown[0]}=SOURCE" if unknown else "SOURCE"
            fields = f" ({', '.join(unknown)})" if unknown else ""
            raise ConfigError(
                f"keyturn does not know the current value of {credential.name!r}{fields}, so it "
                "could not put it back if the new one fails (n8n's API never returns credential "
                "data).",
                f"Give it once with --current-secret {option} (keyturn keeps it encrypted from "
                "then on), or "
                "accept the risk with --allow-no-rollback.",
            )

    def _previous_key_id(
        self, credential: Credential, options: RotateOptions, provider: SecretProvider | None
    ) -> str | None:
        """The provider's id of the key in use: given, known to the journal, or asked."""
        if options.current_key_id:
            return options.current_key_id
        current = self.label(credential.id, Label.CURRENT)
        if current is not None and current.provider_key_id:
            return current.provider_key_id
        return provider.current_key_id() if provider else None

    def store(self, target: str) -> SecretStore:
        return build_store(target, self.settings.file.vault)

    def _current_from_stores(self, targets: list[str]) -> str | None:
        """A store that holds the current value makes a rollback possible."""
        for target in targets:
            store = self.store(target)
            if store.read_current():
                return store.describe()
        return None

    def _restart_command(self, wanted: bool) -> str | None:
        if not wanted:
            return None
        command = self.settings.connection.restart_command
        if not command:
            raise ConfigError(
                "--restart needs a restart_command for this instance.",
                'Set restart_command = "..." under [instances.NAME] in keyturn.toml.',
            )
        return command

    def _placement(
        self,
        credential: Credential,
        url: str | None,
        auth_text: str | None,
        stored: dict[str, Any],
    ) -> AuthPlacement | None:
        if auth_text == AUTO:
            if url is None:
                raise ConfigError("--probe-auth auto needs --probe-url.", None)
            auto_candidates(credential.type)  # refuses a type auto cannot guess for
            # The credential's own fields say it, or the new key finds it before set.
            return placement_from_fields(credential.type, stored)
        explicit = parse_auth(auth_text) if auth_text else None
        if url is None:
            return explicit
        return placement_for(
            credential.type, explicit or placement_from_fields(credential.type, stored)
        )

    @staticmethod
    def _refuse_blind(verification: VerificationPlan, allow_unverified: bool) -> None:
        if verification.empty and not allow_unverified:
            raise ConfigError(
                "keyturn has no way to prove the new secret works, and will not rotate blind.",
                "Add --probe-url URL --probe-auth header:NAME, a provider with a probe, "
                "--verify-webhook PATH or --watch DURATION; or accept the risk with "
                "--allow-unverified.",
            )

    def _extra_data(
        self,
        credential: Credential,
        strategy: Strategy,
        placement: AuthPlacement | None,
        set_fields: list[str],
        stored: dict[str, Any],
    ) -> dict[str, Any]:
        """Non-secret fields a replacement credential needs: as stored (read by the keyturn
        user), else implied by the probe's placement, then --set."""
        data: dict[str, Any] = {} if strategy.name != REPLACE else dict(stored)
        if placement:
            data = {**placement_fields(credential.type, placement), **data}
        data.update(_set_fields(credential, set_fields))
        required = _GENERIC_REQUIRED.get(credential.type)
        if strategy.name == REPLACE and required and required not in data:
            raise ConfigError(
                f"Replacing a {credential.type} credential needs its {required!r} field, which "
                "n8n's API never returns.",
                f"Give it with --set {required}=VALUE (or --probe-auth).",
            )
        return data

    def _rollback_and_revoke(
        self,
        credential: Credential,
        secret_field: str,
        current_source: str | None,
        provider: SecretProvider | None,
        key_id: str | None,
    ) -> tuple[str, str]:
        current = self.label(credential.id, Label.CURRENT)
        if current_source:
            given = parse_location(current_source, "--current-secret")
            rollback = f"previous value from {given.describe()}"
        elif current is not None and secret_field in self.known_current(
            credential.id, secret_field
        ):
            rollback = f"previous value known to keyturn ({current.fingerprint})"
        else:
            rollback = "IMPOSSIBLE: the current value is unknown to keyturn"
        if provider is None or Capability.REVOKE not in provider.capabilities:
            revoke = "nothing (no provider that can revoke)"
        elif key_id:
            revoke = f"key {key_id} at {provider.name}"
        else:
            revoke = "nothing: the old key's id is unknown (give --current-key-id)"
        return rollback, revoke

    def _warnings(
        self, flags: list[Any], credential: Credential, workflows: list[Workflow]
    ) -> list[str]:
        warnings = [
            flag.message
            for flag in flags
            if flag.code in (FlagCode.DUPLICATE_NAME,) and flag.credential_id == credential.id
        ]
        env_nodes = [
            f"{flag.workflow_name} > {flag.node_name}"
            for flag in build_usage_index([], workflows).flags
            if flag.code is FlagCode.ENV_SECRET
        ]
        if env_nodes:
            restart = self.settings.connection.restart_command
            warnings.append(
                f"{len(env_nodes)} node(s) read secrets from $env ({', '.join(env_nodes[:3])}): "
                "rotating a credential does not change them; n8n must restart to see a new "
                + ("value (restart_command is configured)." if restart else "value.")
            )
        return warnings

    # -- running ---------------------------------------------------------------------------


def _set_fields(credential: Credential, set_fields: list[str]) -> dict[str, str]:
    """`--set FIELD=VALUE` items, each a non-secret field of the credential."""
    fields = {}
    for item in set_fields:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--set {item!r} is not FIELD=VALUE.", None)
        _refuse_unknown_field(credential, name, "--set")
        known = credential_type(credential.type)
        if known and known.secret_fields and name in known.secret_fields:
            raise ConfigError(
                f"--set cannot carry the secret field {name!r}: it would show on the command line.",
                "Secrets come from --new-secret SOURCE only.",
            )
        fields[name] = value
    return fields


def _sample(name: str) -> str:
    """A stand-in for a secret in the shown request, shaped like it where that matters (a
    secret that is itself the address, such as a webhook URL); ended so one field's sample
    is never part of another's."""
    if any(word in name.lower() for word in ("url", "uri")):
        return f"https://keyturn-sample.example/{name}/end"
    return f"keyturn-sample-{name}-end"


def _refuse_unknown_field(credential: Credential, name: str, option: str) -> None:
    """A field name the type does not have (a typo would leave the default in place, and
    the probe would send the key to the type's default host)."""
    known = credential_type(credential.type)
    probe = type_probe(credential.type)
    names = set(known.fields if known else ()) | set(probe.field_types if probe else ())
    if names and name not in names:
        raise ConfigError(
            f"{option}: credential type {credential.type} has no field {name!r}.",
            f"Its fields: {', '.join(sorted(names))}.",
        )


def _assumed_switch_warnings(type_name: str, fields: dict[str, Any]) -> list[str]:
    """What the probe takes from the type's defaults because n8n's API does not return it:
    a switch that decides where the secret goes, and the address the key is sent to (a
    credential pointed at a gateway or a self-hosted server must say so with --set)."""
    probe = type_probe(type_name)
    if probe is None:
        return []
    warnings = [
        f"the probe assumes {name} = {value!r} ({type_name}'s default; n8n's API does not return "
        f"it); if this credential says otherwise, give --set {name}=VALUE"
        for name, value in probe.assumed_switches(fields).items()
    ]
    defaulted = [
        name
        for name in needed_fields(probe)
        if name not in fields and probe.field_types.get(name) != "hidden"
    ]
    warnings += [
        f"the probe sends the new key to {type_name}'s default {name} {probe.defaults.get(name)!r} "
        f"(n8n's API does not return this credential's); if it points elsewhere (a gateway, a "
        f"self-hosted server), give --set {name}=URL"
        for name in defaulted
        if probe.defaults.get(name)
    ]
    return warnings


def split_sources(items: list[str], option: str) -> tuple[str | None, dict[str, str]]:
    """Repeated `--field` / `--current-secret` items: at most one plain item (the main
    secret's), and NAME=SOURCE items for the fields rotated with it."""
    plain: list[str] = []
    named: dict[str, str] = {}
    for item in items:
        name, sep, source = item.partition("=")
        if sep and _FIELD_NAME.fullmatch(name) and source:
            if name in named:
                raise ConfigError(f"{option} {name}=... is given twice.", None)
            named[name] = source
        else:
            plain.append(item)
    if len(plain) > 1:
        raise ConfigError(
            f"{option} is given {len(plain)} times without a field name.",
            f"Give the main one once; the others as {option} FIELD=SOURCE.",
        )
    return (plain[0] if plain else None), named


def _current_extras(
    extras: dict[str, LocationName], given: dict[str, str]
) -> dict[str, LocationName]:
    """`--current-secret NAME=SOURCE` items: only for fields rotated in this rotation, and
    only from places a value can be read."""
    currents = {}
    for name, text in given.items():
        if name not in extras:
            raise ConfigError(
                f"--current-secret {name}=... names a field this rotation does not change.",
                f"Rotate it too with --field {name}=SOURCE, or drop that --current-secret.",
            )
        source = parse_location(text, f"--current-secret {name}")
        if source.kind in ("generate", "provider"):
            raise ConfigError(
                f"--current-secret {name}= names where the value in use now can be read: "
                "stdin, file:PATH, env:VAR, env-file:PATH#VAR or vault:MOUNT/PATH#FIELD.",
                None,
            )
        currents[name] = source
    return currents


def _refuse_stdin_twice(
    options: RotateOptions,
    current: str | None,
    extras: dict[str, LocationName],
    current_extras: dict[str, LocationName],
    profile: RotationProfile,
) -> None:
    """stdin can be read once: only one of the sources may be it (checked by --dry-run too)."""
    texts = [options.new_secret or profile.new_secret or "", current or ""]
    kinds = [parse_location(text).kind for text in texts if text]
    kinds += [source.kind for source in [*extras.values(), *current_extras.values()]]
    if kinds.count("stdin") > 1:
        raise ConfigError(
            "Only one of --new-secret, --current-secret and --field NAME=SOURCE can read stdin.",
            "Give the others as file:, env:, env-file: or vault: sources.",
        )


def _refuse_write_back_of_several(targets: list[str], extras: dict[str, LocationName]) -> None:
    if targets and extras:
        raise ConfigError(
            "--write-back keeps one value in step with n8n, and this rotation changes "
            f"{len(extras) + 1} fields.",
            "Rotate the fields one by one to write each back, or drop --write-back.",
        )


def _refuse_expression(credential: Credential, secret_field: str, data: CredentialData) -> None:
    """A secret field holding an expression (`={{ $secrets.vault.key }}`, `={{ $env.KEY }}`)
    takes its value from elsewhere: writing a literal would cut that link."""
    value = data.data.get(secret_field)
    if isinstance(value, str) and value.startswith("=") and not is_placeholder(value):
        raise ConfigError(
            f"Field {secret_field!r} of credential {credential.name!r} is an expression: n8n "
            "reads its value from an external secrets store or the environment, and writing "
            "a new value into n8n would cut that link.",
            "Rotate the secret where the expression points (for example with --write-back "
            "vault:... and a restart for $env), not in n8n.",
        )


def _refuse_unpatchable_name(credential: Credential, strategy: Strategy) -> None:
    """n8n re-checks a credential's name on every update, even one that does not change it,
    and refuses one outside 3 to 128 characters (which create accepts)."""
    if strategy.name in (IN_PLACE, SESSION) and not 3 <= len(credential.name) <= 128:
        raise ConfigError(
            f"n8n refuses to update credential {credential.id} in place: its name has "
            f"{len(credential.name)} characters, and n8n requires 3 to 128 on every update.",
            "Rename it in n8n (workflows follow the id, not the name), then rotate.",
        )


def webhook_gap(workflows: list[Workflow], credential_id: str) -> list[str]:
    """Active workflows using the credential whose webhooks n8n re-registers when they are
    saved (by replace and repoint)."""
    return sorted(
        workflow.name or str(workflow.id)
        for workflow in workflows
        if workflow.active
        and not workflow.is_archived
        and any(
            ref.id == credential_id for node in workflow.nodes for ref in node.credentials.values()
        )
        and any(registers_webhook(node.type) and not node.disabled for node in workflow.nodes)
    )


def _workflow_ids(usages: list[Usage]) -> list[str]:
    return sorted({usage.workflow_id for usage in usages if usage.workflow_id})


def _retry_warning(verification: VerificationPlan) -> list[str]:
    """`retry-failed` re-runs real executions: the plan says so before it happens."""
    ids = verification.failed_execution_ids
    if RETRY_FAILED not in verification.modes or not ids:
        return []
    return [
        f"retry-failed re-runs {len(ids)} real execution(s) ({', '.join(ids)}): whatever they "
        "do (e-mails, payments, writes) happens again."
    ]
