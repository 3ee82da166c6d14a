"""Who uses what: credential -> workflows and nodes, and what is wrong with the picture (the
inventory's flags).

Built in one pass over workflows already in memory: linear in workflows + nodes, with no API
request per credential.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from keyturn.detect.nodes import env_reads, hardcoded_secrets
from keyturn.n8n.models import Credential, CredentialRef, Node, Workflow


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FlagCode(StrEnum):
    UNUSED = "unused"
    DUPLICATE_NAME = "duplicate_name"
    DANGLING_REFERENCE = "dangling_reference"
    NAME_MISMATCH = "name_mismatch"
    HARDCODED_SECRET = "hardcoded_secret"
    ENV_SECRET = "env_secret"


@dataclass(frozen=True)
class Usage:
    """One node of one workflow using one credential."""

    workflow_id: str | None
    workflow_name: str
    active: bool
    archived: bool
    node_name: str
    node_type: str
    node_disabled: bool
    credential_type: str


@dataclass(frozen=True)
class Flag:
    code: FlagCode
    severity: Severity
    message: str
    credential_id: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    node_name: str | None = None


@dataclass
class UsageIndex:
    credentials: list[Credential]
    workflows: list[Workflow]
    usages: dict[str, list[Usage]] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)

    def usages_of(self, credential_id: str) -> list[Usage]:
        return self.usages.get(credential_id, [])

    def flags_of(self, credential_id: str) -> list[Flag]:
        return [flag for flag in self.flags if flag.credential_id == credential_id]

    @property
    def node_count(self) -> int:
        return sum(len(workflow.nodes) for workflow in self.workflows)


def build_usage_index(
    credentials: Iterable[Credential], workflows: Iterable[Workflow]
) -> UsageIndex:
    index = UsageIndex(credentials=list(credentials), workflows=list(workflows))
    by_id = {credential.id: credential for credential in index.credentials}
    by_name: dict[tuple[str, str], list[Credential]] = defaultdict(list)
    for credential in index.credentials:
        by_name[(credential.type, _name_key(credential.name))].append(credential)
    for workflow in index.workflows:
        for node in workflow.nodes:
            _index_node(index, workflow, node, by_id, by_name)
    index.flags.extend(_duplicate_name_flags(index.credentials))
    index.flags.extend(_unused_flags(index))
    return index


def _name_key(name: str) -> str:
    return name.strip().casefold()


def _index_node(
    index: UsageIndex,
    workflow: Workflow,
    node: Node,
    by_id: dict[str, Credential],
    by_name: dict[tuple[str, str], list[Credential]],
) -> None:
    for cred_type, ref in node.credentials.items():
        usage = Usage(
            workflow_id=workflow.id,
            workflow_name=workflow.name,
            active=workflow.active,
            archived=workflow.is_archived,
            node_name=node.name,
            node_type=node.type,
            node_disabled=node.disabled,
            credential_type=cred_type,
        )
        credential = _resolve(index, workflow, node, cred_type, ref, by_id, by_name)
        if credential is not None:
            index.usages.setdefault(credential.id, []).append(usage)
    for secret in hardcoded_secrets(node):
        index.flags.append(
            _node_flag(
                FlagCode.HARDCODED_SECRET,
                Severity.ERROR,
                f"node {node.name!r} has a secret typed into {secret.field!r} ({secret.preview}, "
                f"{secret.reason}): move it into a credential so it can be rotated",
                workflow,
                node,
            )
        )
    for read in env_reads(node):
        if read.secret_like:
            index.flags.append(
                _node_flag(
                    FlagCode.ENV_SECRET,
                    Severity.WARNING,
                    f"node {node.name!r} reads the secret $env.{read.variable}: n8n reads its "
                    "environment only at start, so a new value needs an n8n restart",
                    workflow,
                    node,
                )
            )


def _resolve(
    index: UsageIndex,
    workflow: Workflow,
    node: Node,
    cred_type: str,
    ref: CredentialRef,
    by_id: dict[str, Credential],
    by_name: dict[tuple[str, str], list[Credential]],
) -> Credential | None:
    """The credential a node's reference points at, flagging dangling and stale references."""
    label = f"{ref.name!r}" if ref.name else "(no name)"
    if ref.id:
        credential = by_id.get(ref.id)
        if credential is None:
            index.flags.append(_dangling(workflow, node, cred_type, ref, by_name))
            return None
        if ref.name is not None and ref.name != credential.name:
            index.flags.append(
                _node_flag(
                    FlagCode.NAME_MISMATCH,
                    Severity.WARNING,
                    f"node {node.name!r} names credential {ref.id} {label}, but it is now called "
                    f"{credential.name!r}: n8n follows the id; check that this is the credential "
                    "you mean, then re-save the workflow",
                    workflow,
                    node,
                    credential.id,
                )
            )
        return credential
    matches = by_name.get((cred_type, _name_key(ref.name or "")), [])
    if len(matches) == 1:
        return matches[0]
    index.flags.append(_dangling(workflow, node, cred_type, ref, by_name))
    return None


def _dangling(
    workflow: Workflow,
    node: Node,
    cred_type: str,
    ref: CredentialRef,
    by_name: dict[tuple[str, str], list[Credential]],
) -> Flag:
    same_name = by_name.get((cred_type, _name_key(ref.name or "")), [])
    target = f"credential id {ref.id} ({ref.name!r})" if ref.id else f"credential {ref.name!r}"
    if ref.id is None and len(same_name) > 1:
        ids = ", ".join(credential.id for credential in same_name)
        problem = f"names {target}, which is ambiguous (ids {ids})"
    else:
        problem = f"points at {target} of type {cred_type}, which does not exist"
    hint = "select an existing credential in the node"
    if ref.id and len(same_name) == 1:
        hint = f"a credential of that name exists (id {same_name[0].id}): select it in the node"
    return _node_flag(
        FlagCode.DANGLING_REFERENCE,
        Severity.ERROR,
        f"node {node.name!r} {problem}: its next run fails; {hint}",
        workflow,
        node,
        ref.id,
    )


def _duplicate_name_flags(credentials: list[Credential]) -> list[Flag]:
    groups: dict[str, list[Credential]] = defaultdict(list)
    for credential in credentials:
        groups[_name_key(credential.name)].append(credential)
    flags = []
    for group in groups.values():
        if len(group) < 2:
            continue
        ids = ", ".join(f"{credential.id} ({credential.type})" for credential in group)
        for credential in group:
            flags.append(
                Flag(
                    code=FlagCode.DUPLICATE_NAME,
                    severity=Severity.WARNING,
                    message=f"{len(group)} credentials are named {credential.name!r} ({ids}): a "
                    "node may use the one you did not edit; rename them apart",
                    credential_id=credential.id,
                )
            )
    return flags


def _unused_flags(index: UsageIndex) -> list[Flag]:
    return [
        Flag(
            code=FlagCode.UNUSED,
            severity=Severity.INFO,
            message="no workflow uses this credential: delete it, or revoke its key at the "
            "provider",
            credential_id=credential.id,
        )
        for credential in index.credentials
        if not index.usages_of(credential.id)
    ]


def _node_flag(
    code: FlagCode,
    severity: Severity,
    message: str,
    workflow: Workflow,
    node: Node,
    credential_id: str | None = None,
) -> Flag:
    return Flag(
        code=code,
        severity=severity,
        message=message,
        credential_id=credential_id,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        node_name=node.name,
    )
