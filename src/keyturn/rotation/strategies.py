"""How a new secret gets into n8n: update the credential in place, or replace and repoint.

In place (n8n >= 2.3): one partial PATCH of the rotated field; every workflow keeps pointing
at the same credential id, and the next execution reads the new value.

Replace and repoint (older n8n, no PATCH): create a new credential with the same name, point
every node that used the old id at the new one, and delete the old credential only at finish.
Until then the old credential is untouched, so rolling back is repointing back.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

from keyturn.core.errors import N8nNotFound, StrategyError
from keyturn.journal import Journal, Rotation
from keyturn.n8n.client import N8nClient
from keyturn.rotation.crash import crash_point

log = logging.getLogger(__name__)

IN_PLACE = "in_place"
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
        if previous is None:
            raise StrategyError(
                f"keyturn cannot put the previous value of {rotation.credential_name!r} back: "
                "it was never known to keyturn (n8n's API does not return credential data).",
                "Set the old value in n8n by hand, or give it next time with --current-secret.",
            )
        self.client.update_credential(
            rotation.credential_id, secret_data(rotation, previous, rotation.previous_key_id)
        )

    def finish(self, rotation: Rotation) -> None:
        return None

    def live_credential_id(self, rotation: Rotation) -> str:
        return rotation.credential_id


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
            and credential.type == rotation.credential_type
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
    """The credential fields a rotation writes: the secret, and for providers whose key id
    lives in the credential too (AWS accessKeyId), that id."""
    data: dict[str, Any] = {rotation.field: secret}
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
    """The strategy for this instance: forced, configured, or probed (auto)."""
    wanted = forced or setting
    if wanted == "auto":
        wanted = IN_PLACE if client.supports_credential_update() else REPLACE
    return InPlace(client) if wanted == IN_PLACE else ReplaceAndRepoint(client, journal)


def strategy_by_name(client: N8nClient, journal: Journal, name: str) -> Strategy:
    return InPlace(client) if name == IN_PLACE else ReplaceAndRepoint(client, journal)
