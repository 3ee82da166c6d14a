"""Running rotations: start a planned one, resume, roll back, restore a previous value.

The CLI calls these functions; they build the pieces (provider, strategy, verifier, stores)
and hand them to the protocol, which never sees the CLI. Planning lives in planning.py.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TextIO

from keyturn.core.config import Settings
from keyturn.core.durations import aware
from keyturn.core.errors import ConfigError, CredentialNotFound, KeyturnError
from keyturn.core.probe import ProbeResult, detect_placement, parse_auth, probe_url
from keyturn.core.redact import redact
from keyturn.journal import Journal, Label, Rotation, Status, Step
from keyturn.journal.leases import kept_alive
from keyturn.journal.models import NAME_COLUMN
from keyturn.locations.interface import SecretStore
from keyturn.locations.parse import parse_location
from keyturn.locations.registry import read_secret
from keyturn.n8n.client import LOGIN_HINT, N8nClient
from keyturn.n8n.credential_types import auto_candidates
from keyturn.n8n.expressions import ExpressionError
from keyturn.n8n.type_probes import build_request, send_probe, type_probe
from keyturn.notify import Notifier
from keyturn.notify import Outcome as NotifyOutcome
from keyturn.providers.interface import Capability, SecretProvider
from keyturn.providers.registry import build_provider
from keyturn.rotation.bundle import pack, unpack
from keyturn.rotation.planning import (
    AUTO,
    Planner,
    RotateOptions,
    RotationPlan,
    find_credential,
    webhook_gap_text,
)
from keyturn.rotation.proofs import (
    PROBE,
    Verifier,
)
from keyturn.rotation.protocol import Outcome, ProtocolDeps, RotationProtocol
from keyturn.rotation.strategies import (
    REPLACE,
    Strategy,
    choose_strategy,
    rotated_fields,
    strategy_by_name,
)

log = logging.getLogger(__name__)
# How far n8n's clock and keyturn's may differ when their times are compared.
_CLOCKS_APART = timedelta(minutes=1)


def _event(rotation: Rotation) -> dict[str, Any]:
    """What a notification says about a rotation: fingerprints, never secrets."""
    return {
        "rotation_id": rotation.id,
        "instance": rotation.instance,
        "credential_id": rotation.credential_id,
        "credential_name": rotation.credential_name,
        "status": rotation.status,
        "step": rotation.step,
        "pending_fingerprint": rotation.pending_fingerprint,
        "previous_fingerprint": rotation.previous_fingerprint,
    }


class Rotations:
    """The rotation commands for one instance: plan, rotate, resume, rollback."""

    def __init__(
        self,
        settings: Settings,
        client: N8nClient,
        journal: Journal,
        stdin: TextIO | None = None,
        on_step: Callable[[str, str], None] | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        """`sleep` waits out a grace period (`keyturn serve` interrupts it to stop at a safe
        point); `notifier` replaces keyturn.toml's `[notifications]` for rotation outcomes."""
        self.settings = settings
        self.client = client
        self.journal = journal
        self.stdin = stdin
        self.on_step = on_step or (lambda step, detail: None)
        self.sleep = sleep
        self.notifier = notifier
        self.instance = settings.connection.name
        self.planner = Planner(settings, client, journal)
        self.instance_url = self.planner.instance_url

    def plan(self, options: RotateOptions) -> tuple[RotationPlan, Strategy, SecretProvider | None]:
        return self.planner.plan(options)

    def store(self, target: str) -> SecretStore:
        return self.planner.store(target)

    # -- planning --------------------------------------------------------------------------

    def rotate(self, options: RotateOptions) -> Outcome:
        plan, strategy, provider = self.plan(options)
        if plan.webhook_gap and not plan.accept_webhook_gap:
            raise ConfigError(
                f"Refused: {webhook_gap_text(plan.webhook_gap)}",
                "Add a keyturn user (KEYTURN_N8N_EMAIL and KEYTURN_N8N_PASSWORD_FILE) for a "
                "zero-downtime update in place, or pass --accept-webhook-gap "
                "(accept_webhook_gap = true in the credential's [rotation] section).",
            )
        notifier = self._notifier()  # a bad [notifications] table fails before anything starts
        source = parse_location(plan.source)
        # Read given values before anything is recorded: a bad source changes nothing.
        preloaded = self.read_value(plan.source) if source.kind != "provider" else None
        extras = {
            name: self.read_value(text, f"--field {name}")
            for name, text in plan.extra_secrets.items()
        }
        previous_value = self._previous_value(plan)
        rotation = self.journal.start_rotation(
            instance=self.instance,
            instance_url=self.instance_url,
            credential_id=plan.credential_id,
            credential_name=plan.credential_name[:NAME_COLUMN],  # n8n allows longer names
            credential_type=plan.credential_type,
            field=plan.secret_field,
            strategy=plan.strategy,
            provider=plan.provider,
            plan=plan.as_dict(),
        )
        if previous_value is not None:
            rotation.previous_secret, rotation.previous_fingerprint = self.journal.encrypt(
                previous_value
            )
        rotation.previous_key_id = plan.previous_key_id
        self.journal.save(rotation)
        self.journal.audit(
            rotation,
            "start",
            "ok",
            f"strategy {plan.strategy}; verify {', '.join(plan.verify) or 'none'}",
        )
        protocol = self._protocol(rotation, strategy, provider, preloaded, extras)
        return self._run_notified(protocol, rotation, notifier)

    def _previous_value(self, plan: RotationPlan) -> str | None:
        """The value of every rotated field now in n8n, as far as keyturn knows it: given
        (--current-secret), else its `current` label. Only the rotated fields are kept, so
        a rollback puts back exactly what the rotation changed."""
        known = self.planner.known_current(plan.credential_id, plan.secret_field)
        if plan.current_secret:
            known[plan.secret_field] = self.read_value(plan.current_secret, "--current-secret")
        for name, text in plan.current_extras.items():
            known[name] = self.read_value(text, f"--current-secret {name}")
        values = {name: known[name] for name in plan.rotated_fields if name in known}
        return pack(values, plan.secret_field) if values else None

    def _notifier(self) -> Notifier:
        return self.notifier or Notifier.from_config(self.settings.file.notifications)

    def _run_notified(
        self, protocol: RotationProtocol, rotation: Rotation, notifier: Notifier
    ) -> Outcome:
        """Run a rotation, its lease kept alive, and tell the notification channels how it
        ended."""
        try:
            with kept_alive(self.journal.engine, rotation.id):
                outcome = protocol.run(rotation)
        except KeyturnError as exc:
            kind: NotifyOutcome = "rollback" if rotation.status == Status.ROLLED_BACK else "failure"
            notifier.notify(kind, {**_event(rotation), "error": redact(exc.message)})
            raise
        notifier.notify("success", _event(rotation))
        return outcome

    def read_value(self, text: str, option: str = "--new-secret") -> str:
        """The secret at a location (stdin, file:, env:, env-file:, vault:, generate...)."""
        return read_secret(text, option, self.settings.file.vault, self.stdin)

    def resume(self, rotation_id: str | None) -> list[Outcome]:
        rotations = self._in_flight(rotation_id)
        notifier = self._notifier()
        outcomes = []
        for rotation in rotations:
            self.journal.claim(rotation)  # refused while another process keeps it alive
            if rotation.status != Status.IN_PROGRESS:
                continue  # ended by its previous owner meanwhile
            strategy = strategy_by_name(self.client, self.journal, rotation.strategy)
            provider = self._provider_of(rotation)
            rotation.plan = {**rotation.plan, "resumed": True}
            self.journal.save(rotation)
            self.journal.audit(rotation, "resume", "ok", f"from step {rotation.step}")
            outcomes.append(
                self._run_notified(self._protocol(rotation, strategy, provider), rotation, notifier)
            )
        return outcomes

    def rollback(self, credential_ref: str, force: bool = False) -> Rotation:
        """Undo the in-flight rotation of a credential, or restore its previous value."""
        in_flight = [
            r
            for r in self.journal.in_flight(self.instance, self.instance_url)
            if credential_ref in (r.credential_id, r.credential_name, r.id, r.short_id)
        ]
        if in_flight:
            rotation = in_flight[0]
            self.journal.claim(rotation)  # refused while another process keeps it alive
            if rotation.status != Status.IN_PROGRESS:
                return rotation  # ended by its previous owner meanwhile
            provider = self._provider_of(rotation)
            strategy = strategy_by_name(self.client, self.journal, rotation.strategy)
            with kept_alive(self.journal.engine, rotation.id):
                self._protocol(rotation, strategy, provider).rollback(
                    rotation, "rolled back by request"
                )
            return rotation
        return self._restore_previous(credential_ref, force)

    def describe_rollback(self, credential_ref: str) -> str:
        """What `rollback` would do, changing nothing (for --dry-run)."""
        for rotation in self.journal.in_flight(self.instance, self.instance_url):
            if credential_ref in (
                rotation.credential_id,
                rotation.credential_name,
                rotation.id,
                rotation.short_id,
            ):
                if rotation.plan.get("finish_started"):
                    return (
                        f"Would refuse: rotation {rotation.short_id} of "
                        f"{rotation.credential_name!r} has begun its finish step (the old key may "
                        f"be revoked); `keyturn resume {rotation.short_id}` goes forward."
                    )
                undo = (
                    f"put {rotation.previous_fingerprint or 'the old value'} back into n8n"
                    if rotation.plan.get("set_attempted")
                    else "leave n8n as it is (the new value never reached it)"
                )
                revoke = (
                    f", revoke pending key {rotation.pending_key_id} at {rotation.provider}"
                    if rotation.pending_key_id
                    else ""
                )
                return (
                    f"Would roll back rotation {rotation.short_id} of {rotation.credential_name!r} "
                    f"(stopped after {rotation.step}): {undo}{revoke}."
                )
        credential = find_credential(self.client, credential_ref)
        previous = self.planner.label(credential.id, Label.PREVIOUS)
        if previous is None:
            return f"Nothing to roll back: keyturn has no previous value of {credential.name!r}."
        return (
            f"Would put the previous value {previous.fingerprint} of {credential.name!r} "
            "back into n8n."
        )

    def describe_resume(self, rotation_id: str | None) -> list[str]:
        """What `resume` would do, changing nothing (for --dry-run)."""
        return [
            f"Would resume rotation {r.short_id} of {r.credential_name!r} after step {r.step}"
            + (f" (last error: {r.error})" if r.error else "")
            for r in self._in_flight(rotation_id)
        ]

    def _restore_previous(self, credential_ref: str, force: bool) -> Rotation:
        credential = find_credential(self.client, credential_ref)
        previous = self.planner.label(credential.id, Label.PREVIOUS)
        current = self.planner.label(credential.id, Label.CURRENT)
        if previous is None or current is None:
            raise CredentialNotFound(
                f"keyturn has no previous value of {credential.name!r} to restore.",
                "Only a credential keyturn rotated has one (see `keyturn history`).",
            )
        # The rotation whose previous value this is: its field, and whether it revoked it.
        owner = self.journal.get(previous.rotation_id) if previous.rotation_id else None
        recorded = self.journal.rotations(self.instance, credential.id, self.instance_url)
        owner = owner or (recorded[-1] if recorded else None)
        if owner is None:
            raise CredentialNotFound(
                f"keyturn has a previous value of {credential.name!r} but no record of the "
                "rotation it came from, so it cannot tell which field it belongs to.",
                "Rotate it to a new value instead.",
            )
        rotated = [owner.field, *owner.plan.get("extra_secrets", {})]
        if owner.previous_key_id and owner.plan.get("provider") and not force:
            raise ConfigError(
                f"The previous key of {credential.name!r} ({previous.fingerprint}) was revoked at "
                f"provider {owner.plan['provider']} when the rotation finished: restoring it "
                "would break every workflow that uses it.",
                "Rotate to a new key instead, or pass --force if you re-enabled it.",
            )
        value = self.journal.decrypt(previous.secret)
        assert value is not None
        missing = [name for name in rotated if name not in unpack(value, owner.field)]
        if missing:
            raise ConfigError(
                f"keyturn knows only part of the previous value of {credential.name!r} (not "
                f"{', '.join(missing)}): restoring it would leave the fields mismatched.",
                "Rotate it to a new value instead.",
            )
        strategy = self._in_place_strategy()
        record = self.journal.start_rotation(
            instance=self.instance,
            instance_url=self.instance_url,
            credential_id=credential.id,
            credential_name=credential.name,
            credential_type=credential.type,
            field=owner.field,
            strategy=strategy.name,
            provider=None,
            plan={
                "source": "journal:previous",
                "restore": True,
                "extra_secrets": owner.plan.get("extra_secrets", {}),
                "key_id_field": owner.plan.get("key_id_field"),
            },
        )
        record.pending_secret, record.pending_fingerprint = previous.secret, previous.fingerprint
        record.previous_secret, record.previous_fingerprint = current.secret, current.fingerprint
        record.pending_key_id, record.previous_key_id = (
            previous.provider_key_id,
            current.provider_key_id,
        )
        strategy.set(record, value)  # with the key id too, where the credential holds it (AWS)
        record.step = Step.FINISHED
        self.journal.promote_labels(record, credential.id)
        self.journal.close_rotation(record, Status.COMPLETED)
        self.journal.audit(
            record, "rollback", "restored", f"{previous.fingerprint} is current again"
        )
        return record

    def _in_place_strategy(self) -> Strategy:
        """The best in-place update this instance offers (a restore never replaces)."""
        strategy = choose_strategy(self.client, self.journal, "auto")
        if strategy.name == REPLACE:
            raise ConfigError(
                "Restoring a previous value updates the credential in place, and this n8n's "
                "public API cannot (no PATCH /credentials/{id}: n8n before 2.3).",
                LOGIN_HINT,
            )
        return strategy

    def _in_flight(self, rotation_id: str | None) -> list[Rotation]:
        if rotation_id:
            rotation = self.journal.get(rotation_id)
            if rotation is None:
                raise CredentialNotFound(
                    f"No rotation {rotation_id!r} in the journal.",
                    "`keyturn status` lists rotations in flight.",
                )
            if rotation.status != Status.IN_PROGRESS:
                raise ConfigError(
                    f"Rotation {rotation.short_id} is {rotation.status}, not in flight.", None
                )
            return [rotation]
        return self.journal.in_flight(self.instance, self.instance_url)

    def health_probe(
        self, credential_id: str, changed_in_n8n: datetime | None = None
    ) -> Callable[[], ProbeResult] | None:
        """keyturn's own check of a credential's current secret, changing nothing: the probe
        its last completed rotation proved the new key with, sent with the value keyturn
        holds now. None where there is none (no rotation by keyturn, no probe, no value), or
        where the credential changed in n8n after it (`changed_in_n8n`, its updatedAt: a
        person put another value there, which keyturn does not know)."""
        done = [
            r
            for r in self.journal.rotations(self.instance, credential_id, self.instance_url)
            if r.status == Status.COMPLETED
        ]
        current = self.journal.label(
            self.instance_url, credential_id, Label.CURRENT, legacy_name=self.instance
        )
        if not done or current is None:
            return None
        finished = aware(done[-1].updated_at)
        if changed_in_n8n is not None and aware(changed_in_n8n) > finished + _CLOCKS_APART:
            return None
        try:
            probe = self._probe_function(done[-1], self._provider_of(done[-1]))
        except KeyturnError:  # its provider is gone from keyturn.toml
            return None
        secret = self.journal.decrypt(current.secret)
        if probe is None or secret is None:
            return None
        key_id = current.provider_key_id
        return lambda: probe(secret, key_id)

    def _provider_of(self, rotation: Rotation) -> SecretProvider | None:
        return build_provider(rotation.provider, self.settings.file) if rotation.provider else None

    def _protocol(
        self,
        rotation: Rotation,
        strategy: Strategy,
        provider: SecretProvider | None,
        preloaded_secret: str | None = None,
        preloaded_extras: dict[str, str] | None = None,
    ) -> RotationProtocol:
        probe = self._probe_function(rotation, provider)
        deps = ProtocolDeps(
            client=self.client,
            journal=self.journal,
            strategy=strategy,
            provider=provider,
            probe=probe,
            preloaded_secret=preloaded_secret,
            preloaded_extras=preloaded_extras,
            on_step=self.on_step,
            store_factory=self.store,
            read_secret=self.read_value,
        )
        if self.sleep is not None:
            deps.sleep = self.sleep
        return RotationProtocol(deps, Verifier(self.client, probe))

    @staticmethod
    def _probe_function(
        rotation: Rotation, provider: SecretProvider | None
    ) -> Callable[[str, str | None], ProbeResult] | None:
        if PROBE not in rotation.plan.get("verify", []):
            return None
        url, auth = rotation.plan.get("probe_url"), rotation.plan.get("probe_auth")
        main = rotation.field
        if rotation.plan.get("extra_secrets") and rotation.plan.get("probe_type"):
            return _type_probe_function(rotation)  # it sends every rotated field
        if url and auth == AUTO:
            return _auto_probe_function(rotation, url)
        if url and auth:
            placement = parse_auth(auth)

            def probe(secret: str, key_id: str | None = None) -> ProbeResult:
                return probe_url(url, unpack(secret, main)[main], placement)

            return probe
        if provider is not None and Capability.PROBE in provider.capabilities:
            provider_probe = provider.probe

            def ask_provider(secret: str, key_id: str | None = None) -> ProbeResult:
                return provider_probe(unpack(secret, main)[main], key_id)

            return ask_provider
        return _type_probe_function(rotation)


def _auto_probe_function(rotation: Rotation, url: str) -> Callable[[str, str | None], ProbeResult]:
    """`--probe-auth auto`: the first probe finds where the URL reads the key (the new key
    accepted, a random one refused) and the rotation's plan keeps it, so later probes and
    later rotations send it there directly."""
    candidates = auto_candidates(rotation.credential_type)

    def probe(secret: str, key_id: str | None = None) -> ProbeResult:
        value = unpack(secret, rotation.field)[rotation.field]
        known = rotation.plan.get("probe_auth")
        if known and known != AUTO:
            return probe_url(url, value, parse_auth(known))
        found, detail = detect_placement(url, value, secrets.token_urlsafe(24), candidates)
        if found is not None:
            rotation.plan = {**rotation.plan, "probe_auth": found.describe()}
        return ProbeResult(found is not None, detail)

    return probe


def _type_probe_function(rotation: Rotation) -> Callable[[str, str | None], ProbeResult] | None:
    """The credential type's own test request, with the rotation's fields and the secret."""
    probe = type_probe(rotation.plan.get("probe_type") or "")
    if probe is None:
        return None
    fields = dict(rotation.plan.get("probe_fields") or {})
    key_id_field = rotation.plan.get("key_id_field")

    rotated = rotated_fields(rotation)

    def run(secret: str, key_id: str | None = None) -> ProbeResult:
        given = unpack(secret, rotation.field)
        values = {**fields, **{name: given[name] for name in rotated if name in given}}
        if key_id_field and key_id:
            values[key_id_field] = key_id
        decoys = {name: secrets.token_urlsafe(24) for name in rotated}
        try:
            request = build_request(probe, values)
            control = (
                build_request(probe, {**values, **decoys}) if probe.test.get("oauth2") else None
            )
        except ExpressionError as exc:
            return ProbeResult(False, f"{probe.type_name} test request: {exc}")
        return send_probe(probe, request, control=control)

    return run
