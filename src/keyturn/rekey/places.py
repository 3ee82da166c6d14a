"""Every place n8n keeps a value encrypted with its instance key, for 1.x and 2.x.

Read from the installed n8n 2.40.7 and 1.123.81 (docs/research/n8n-encryption-key-places.md).
A place that a database does not have (a 1.x database has no `deployment_key`, a table of a
module never enabled) is skipped: the same list serves every version.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Shape(enum.Enum):
    WHOLE = "whole"  # the column is one stored value
    LIST = "list"  # TypeORM simple-array: stored values joined with ","
    FIELDS = "fields"  # a JSON object whose named fields are stored values
    EXECUTION = "execution"  # flatted execution data: runtimeData.credentials/secureArtifacts


class Content(enum.Enum):
    """What the plaintext must be: a wrong key that slips through CBC's padding check (1 in 256)
    is caught here."""

    JSON = "json"
    TEXT = "text"
    TOTP = "totp"


@dataclass(frozen=True)
class Place:
    table: str
    column: str
    shape: Shape = Shape.WHOLE
    content: Content = Content.TEXT
    setting: str | None = None  # a row of `settings`, by its key
    fields: tuple[str, ...] = ()
    plain_allowed: bool = False  # a value that is not ciphertext is left as it is (n8n does)
    versions: str = "1.x, 2.x"

    @property
    def name(self) -> str:
        where = f"[{self.setting}]" if self.setting else ""
        inside = f".{'/'.join(self.fields)}" if self.fields else ""
        return f"{self.table}.{self.column}{where}{inside}"


def _setting(key: str, *fields: str, content: Content = Content.TEXT, v: str = "1.x, 2.x") -> Place:
    shape = Shape.FIELDS if fields else Shape.WHOLE
    return Place("settings", "value", shape, content, key, fields, bool(fields), v)


PLACES: tuple[Place, ...] = (
    Place("credentials_entity", "data", content=Content.JSON),
    Place("user", "mfaSecret", content=Content.TOTP),
    Place("user", "mfaRecoveryCodes", Shape.LIST),
    _setting("features.ldap", "bindingAdminPassword"),
    _setting("features.oidc", "clientSecret"),
    _setting("features.saml", "signingPrivateKey", v="2.x"),
    _setting("features.sourceControl.sshKeys", "encryptedPrivateKey"),
    _setting("features.sourceControl.httpsCredentials", "encryptedUsername", "encryptedPassword"),
    _setting("feature.externalSecrets", content=Content.JSON),
    _setting("credentialsOverwrite", content=Content.JSON),
    Place("secrets_provider_connection", "encryptedSettings", content=Content.JSON, versions="2.x"),
    Place("dynamic_credential_resolver", "config", content=Content.JSON, versions="2.x"),
    Place("dynamic_credential_entry", "data", versions="2.x"),
    Place("dynamic_credential_user_entry", "data", versions="2.x"),
    Place("promotion_provider", "auth", content=Content.JSON, versions="2.x"),
    Place("execution_data", "data", Shape.EXECUTION),
)

DEPLOYMENT_KEY = "deployment_key"  # 2.x: data keys and signing secrets, wrapped (plan.py)
EXECUTION_PATHS = (("executionData", "runtimeData", "credentials"),
                   ("executionData", "runtimeData", "secureArtifacts"))  # fmt: skip
