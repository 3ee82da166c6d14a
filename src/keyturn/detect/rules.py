"""The scanner's rules: stable ids, severities and a remediation line each."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


class Rule(NamedTuple):
    id: str
    name: str
    severity: Severity
    description: str
    remediation: str

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Findings cross process boundaries: send the id, not the whole rule.
        return rule_by_id, (self.id,)


NODE_PARAMETER = Rule(
    "KT001",
    "secret-in-node-parameter",
    Severity.HIGH,
    "A secret is typed into a node parameter (header, query or body parameter, field value) "
    "instead of being kept in an n8n credential.",
    "Move the value into a credential (e.g. Header Auth) and select it in the node; then "
    "rotate the exposed key.",
)
URL_PASSWORD = Rule(
    "KT002",
    "password-in-url",
    Severity.HIGH,
    "A URL or connection string carries a password (scheme://user:password@host).",
    "Use a credential for the password; then rotate it.",
)
CODE_LITERAL = Rule(
    "KT003",
    "secret-in-code",
    Severity.HIGH,
    "A Code or Function node's source holds a secret literal.",
    "Read the secret from a credential-backed node, not from code; then rotate it.",
)
KNOWN_TOKEN = Rule(
    "KT004",
    "known-token-format",
    Severity.HIGH,
    "A value has the format of a well-known token (cloud, source host, chat, payments, AI "
    "APIs, JWT, private key).",
    "Revoke the token at its issuer, issue a new one and keep it in a credential or a secret "
    "store.",
)
ENV_FILE_SECRET = Rule(
    "KT005",
    "secret-in-env-or-config",
    Severity.MEDIUM,
    "A secret-named variable in a .env, compose or config file holds a literal value.",
    "Keep the value out of files that are copied or committed (Docker secrets, a vault); "
    "rotate it if the file was shared.",
)
ENV_READ = Rule(
    "KT006",
    "secret-read-from-env",
    Severity.LOW,
    "A node reads a secret from n8n's environment ($env / process.env): it changes only when "
    "n8n restarts, and cannot be rotated through a credential.",
    "Prefer a credential; if the value must stay in the environment, rotate with "
    "`keyturn rotate --restart`.",
)
DANGLING_REFERENCE = Rule(
    "KT007",
    "dangling-credential-reference",
    Severity.MEDIUM,
    "A node points at a credential that does not exist on the instance.",
    "Select an existing credential in the node (keyturn inventory shows the candidates).",
)
DUPLICATE_NAME = Rule(
    "KT008",
    "duplicate-credential-name",
    Severity.LOW,
    "Several credentials share one name: a node may use the one you did not rotate.",
    "Rename the credentials apart.",
)
OLD_SECRET = Rule(
    "KT009",
    "old-secret-survives",
    Severity.HIGH,
    "A value given with --old-secret (possibly encoded: base64, Basic auth, URL, JSON, hex) "
    "still appears here.",
    "Replace it with the new value or a credential reference, then scan again.",
)

WORKFLOW_DATA = Rule(
    "KT010",
    "secret-in-workflow-data",
    Severity.HIGH,
    "A workflow's pinned data or static data holds a secret (a copy of a real request, "
    "response or state): it travels with every export and copy of the workflow.",
    "Remove the value (or the pinned data) from the workflow; rotate the key if the workflow "
    "was shared or exported.",
)

ALL_RULES = (
    NODE_PARAMETER, URL_PASSWORD, CODE_LITERAL, KNOWN_TOKEN, ENV_FILE_SECRET, ENV_READ,
    DANGLING_REFERENCE, DUPLICATE_NAME, OLD_SECRET, WORKFLOW_DATA,
)  # fmt: skip


_BY_ID = {rule.id: rule for rule in ALL_RULES}


def rule_by_id(rule_id: str) -> Rule:
    return _BY_ID[rule_id]
