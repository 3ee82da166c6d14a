"""The staged rotation protocol: create, set, test, finish (and rollback). Resumable.

Modelled on AWS Secrets Manager's rotation functions and a write-ahead log:

1. create: obtain the pending secret and commit it (encrypted) to the journal before anything
   outside keyturn changes; probe it directly, so a bad value never reaches a workflow.
2. set: put it into n8n (in place, or replace and repoint). The old secret stays valid at the
   provider throughout.
3. test: prove the new secret works in n8n, by every means available.
4. finish: after the grace period, revoke the old secret at the provider and move the labels
   (pending -> current -> previous).

Each step first checks whether its work is already done, and the journal records each step
once it is complete, so `keyturn resume` after a crash (even SIGKILL) continues safely.
A failed step before finish rolls everything back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from keyturn.core.durations import aware
from keyturn.core.errors import (
    ExitCode,
    KeyturnError,
    N8nError,
    ProviderError,
    RollbackRefused,
    RotationBusy,
    RotationFailed,
    RotationPaused,
    StoreError,
)
from keyturn.core.redact import redact
from keyturn.detect.rules import OLD_SECRET
from keyturn.journal import Journal, Label, Rotation, Status, Step
from keyturn.journal.journal import lock_key
from keyturn.locations.interface import SecretStore
from keyturn.locations.parse import parse_location
from keyturn.n8n.client import N8nClient
from keyturn.n8n.restart import restart_n8n
from keyturn.providers.interface import Capability, IssueContext, SecretProvider
from keyturn.rotation.bundle import pack, values_of
from keyturn.rotation.crash import crash_point
from keyturn.rotation.proofs import PROBE, CheckResult, VerificationPlan, Verifier
from keyturn.rotation.strategies import REPLACE, Strategy
from keyturn.scan.engine import ScanOptions, run_scan

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    rotation: Rotation
    checks: list[CheckResult] = field(default_factory=list)


@dataclass
class ProtocolDeps:
    """Everything the protocol talks to, handed in so tests can use real servers or fakes."""

    client: N8nClient
    journal: Journal
    strategy: Strategy
    provider: SecretProvider | None
    probe: Callable[[str, str | None], object] | None = None
    preloaded_secret: str | None = None  # a value read from its location before start
    preloaded_extras: dict[str, str] | None = None  # the fields rotated with it, read too
    store_factory: Callable[[str], SecretStore] | None = None
    read_secret: Callable[[str], str] | None = None  # a value from a location's name
    sleep: Callable[[float], None] = time.sleep
    on_step: Callable[[str, str], None] = lambda step, detail: None


class RotationProtocol:
    def __init__(self, deps: ProtocolDeps, verifier: Verifier) -> None:
        self.deps = deps
        self.client = deps.client
        self.journal = deps.journal
        self.verifier = verifier

    # -- driver ----------------------------------------------------------------------------

    def run(self, rotation: Rotation) -> Outcome:
        """Carry a rotation from its last completed step to the end (or roll it back)."""
        outcome = Outcome(rotation)
        try:
            if rotation.step == Step.STARTED:
                self.create_secret(rotation)
            if rotation.step == Step.CREATED:
                self._stop_unless_still_mine(rotation)  # before n8n is changed
                self.set_secret(rotation)
            if rotation.step == Step.SET:
                outcome.checks = self.test_secret(rotation)
        except RotationBusy:
            raise  # another process has this rotation now: not ours to roll back
        except KeyturnError as exc:
            self._roll_back_after(rotation, exc)
        except Exception as exc:  # a bug or an odd failure (a restart command's timeout, an
            # OSError): the credential may be half-changed, so it is rolled back all the same
            log.debug("unexpected error during the rotation", exc_info=True)
            detail = redact(f"{type(exc).__name__}: {exc}")
            self._roll_back_after(rotation, KeyturnError(f"unexpected error ({detail})"))
        if rotation.step == Step.TESTED:
            self.finish_secret(rotation)
        return outcome

    def _roll_back_after(self, rotation: Rotation, exc: KeyturnError) -> None:
        reason = exc.message
        try:
            self.rollback(rotation, reason)
        except (N8nError, ProviderError, StoreError) as rollback_error:
            rotation.error = f"{reason}; rollback failed: {rollback_error.message}"
            self.journal.save(rotation)
            self.journal.audit(rotation, "rollback", "paused", rotation.error)
            raise RotationPaused(
                f"Rotation {rotation.short_id} of {rotation.credential_name!r} failed ({reason}) "
                f"and could not be rolled back yet ({rollback_error.message}).",
                f"When the cause is fixed, run `keyturn resume {rotation.short_id}` or "
                f"`keyturn rollback {rotation.credential_id}`.",
            ) from None
        failure = RotationFailed(
            f"Rotation of {rotation.credential_name!r} was rolled back: {reason}",
            "n8n and the provider are as they were before; the old secret still works.",
            exit_code=ExitCode.PROVIDER if isinstance(exc, ProviderError | StoreError) else None,
        )
        raise failure from None

    # -- 1. create -------------------------------------------------------------------------

    def create_secret(self, rotation: Rotation) -> None:
        if rotation.pending_secret is None:
            value, key_id, origin = self._obtain_pending(rotation)
            rotation.pending_key_id = key_id
            # Saved at once: a key the provider issued is revoked if what follows fails.
            self.journal.save(rotation)
            value = pack({rotation.field: value, **self._extra_values(rotation)}, rotation.field)
            rotation.pending_secret, rotation.pending_fingerprint = self.journal.encrypt(value)
            self.journal.save(rotation)  # write-ahead: saved before anything outside changes
            self.journal.set_label(
                lock_key(rotation),
                rotation.credential_id,
                Label.PENDING,
                value,
                key_id,
                rotation.id,
            )
            self._record(
                rotation, "create", "ok", f"pending {rotation.pending_fingerprint} from {origin}"
            )
        pending = self._pending(rotation)
        if rotation.previous_fingerprint == rotation.pending_fingerprint:
            raise RotationFailed("The new secret is the same as the current one.", None)
        if PROBE in rotation.plan.get("verify", []) and self.deps.probe is not None:
            result = self.deps.probe(pending, rotation.pending_key_id)
            ok, detail = getattr(result, "ok", False), getattr(result, "detail", "")
            self._record(rotation, "create", "probe-ok" if ok else "probe-failed", detail)
            if not ok:
                raise RotationFailed(f"the new secret does not work ({detail})", None)
        self._complete(rotation, Step.CREATED)

    def _obtain_pending(self, rotation: Rotation) -> tuple[str, str | None, str]:
        source = parse_location(rotation.plan["source"])
        if self.deps.preloaded_secret is not None:
            return self.deps.preloaded_secret, None, source.describe()
        if source.kind == "provider":
            provider = self._provider(Capability.ISSUE)
            issued = provider.issue(
                IssueContext(
                    idempotency_token=rotation.idempotency_token,
                    credential_id=rotation.credential_id,
                    credential_name=rotation.credential_name,
                    started_at=aware(rotation.created_at),
                    current_key_id=rotation.previous_key_id,
                    keys_before=self._keys_before(rotation),
                    record_keys_before=lambda ids: self._record_keys_before(rotation, ids),
                )
            )
            self._crash_point("issued")
            return issued.value, issued.key_id, f"provider {provider.name}"
        if source.kind == "stdin" and rotation.plan.get("resumed"):
            raise RotationFailed(
                "The new secret came from stdin and was never saved, so it cannot be read again.",
                f"Run `keyturn rollback {rotation.credential_id}` and start a new rotation.",
            )
        if self.deps.read_secret is None:
            raise RotationFailed(f"keyturn cannot read {source.describe()} here.", None)
        return self.deps.read_secret(source.describe()), None, source.describe()

    def _extra_values(self, rotation: Rotation) -> dict[str, str]:
        """The fields rotated with the main one (`--field NAME=SOURCE`), read before start
        or, on a resume before the pending value was saved, read again."""
        if self.deps.preloaded_extras is not None:
            return self.deps.preloaded_extras
        values = {}
        for name, text in rotation.plan.get("extra_secrets", {}).items():
            if parse_location(text).kind == "stdin" and rotation.plan.get("resumed"):
                raise RotationFailed(
                    f"The new value of {name} came from stdin and was never saved, so it "
                    "cannot be read again.",
                    f"Run `keyturn rollback {rotation.credential_id}` and start a new rotation.",
                )
            if self.deps.read_secret is None:
                raise RotationFailed(f"keyturn cannot read {text} here.", None)
            values[name] = self.deps.read_secret(text)
        return values

    @staticmethod
    def _keys_before(rotation: Rotation) -> frozenset[str] | None:
        recorded = rotation.plan.get("provider_keys_before")
        return None if recorded is None else frozenset(recorded)

    def _record_keys_before(self, rotation: Rotation, ids: frozenset[str]) -> None:
        """The provider's keys before it issues one: after a crash, the key it issued is the
        one not in this list (found by id, never by comparing clocks)."""
        rotation.plan = {**rotation.plan, "provider_keys_before": sorted(ids)}
        self.journal.save(rotation)  # write-ahead, before the provider creates a key

    # -- 2. set ----------------------------------------------------------------------------

    def set_secret(self, rotation: Rotation) -> None:
        rotation.plan = {**rotation.plan, "set_attempted": True}
        self.journal.save(rotation)  # write-ahead: a rollback must know n8n may have changed
        self.deps.strategy.set(rotation, self._pending(rotation))
        self._write_back(rotation)
        restart_command = rotation.plan.get("restart_command")
        if restart_command:
            restart_n8n(
                restart_command,
                self.client.connection.url,
                verify=self.client.connection.tls_verify,
            )
            self._record(rotation, "set", "restarted", "n8n restarted for $env secrets; ready")
        rotation.set_at = datetime.now(UTC)
        self._record(
            rotation,
            "set",
            "ok",
            f"{self.deps.strategy.name}: n8n credential "
            f"{self.deps.strategy.live_credential_id(rotation)} now holds "
            f"{rotation.pending_fingerprint}",
        )
        self._complete(rotation, Step.SET)

    def _write_back(self, rotation: Rotation) -> None:
        """Write the new value to every store that follows the rotation (once each)."""
        for target in rotation.plan.get("write_back", []):
            if target in rotation.plan.get("written", []):
                continue
            rotation.plan = {**rotation.plan, "writing": target}
            self.journal.save(rotation)  # write-ahead: after a crash, rollback checks this store
            try:
                self._store(target).write(self._pending(rotation))
            except StoreError:
                # Writes are atomic: a write that failed changed nothing.
                rotation.plan = {**rotation.plan, "writing": None}
                self.journal.save(rotation)
                raise
            written = [*rotation.plan.get("written", []), target]
            rotation.plan = {**rotation.plan, "written": written, "writing": None}
            self.journal.save(rotation)
            self._record(
                rotation, "set", "written", f"{target} now holds {rotation.pending_fingerprint}"
            )

    def _restore_stores(self, rotation: Rotation) -> None:
        written = list(rotation.plan.get("written", []))
        interrupted = rotation.plan.get("writing")
        if interrupted and self._store(interrupted).read_current() == self._pending(rotation):
            written.append(interrupted)  # a crash came after the write
        if not written:
            return
        previous = self.journal.decrypt(rotation.previous_secret)
        if previous is None:
            raise StoreError(
                f"keyturn cannot put the previous value back into {', '.join(written)}: it was "
                "never known.",
                "Restore those stores by hand (a .env has a .keyturn.bak backup).",
            )
        for target in reversed(written):
            self._store(target).write(previous)
            self._record(
                rotation, "rollback", "restored", f"{target} holds {rotation.previous_fingerprint}"
            )

    def _store(self, target: str) -> SecretStore:
        if self.deps.store_factory is None:
            raise StoreError(f"No store can be built for {target}.", None)
        return self.deps.store_factory(target)

    # -- 3. test ---------------------------------------------------------------------------

    def test_secret(self, rotation: Rotation) -> list[CheckResult]:
        plan = VerificationPlan(
            modes=list(rotation.plan.get("verify", [])),
            webhooks=list(rotation.plan.get("webhooks", [])),
            watch_seconds=float(rotation.plan.get("watch_seconds", 0)),
            failed_execution_ids=list(rotation.plan.get("failed_executions", [])),
        )
        checks = self.verifier.run(
            plan,
            self._pending(rotation),
            rotation.pending_key_id,
            self.deps.strategy.live_credential_id(rotation),
            list(rotation.plan.get("workflow_ids", [])),
            rotation.set_at or rotation.created_at,
        )
        for check in checks:
            self._record(
                rotation, "test", "ok" if check.ok else "failed", f"{check.means}: {check.detail}"
            )
        rotation.plan = {**rotation.plan, "checks": [vars(check) for check in checks]}
        failed = [check for check in checks if not check.ok]
        if failed:
            raise RotationFailed(f"verification failed: {failed[0].detail}", None)
        if not checks and not rotation.plan.get("allow_unverified"):
            raise RotationFailed("no verification ran", None)
        self._complete(rotation, Step.TESTED)
        return checks

    # -- 4. finish -------------------------------------------------------------------------

    def finish_secret(self, rotation: Rotation) -> None:
        """Revoke the old key, clean up, promote labels; each sub-step recorded as it happens
        and done once, so a resume goes on where a crash stopped it, and a rollback knows the
        old key is gone (it then refuses: the only way is forward)."""
        self._wait_grace(rotation)
        try:
            self._finish_once(rotation, "revoked", lambda: self._revoke_old(rotation))
            self._finish_once(rotation, "cleaned_up", lambda: self.deps.strategy.finish(rotation))
        except (ProviderError, N8nError) as exc:
            rotation.error = exc.message
            self.journal.save(rotation)
            self._record(rotation, "finish", "paused", exc.message)
            raise RotationPaused(
                f"The new secret of {rotation.credential_name!r} works and is in n8n, but the "
                f"finish step failed: {exc.message}",
                f"Run `keyturn resume {rotation.short_id}` when the cause is fixed.",
                exit_code=exc.exit_code,
            ) from None
        self._finish_once(rotation, "promoted", lambda: self._promote(rotation))
        self._report_stale_copies(rotation)
        rotation.step = Step.FINISHED
        rotation.error = None
        self.journal.close_rotation(rotation, Status.COMPLETED)
        self._record(rotation, "finish", "ok", f"current is now {rotation.pending_fingerprint}")
        self._crash_point(Step.FINISHED)

    def _finish_once(self, rotation: Rotation, sub_step: str, action: Callable[[], None]) -> None:
        """Run one finish sub-step unless the journal says it is done. Its start is written
        ahead: once a revocation may have reached the provider, rollback refuses."""
        done = list(rotation.plan.get("finish_done", []))
        if sub_step in done:
            return
        rotation.plan = {**rotation.plan, "finish_started": [*self._started(rotation), sub_step]}
        self.journal.save(rotation)
        # Checked after the start is on record: a process that takes the lease from here on
        # sees it and refuses to roll back; one that took it before, this check catches.
        self._stop_unless_still_mine(rotation)
        action()
        rotation.plan = {**rotation.plan, "finish_done": [*done, sub_step]}
        self.journal.save(rotation)
        self._crash_point(f"finish-{sub_step}")

    @staticmethod
    def _started(rotation: Rotation) -> list[str]:
        return list(rotation.plan.get("finish_started", []))

    def _promote(self, rotation: Rotation) -> None:
        live_id = self.deps.strategy.live_credential_id(rotation)
        if self.deps.strategy.name == REPLACE and live_id != rotation.credential_id:
            self.journal.move_labels(lock_key(rotation), rotation.credential_id, live_id)
        self.journal.promote_labels(rotation, live_id)
        self._discard_backups(rotation)

    def _discard_backups(self, rotation: Rotation) -> None:
        """A .env's pre-rotation backup holds the old secret: gone once the rotation ends. A
        backup that cannot be removed is reported; the rotation's outcome stands."""
        for target in rotation.plan.get("written", []):
            try:
                self._store(target).discard_backup()
            except (StoreError, OSError) as exc:
                detail = exc.message if isinstance(exc, StoreError) else type(exc).__name__
                self._record(rotation, "finish", "warning", f"backup of {target} kept: {detail}")

    def _stop_unless_still_mine(self, rotation: Rotation) -> None:
        """After a grace period, before revoking anything: re-read the rotation; if another
        process rolled it back or took it over meanwhile, stop here and touch nothing."""
        if self.journal.still_mine(rotation):
            return
        raise RotationBusy(
            f"Rotation {rotation.short_id} of {rotation.credential_name!r} was changed by "
            f"another process while this one waited (now {rotation.status}); this one stops "
            "without revoking anything.",
            "See `keyturn status` and `keyturn history`.",
        )

    def _report_stale_copies(self, rotation: Rotation) -> None:
        """Other files next to the written ones that still hold the old value (the scanner's
        old-secret search, in every encoding)."""
        previous = self.journal.decrypt(rotation.previous_secret)
        written = [target for target in rotation.plan.get("written", []) if "file:" in target]
        if previous is None or not written:
            return
        folders = {Path(target.split(":", 1)[1].rsplit("#", 1)[0]).parent for target in written}
        targets = {Path(target.split(":", 1)[1].rsplit("#", 1)[0]) for target in written}
        siblings = [
            path for folder in folders for path in sorted(folder.iterdir())
            if path.is_file() and path not in targets and not path.name.endswith(".keyturn.bak")
        ]  # fmt: skip
        old = tuple(values_of(previous, rotation.field))
        result = run_scan(siblings, None, ScanOptions(old_secrets=old, workers=1))
        stale = sorted({f.location.path for f in result.findings if f.rule.id == OLD_SECRET.id})
        if stale:
            self._record(
                rotation, "finish", "warning", f"the old value is still in: {', '.join(stale)}"
            )

    def _wait_grace(self, rotation: Rotation) -> None:
        grace = float(rotation.plan.get("grace_seconds", 0))
        start = rotation.set_at or rotation.updated_at
        remaining = grace - (datetime.now(UTC) - aware(start)).total_seconds()
        if remaining > 0:
            self.deps.on_step("grace", f"waiting {remaining:.0f}s for in-flight executions")
            self.deps.sleep(remaining)

    def _revoke_old(self, rotation: Rotation) -> None:
        provider = self.deps.provider
        if rotation.previous_key_id is None:
            if provider is not None and Capability.REVOKE in provider.capabilities:
                self._record(
                    rotation,
                    "finish",
                    "skipped",
                    "old key's id at the provider is unknown: revoke it by hand",
                )
            return
        if provider is None or Capability.REVOKE not in provider.capabilities:
            return
        provider.revoke(rotation.previous_key_id)
        self._record(
            rotation,
            "finish",
            "revoked",
            f"old key {rotation.previous_key_id} "
            f"({rotation.previous_fingerprint}) at {provider.name}",
        )

    # -- rollback --------------------------------------------------------------------------

    def rollback(self, rotation: Rotation, reason: str) -> None:
        """Undo an unfinished rotation: old value back into n8n, pending revoked.

        Refused once the finish step has begun revoking the old key: the previous version
        stays known and labelled, but it is never put back into n8n dead (AWSPREVIOUS).
        """
        if rotation.status != Status.IN_PROGRESS:
            return
        if self._started(rotation):
            raise RollbackRefused(
                f"Rotation {rotation.short_id} of {rotation.credential_name!r} cannot be rolled "
                f"back: its finish step has begun ({', '.join(self._started(rotation))}), so "
                f"the old key {rotation.previous_key_id or ''} may already be revoked; putting "
                "it back would break every workflow that uses the credential.",
                f"Roll forward instead: `keyturn resume {rotation.short_id}` (the new key works "
                "and is in n8n).",
            )
        if rotation.plan.get("set_attempted"):
            self._restore_stores(rotation)
            previous = self.journal.decrypt(rotation.previous_secret)
            self.deps.strategy.restore(rotation, previous)
            self._record(
                rotation,
                "rollback",
                "restored",
                f"n8n credential holds {rotation.previous_fingerprint or 'the old value'}",
            )
        provider = self.deps.provider
        if rotation.pending_key_id and provider and Capability.REVOKE in provider.capabilities:
            provider.revoke(rotation.pending_key_id)
            self._record(rotation, "rollback", "revoked", f"pending key {rotation.pending_key_id}")
        self.journal.close_rotation(rotation, Status.ROLLED_BACK, reason)
        self._discard_backups(rotation)
        self._record(rotation, "rollback", "rolled_back", reason)

    # -- helpers ---------------------------------------------------------------------------

    def _pending(self, rotation: Rotation) -> str:
        value = self.journal.decrypt(rotation.pending_secret)
        assert value is not None
        return value

    def _provider(self, capability: Capability) -> SecretProvider:
        provider = self.deps.provider
        if provider is None or capability not in provider.capabilities:
            raise ProviderError(
                f"No provider that can {capability.value} is configured for this rotation.",
                "Name one with --provider (see docs/providers/http.md).",
            )
        return provider

    def _complete(self, rotation: Rotation, step: Step) -> None:
        rotation.step = step
        rotation.error = None
        self.journal.save(rotation)
        self._crash_point(step)

    def _record(self, rotation: Rotation, step: str, outcome: str, detail: str) -> None:
        self.journal.audit(rotation, step, outcome, detail)
        self.deps.on_step(step, f"{outcome}: {detail}")
        log.info("rotation %s %s %s: %s", rotation.short_id, step, outcome, detail)

    @staticmethod
    def _crash_point(step: str) -> None:
        crash_point(step)
