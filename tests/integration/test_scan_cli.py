"""`keyturn scan` through the real CLI: a live n8n, exported folders, exit codes, formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keyturn.core.errors import ExitCode
from keyturn.sandbox.workflows import (
    DemoProviderClient,
    chain,
    http_request_node,
    seed_demo,
    webhook_node,
)
from tests.conftest import N8nHandle


def test_live_instance(n8n: N8nHandle, provider_admin: DemoProviderClient, run_cli: Any) -> None:
    seed = seed_demo(n8n.client, provider_admin)
    old_key = seed.keys["Partner API"]
    # The old partner key also survives, Basic-auth encoded, in a forgotten workflow.
    import base64

    basic = base64.b64encode(f"demo:{old_key}".encode()).decode()
    n8n.client.create_workflow(
        chain(
            "Forgotten copy",
            webhook_node("Forgotten copy", "forgotten"),
            http_request_node(
                "Forgotten copy", "http://127.0.0.1:9/", headers={"Authorization": f"Basic {basic}"}
            ),
        )
    )
    result = run_cli("scan", "--json", "--old-secret", "env:OLD", env={**n8n.env(), "OLD": old_key})
    assert result.code == ExitCode.FINDINGS, result.stderr
    document = json.loads(result.stdout)
    found = {(f["rule_id"], f["location"]["workflow"]) for f in document["findings"]}
    assert ("KT001", "Legacy report") in found  # the hard-coded header
    assert ("KT006", "Env reader") in found  # $env.PARTNER_API_KEY
    assert ("KT007", "CRM import") in found  # dangling reference
    assert ("KT009", "Forgotten copy") in found  # the old key, inside Basic auth
    assert sum(f["rule_id"] == "KT008" for f in document["findings"]) == 2  # 'Billing API' twice
    assert document["summary"]["workflows_scanned"] == 8
    assert old_key not in result.stdout and "lg_9f8e7d6c5b4a39281706" not in result.stdout
    for finding in document["findings"]:
        assert finding["location"]["path"].startswith("n8n://env/")


def test_folder_exit_codes_formats_and_baseline(run_cli: Any, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "wf.json").write_text(
        json.dumps(
            {
                "name": "Sync",
                "connections": {},
                "nodes": [
                    {
                        "name": "Call",
                        "type": "n8n-nodes-base.httpRequest",
                        "parameters": {
                            "headerParameters": {
                                "parameters": [{"name": "X-Auth", "value": "Zq8r2LmX4pT7vN1kW9yB"}]
                            }
                        },
                    }
                ],
            },
            indent=2,
        )
    )
    (exports / ".env").write_text("N8N_PORT=5678\nLOG_LEVEL=debug\n")

    high = run_cli("scan", "exports")
    assert high.code == ExitCode.FINDINGS
    assert "KT001" in high.stdout and "exports/wf.json:" in high.stdout
    assert "Zq8r2LmX4pT7vN1kW9yB" not in high.stdout

    sarif = run_cli("scan", "exports", "--format", "sarif", "--output", "report.sarif")
    assert sarif.code == ExitCode.FINDINGS
    report = json.loads((tmp_path / "report.sarif").read_text())
    assert (
        report["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
            "uri"
        ]
        == "exports/wf.json"
    )

    assert run_cli("scan", "exports", "--baseline", "base.json", "--update-baseline").code == 0
    again = run_cli("scan", "exports", "--baseline", "base.json", "--json")
    assert again.code == 0
    assert json.loads(again.stdout)["summary"]["baselined"] == 1

    clean = run_cli("scan", "exports/.env")
    assert clean.code == 0 and "0 findings" in clean.stdout

    assert run_cli("scan", "missing-folder").code == ExitCode.USAGE
    assert run_cli("scan", "exports", "--fail-on", "severe").code == ExitCode.USAGE
    assert run_cli("scan", "exports", "--format", "xml").code == ExitCode.USAGE
    literal = run_cli("scan", "exports", "--old-secret", "hunter2-literal")
    assert literal.code == ExitCode.USAGE and "hunter2-literal" not in literal.stderr
    low_only = run_cli("scan", "exports", "--fail-on", "high", "--json")
    assert low_only.code == ExitCode.FINDINGS
