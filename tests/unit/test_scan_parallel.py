"""A scan spread over worker processes: what the workers send back, and how files are shared."""

from __future__ import annotations

import pickle
from pathlib import Path

from keyturn.detect.findings import Finding, Location, ScanResult, Skipped
from keyturn.detect.rules import ALL_RULES, KNOWN_TOKEN, NODE_PARAMETER
from keyturn.detect.values import Hit
from keyturn.scan.engine import ScanOptions, _balanced_batches, scan_paths


def test_a_result_comes_back_from_a_worker_as_it_was_made() -> None:
    hostile = Location("dir/ü<b>.json", 7, "/nodes/0/parameters/a~1b", "Wf \u202e", "Node\n")
    findings = [
        Finding.from_hit(Hit(rule, f"s3cr3t+/=&%{index}", "field", "detail"), location)
        for index, (rule, location) in enumerate(
            [(NODE_PARAMETER, hostile), (KNOWN_TOKEN, Location("a.env", None)), *[
                (rule, Location(f"f{index}.json", index)) for index, rule in enumerate(ALL_RULES)
            ]]
        )
    ]  # fmt: skip
    result = ScanResult(
        findings,
        [Skipped("x.bin", "binary file")],
        files_scanned=3,
        bytes_scanned=4096,
        workflows_scanned=2,
        seconds=1.5,
        baselined=1,
    )
    back = pickle.loads(pickle.dumps(result))  # noqa: S301 (its own bytes, as a worker sends)
    assert back.findings == result.findings
    assert [f.value_digest for f in back.findings] == [f.value_digest for f in findings]
    assert all(a.rule is b.rule for a, b in zip(back.findings, findings, strict=True))
    assert vars(back) == vars(result)
    assert b"s3cr3t" not in pickle.dumps(result)  # only the value's digest crosses


def test_files_are_shared_out_by_size_and_each_goes_to_one_batch(tmp_path: Path) -> None:
    sizes = [5000, 3000, 3000, 1000, 900, 800, 10, 10, 0]
    files = []
    for index, size in enumerate(sizes):
        path = tmp_path / f"f{index}"
        path.write_bytes(b"x" * size)
        files.append(str(path))
    files.append(str(tmp_path / "gone"))  # vanished since it was listed: scan_file says so
    batches = _balanced_batches(files, 4)
    assert sorted(path for batch in batches for path in batch) == sorted(files)
    totals = [sum(Path(p).stat().st_size for p in batch if Path(p).exists()) for batch in batches]
    assert max(totals) - min(totals) <= max(sizes)
    assert _balanced_batches(files[:2], 4) == [[files[0]], [files[1]]]  # no empty batch


def test_workers_find_and_skip_what_one_process_does(tmp_path: Path) -> None:
    for index in range(80):
        body = (
            '{"nodes": [{"name": "n", "parameters": {"headerParameters": {"parameters": '
            f'[{{"name": "X-API-Key", "value": "k{index:03}f8e2c41d9b7a6"}}]}}}}}}]}}'
        )
        (tmp_path / f"w{index:02}.json").write_text(body, encoding="utf-8")
    (tmp_path / "blob.bin").write_bytes(b"\0" * 10)
    (tmp_path / "broken.json").write_text('{"nodes": [', encoding="utf-8")
    one = scan_paths([tmp_path], ScanOptions(workers=1))
    two = scan_paths([tmp_path], ScanOptions(workers=2))
    assert len(one.findings) == 80
    key = lambda f: (f.location.path, f.location.line or 0, f.fingerprint)  # noqa: E731
    assert sorted(two.findings, key=key) == sorted(one.findings, key=key)
    assert sorted(two.skipped) == sorted(one.skipped)
    assert (two.files_scanned, two.bytes_scanned) == (one.files_scanned, one.bytes_scanned)
