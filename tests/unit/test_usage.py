"""The usage index on synthetic workflows and on the 395 real community exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from keyturn.inventory.report import InstanceOut, InventoryReport, StatsOut, build_report
from keyturn.inventory.usage import FlagCode, build_usage_index
from keyturn.n8n.models import Credential, Workflow
from tests.helpers import realworld_files

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def cred(cid: str, name: str, ctype: str = "httpHeaderAuth", age: int = 0) -> Credential:
    stamp = (NOW - timedelta(days=age)).isoformat()
    return Credential.model_validate(
        {"id": cid, "name": name, "type": ctype, "createdAt": stamp, "updatedAt": stamp}
    )


def workflow(wid: str, *nodes: dict[str, object], active: bool = False) -> Workflow:
    return Workflow.model_validate(
        {"id": wid, "name": f"wf {wid}", "active": active, "nodes": list(nodes)}
    )


def http_node(name: str, refs: dict[str, object]) -> dict[str, object]:
    return {
        "name": name,
        "type": "n8n-nodes-base.httpRequest",
        "parameters": {},
        "credentials": refs,
    }


def codes(index_flags: list[object]) -> list[str]:
    return sorted(flag.code.value for flag in index_flags)  # type: ignore[attr-defined]


def test_usage_dangling_mismatch_duplicates_unused() -> None:
    credentials = [cred("c1", "Partner"), cred("c2", "Dup"), cred("c3", "Dup"), cred("c4", "Idle")]
    workflows = [
        workflow("w1", http_node("A", {"httpHeaderAuth": {"id": "c1", "name": "Partner"}})),
        workflow("w2", http_node("B", {"httpHeaderAuth": {"id": "c1", "name": "Old name"}})),
        workflow("w3", http_node("C", {"httpHeaderAuth": {"id": "gone", "name": "Gone"}})),
        workflow("w4", http_node("D", {"httpHeaderAuth": {"id": "c2", "name": "Dup"}})),
        workflow("w5", http_node("E", {"httpHeaderAuth": "Dup"})),  # old export: name only
    ]
    index = build_usage_index(credentials, workflows)
    assert [u.workflow_id for u in index.usages_of("c1")] == ["w1", "w2"]
    assert codes(index.flags_of("c1")) == ["name_mismatch"]
    assert codes(index.flags_of("c2")) == ["duplicate_name"]
    assert codes(index.flags_of("c3")) == ["duplicate_name", "unused"]
    assert codes(index.flags_of("c4")) == ["unused"]
    dangling = [f for f in index.flags if f.code is FlagCode.DANGLING_REFERENCE]
    assert [(f.workflow_id, f.node_name) for f in dangling] == [("w3", "C"), ("w5", "E")]
    assert "ambiguous" in dangling[1].message


def test_dangling_reference_hints_at_a_same_named_credential() -> None:
    credentials = [cred("new", "Partner")]
    wf = workflow("w1", http_node("A", {"httpHeaderAuth": {"id": "old", "name": "Partner"}}))
    (flag,) = [f for f in build_usage_index(credentials, [wf]).flags if f.code.value != "unused"]
    assert flag.code is FlagCode.DANGLING_REFERENCE
    assert "id new" in flag.message


def test_name_only_reference_resolves_by_type_and_name() -> None:
    credentials = [cred("c1", "Partner"), cred("c2", "Partner", ctype="httpQueryAuth")]
    wf = workflow("w1", http_node("A", {"httpQueryAuth": "Partner"}))
    index = build_usage_index(credentials, [wf])
    assert [u.node_name for u in index.usages_of("c2")] == ["A"]
    assert index.usages_of("c1") == []


def test_report_ages_and_json_schema() -> None:
    index = build_usage_index([cred("c1", "Old", age=400)], [])
    report = build_report(
        index, InstanceOut(name="x", url="http://x"), StatsOut(api_requests=2, seconds=0.1), NOW
    )
    document = json.loads(report.model_dump_json(by_alias=True))
    assert document["schema"] == "keyturn.inventory/v1"
    assert document["credentials"][0]["age_days"] == 400
    assert document["summary"] == {
        "credentials": 1,
        "workflows": 0,
        "nodes": 0,
        "flags": {"unused": 1},
    }


def test_every_realworld_export_is_read() -> None:
    files = realworld_files()
    assert len(files) == 395
    workflows, references = [], 0
    for path in files:
        raw = json.loads(path.read_text(encoding="utf-8"))
        parsed = Workflow.model_validate(raw)
        assert len(parsed.nodes) == len(raw["nodes"]), path.name
        references += sum(len(node.credentials) for node in parsed.nodes)
        workflows.append(parsed)
    index = build_usage_index([], workflows)
    dangling = [f for f in index.flags if f.code is FlagCode.DANGLING_REFERENCE]
    assert len(dangling) == references > 1500
    assert index.node_count > 5000


def test_documented_json_schema_is_current() -> None:
    schema_file = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "inventory.json"
    current = InventoryReport.model_json_schema(by_alias=True, mode="serialization")
    assert json.loads(schema_file.read_text()) == current, "regenerate docs/schemas/inventory.json"
