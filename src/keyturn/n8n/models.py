"""n8n's objects as keyturn reads them: lenient, since exports of many n8n versions must parse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator


def n8n_message(response: httpx.Response) -> str:
    """The `message` of an n8n error answer, else the HTTP reason."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.reason_phrase or "no details"


class _N8nModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class CredentialRef(_N8nModel):
    """How a node names a credential: `{"id": ..., "name": ...}` (old exports: just a name)."""

    id: str | None = None
    name: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class Node(_N8nModel):
    name: str = ""
    type: str = ""
    type_version: float | None = Field(default=None, alias="typeVersion")
    id: str | None = None
    disabled: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, CredentialRef] = Field(default_factory=dict)

    @field_validator("credentials", mode="before")
    @classmethod
    def _refs_from_old_exports(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return {}
        return {
            cred_type: {"name": ref} if isinstance(ref, str) else ref
            for cred_type, ref in value.items()
            if isinstance(ref, dict | str)
        }

    @field_validator("parameters", mode="before")
    @classmethod
    def _parameters_as_dict(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}


class Workflow(_N8nModel):
    id: str | None = None
    name: str = ""
    active: bool = False
    is_archived: bool = Field(default=False, alias="isArchived")
    nodes: list[Node] = Field(default_factory=list)
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("nodes", mode="before")
    @classmethod
    def _only_node_objects(cls, value: Any) -> Any:
        return [node for node in value if isinstance(node, dict)] if isinstance(value, list) else []

    @field_validator("is_archived", "active", mode="before")
    @classmethod
    def _null_is_false(cls, value: Any) -> Any:
        return bool(value) if value is None else value


class Credential(_N8nModel):
    """A credential as the list endpoint returns it: never its secret data."""

    id: str
    name: str
    type: str
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class Execution(_N8nModel):
    id: str
    workflow_id: str | None = Field(default=None, alias="workflowId")
    status: str | None = None
    mode: str | None = None
    finished: bool | None = None
    started_at: datetime | None = Field(default=None, alias="startedAt")
    stopped_at: datetime | None = Field(default=None, alias="stoppedAt")
    retry_of: str | None = Field(default=None, alias="retryOf")
    retry_success_id: str | None = Field(default=None, alias="retrySuccessId")
    data: dict[str, Any] | None = None

    @field_validator("id", "workflow_id", "retry_of", "retry_success_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class CredentialTestResult(_N8nModel):
    status: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status.upper() == "OK"
