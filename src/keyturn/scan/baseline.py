"""Baselines: findings recorded by fingerprint are not reported again (gradual adoption)."""

from __future__ import annotations

import json
from pathlib import Path

from keyturn.core.errors import ConfigError
from keyturn.detect.findings import ScanResult

SCHEMA_ID = "keyturn.scan-baseline/v1"


def load_baseline(path: Path) -> set[str]:
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
    if not isinstance(document, dict) or document.get("schema") != SCHEMA_ID:
        raise ConfigError(
            f"{path} is not a keyturn baseline.", "Recreate it with --update-baseline."
        )
    return {str(fingerprint) for fingerprint in document.get("fingerprints", [])}


def apply_baseline(result: ScanResult, known: set[str]) -> None:
    kept = [finding for finding in result.findings if finding.fingerprint not in known]
    result.baselined = len(result.findings) - len(kept)
    result.findings = kept


def write_baseline(path: Path, result: ScanResult) -> None:
    document = {
        "schema": SCHEMA_ID,
        "fingerprints": sorted({finding.fingerprint for finding in result.findings}),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
