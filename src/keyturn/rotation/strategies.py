"""How a new secret gets into n8n: update the credential in place, or replace and repoint.

In place (public API, n8n 2.3 on): one partial PATCH of the rotated field; every workflow keeps
pointing at the same credential id, and the next execution reads the new value.

Session (any n8n, with a keyturn user): the same update in place, through the route n8n's UI
takes (`PATCH /rest/credentials/{id}`); every other field keeps its stored value.

Replace and repoint (older n8n, no PATCH): create a new credential with the same name, point
every node that used the old id at the new one, and delete the old credential only at finish.
Until then the old credential is untouched, so rolling back is repointing back. Saving an
active workflow makes n8n re-register its webhooks (1.x and 2.x alike): calls in that moment
answer 404, so the planner asks for consent (--accept-webhook-gap) before choosing it there.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

from keyturn.core.errors import ConfigError, N8nNotFound, StrategyError
from keyturn.journal import Journal, Rotation
from keyturn.n8n.client import LOGIN_HINT, N8nClient
from keyturn.rotation.bundle import pack, unpack
from keyturn.rotation.crash import crash_point

log = logging.getLogger(__name__)

IN_PLACE = "in_place"
SESSION = "session"
REPLACE = "replace"
REPOINT_ATTEMPTS = 3


class Strategy(Protocol):
    name: str

    def set(self, rotation: Rotation, secret: str) -> None:
        """Put `secret` into n8n for every workflow that uses the credential."""
        ...

    def restore(self, rotation: Rotation, previous: str | None) -> None:
        """Undo `set`: n8n is as it was before the rotation."""
        ...

    def finish(self, rotation: Rotation) -> None:
        """Clean up after a successful test (the old credential, for replace)."""
        ...

    def live_credential_id(self, rotation: Rotation) -> str:
        """The credential id workflows use once `set` has run."""
        ...


class InPlace:
    name = IN_PLACE

    def __init__(self, client: N8nClient) -> None:
        self.client = client

    def set(self, rotation: Rotation, secret: str) -> None:
        self.client.update_credential(
            rotation.credential_id, secret_data(rotation, secret, rotation.pending_key_id)
        )

    def restore(self, rotation: Rotation, previous: str | None) -> None:
        self.client.update_credential(
            rotation.credential_id,
            secret_data(rotation, known_previous(rotation, previous), rotation.previous_key_id),
        )

    def finish(self, rotation: Rotation) -> None:
        return None

    def live_credential_id(self, rotation: Rotation) -> str:
        return rotation.credential_id


class SessionInPlace:
    """In place through the keyturn user's session: n8n's UI route, on any version."""

    name = SESSION

    def __init__(self, client: N8nClient) -> None:
        if client.session is None:
            raise ConfigError(
                "The session strategy needs a keyturn user, and none is configured.", LOGIN_HINT
            )
        self.session = client.session

    def set(self, rotation: Rotation, secret: str) -> None:
        self._write(rotation, secret_data(rotation, secret, rotation.pending_key_id))

    def restore(self, rotation: Rotation, previous: str | None) -> None:
        value = known_previous(rotation, previous)
        self._write(rotation, secret_data(rotation, value, rotation.previous_key_id))

    def _write(self, rotation: Rotation, changes: dict[str, Any]) -> None:
        current = self.session.read_credential(rotation.credential_id)
        self.session.update_credential(current, changes)

    def finish(self, rotation: Rotation) -> None:
        return None

    def live_credential_id(self, rotation: Rotation) -> str:
        return rotation.credential_id


def known_previous(rotation: Rotation, previous: str | None) -> str:
    """The previous value of every field the rotation changed (only those are put back)."""
    known = unpack(previous, rotation.field) if previous is not None else {}
    missing = [name for name in rotated_fields(rotation) if name not in known]
    if missing:
        raise StrategyError(
            f"keyturn cannot put the previous value of {rotation.credential_name!r} "
            f"({', '.join(missing)}) back: it was never known to keyturn (n8n's API does not "
            "return credential data).",
            "Set the old value in n8n by hand, or give it next time with --current-secret.",
        )
    return pack({name: known[name] for name in rotated_fields(rotation)}, rotation.field)


def rotated_fields(rotation: Rotation) -> list[str]:
    """The secret fields a rotation changes: its field, and those rotated with it (a restore
    record: those of the rotation whose previous value it puts back)."""
    return [rotation.field, *rotation.plan.get("extra_secrets", {})]


class ReplaceAndRepoint:
    name = REPLACE

    def __init__(self, client: N8nClient, journal: Journal) -> None:
        self.client = client
        self.journal = journal

    def set(self, rotation: Rotation, secret: str) -> None:
        new_id = self._new_credential(rotation, secret)
        for workflow_id in self._users_of(rotation.credential_id):
            self._repoint(workflow_id, rotation.credential_id, new_id, rotation.credential_name)
            if workflow_id not in rotation.repointed:
                rotation.repointed = [*rotation.repointed, workflow_id]
                self.journal.save(rotation)

    def _new_credential(self, rotation: Rotation, secret: str) -> str:
        """Create the replacement once. Before creating it, the journal records which
        credentials of that name and type exist, so a resume after a crash (created, id not yet
        recorded) adopts the one new id; it never guesses by comparing clocks."""
        if rotation.new_credential_id:
            return rotation.new_credential_id
        adopted = self._created_before_crash(rotation)
        if adopted is None:
            rotation.plan = {**rotation.plan, "namesakes_before": self._namesakes(rotation)}
            self.journal.save(rotation)  # write-ahead: what existed before the create
            data = {
                **rotation.plan.get("extra_data", {}),
                **secret_data(rotation, secret, rotation.pending_key_id),
            }
            created = self.client.create_credential(
                rotation.credential_name, rotation.credential_type, data
            )
            crash_point("credential-created")  # before the journal knows the new id
            adopted = created.id
        rotation.new_credential_id = adopted
        self.journal.save(rotation)
        return adopted

    def _namesakes(self, rotation: Rotation) -> list[str]:
        """Ids of the other credentials with the rotated one's name and type."""
        return sorted(
            credential.id
            for credential in self.client.list_credentials()
            if credential.id != rotation.credential_id
            and credential.name == rotation.credential_name
            # "": a type n8n's audit does not give (n8n without a credential list)
            and credential.type in (rotation.credential_type, "")
        )

    def _created_before_crash(self, rotation: Rotation) -> str | None:
        """The replacement a crashed run created: the one namesake that was not there before."""
        before = rotation.plan.get("namesakes_before")
        if before is None:
            return None  # nothing was created (or keyturn 0.1 ran it: it recorded nothing)
        new = [c for c in self._namesakes(rotation) if c not in before]
        if len(new) > 1:
            raise StrategyError(
                f"Several credentials named {rotation.credential_name!r} appeared since this "
                f"rotation began ({', '.join(new)}); keyturn cannot tell which one it created.",
                "Delete the ones nobody uses in n8n, then `keyturn resume` or `keyturn rollback`.",
            )
        return new[0] if new else None

    def _users_of(self, credential_id: str) -> list[str]:
        return [
            workflow.id
            for workflow in self.client.iter_workflows()
            if workflow.id
            and any(
                ref.id == credential_id
                for node in workflow.nodes
                for ref in node.credentials.values()
            )
        ]

    def _repoint(self, workflow_id: str, old_id: str, new_id: str, name: str) -> None:
        """Point a workflow's nodes at `new_id`, with optimistic concurrency: the workflow is
        read again just before it is written, and when its versionId moved (a person saved it
        meanwhile) the change is made again on the newer version, so no edit is lost."""
        for _ in range(REPOINT_ATTEMPTS):
            raw = self.client.get_workflow_raw(workflow_id)
            if not repoint_nodes(raw, old_id, new_id, name):
                return
            if self.client.get_workflow_raw(workflow_id).get("versionId") != raw.get("versionId"):
                log.info("workflow %s changed while being repointed; again", workflow_id)
                continue
            self.client.update_workflow(workflow_id, raw)
            return
        raise StrategyError(
            f"Workflow {workflow_id} kept changing while keyturn repointed it "
            f"({REPOINT_ATTEMPTS} attempts).",
            "Ask whoever edits it to pause, then `keyturn resume` or `keyturn rollback`.",
        )

    def restore(self, rotation: Rotation, previous: str | None) -> None:
        new_id = rotation.new_credential_id or self._created_before_crash(rotation)
        if new_id is None:
            return  # set never created anything
        for workflow_id in self._users_of(new_id):
            self._repoint(workflow_id, new_id, rotation.credential_id, rotation.credential_name)
        with contextlib.suppress(N8nNotFound):
            self.client.delete_credential(new_id)
        rotation.new_credential_id = None
        rotation.repointed = []
        self.journal.save(rotation)

    def finish(self, rotation: Rotation) -> None:
        with contextlib.suppress(N8nNotFound):  # deleted before a crash
            self.client.delete_credential(rotation.credential_id)

    def live_credential_id(self, rotation: Rotation) -> str:
        return rotation.new_credential_id or rotation.credential_id


def secret_data(rotation: Rotation, secret: str, key_id: str | None) -> dict[str, Any]:
    """The credential fields a rotation writes: the secret (or the several rotated together),
    and for providers whose key id lives in the credential too (AWS accessKeyId), that id."""
    values = unpack(secret, rotation.field)
    data: dict[str, Any] = {
        name: values[name] for name in rotated_fields(rotation) if name in values
    }
    key_id_field = rotation.plan.get("key_id_field")
    if key_id_field and key_id:
        data[key_id_field] = key_id
    return data


def repoint_nodes(workflow: dict[str, Any], old_id: str, new_id: str, name: str) -> bool:
    """Point every node reference to credential `old_id` at `new_id`; True if any changed."""
    changed = False
    for node in workflow.get("nodes", []):
        for cred_type, ref in (node.get("credentials") or {}).items():
            if isinstance(ref, dict) and ref.get("id") == old_id:
                node["credentials"][cred_type] = {"id": new_id, "name": name}
                changed = True
    return changed


def choose_strategy(
    client: N8nClient, journal: Journal, setting: str, forced: str | None = None
) -> Strategy:
    """The strategy for this instance: forced, configured, or the best it offers (auto):
    the public API's PATCH, else the keyturn user's session, else replace and repoint."""
    wanted = forced or setting
    if wanted == "auto":
        if client.supports_credential_update():
            wanted = IN_PLACE
        else:
            wanted = SESSION if client.session is not None else REPLACE
    elif wanted == IN_PLACE and not client.supports_credential_update():
        raise ConfigError(
            "This n8n's public API cannot update a credential in place (it has no PATCH "
            "/credentials/{id}: n8n before 2.3, or 2.39.5).",
            "Use the session strategy with a keyturn user (docs/compatibility.md), or replace.",
        )
    return strategy_by_name(client, journal, wanted)


def strategy_by_name(client: N8nClient, journal: Journal, name: str) -> Strategy:
    if name == IN_PLACE:
        return InPlace(client)
    if name == SESSION:
        return SessionInPlace(client)
    return ReplaceAndRepoint(client, journal)
