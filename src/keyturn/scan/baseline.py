"""Baselines: findings recorded by fingerprint are not reported again (gradual adoption).

A baseline is committed beside the code, so it must not let anyone test guesses of a secret
offline: each finding is recorded as HMAC-SHA256 of its place and value under a random salt
kept in the file (format v2), never as a plain hash. A v1 baseline (plain SHA-256) still
suppresses its findings, and `--update-baseline` rewrites it keyed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyturn.core.errors import ConfigError
from keyturn.detect.findings import Finding, ScanResult

SCHEMA_ID = "keyturn.scan-baseline/v2"
SCHEMA_V1 = "keyturn.scan-baseline/v1"
_SALT_BYTES = 32


@dataclass(frozen=True)
class Baseline:
    fingerprints: frozenset[str]
    salt: bytes | None  # None: a v1 baseline, whose fingerprints are unkeyed

    def knows(self, finding: Finding) -> bool:
        if self.salt is None:
            return finding.unkeyed_fingerprint() in self.fingerprints
        return finding.keyed_fingerprint(self.salt) in self.fingerprints


def load_baseline(path: Path) -> Baseline:
    document = _read(path)
    fingerprints = frozenset(str(fingerprint) for fingerprint in document.get("fingerprints", []))
    if document.get("schema") == SCHEMA_V1:
        return Baseline(fingerprints, None)
    return Baseline(fingerprints, _salt(document, path))


def apply_baseline(result: ScanResult, baseline: Baseline) -> None:
    kept = [finding for finding in result.findings if not baseline.knows(finding)]
    result.baselined = len(result.findings) - len(kept)
    result.findings = kept


def write_baseline(path: Path, result: ScanResult) -> None:
    """Record the findings, keyed with the file's salt (a new one for a new or v1 file)."""
    import secrets  # only here: 10 ms of imports that applying a baseline does not need

    salt = _existing_salt(path) or secrets.token_bytes(_SALT_BYTES)
    document = {
        "schema": SCHEMA_ID,
        "salt": base64.b64encode(salt).decode(),
        "fingerprints": sorted({finding.keyed_fingerprint(salt) for finding in result.findings}),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"Baseline {path} does not exist.", "Create it with --baseline FILE --update-baseline."
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Baseline {path} cannot be read: {exc}.", "Fix or recreate it."
        ) from None
    if not isinstance(document, dict) or document.get("schema") not in (SCHEMA_ID, SCHEMA_V1):
        raise ConfigError(
            f"{path} is not a keyturn baseline.", "Recreate it with --update-baseline."
        )
    return document


def _salt(document: dict[str, Any], path: Path) -> bytes:
    try:
        salt = base64.b64decode(str(document.get("salt", "")), validate=True)
    except (binascii.Error, ValueError):
        salt = b""
    if len(salt) < 16:
        raise ConfigError(
            f"Baseline {path} has no valid salt.", "Recreate it with --update-baseline."
        )
    return salt


def _existing_salt(path: Path) -> bytes | None:
    """The salt of the baseline already at `path`, to keep its fingerprints stable."""
    try:
        return load_baseline(path).salt
    except ConfigError:
        return None
