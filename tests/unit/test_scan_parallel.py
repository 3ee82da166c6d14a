"""A scan spread over worker processes: what the workers send back, and how files are shared."""

from __future__ import annotations

import gc
import io
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from keyturn.core.jsonio import write_stdout
from keyturn.core.memory import cyclic_gc_paused
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
    sizes = {"a": 10, "b": 5000, "c": 0, "d": 900, "e": 3000, "f": 800, "g": 3000, "h": 10}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    (tmp_path / "huge").write_bytes(b"x" * 9000)  # over the limit: skipped, weighs nothing
    names = [*sizes, "huge", "gone"]  # gone: vanished since it was listed
    files = [(number, str(tmp_path / name)) for number, name in enumerate(names)]
    batches = _balanced_batches(files, 3, max_file_bytes=8000)
    dealt = [[Path(path).name for _, path in batch] for batch in batches]
    # largest first, round by round: b e g, then d f a, then h c huge, then gone
    assert dealt == [["b", "d", "h", "gone"], ["e", "f", "c"], ["g", "a", "huge"]]
    assert sorted(item for batch in batches for item in batch) == files  # numbers kept
    assert _balanced_batches(files[:2], 4, max_file_bytes=8000) == [[files[1]], [files[0]]]
    weights = [sum(sizes.get(Path(path).name, 0) for _, path in batch) for batch in batches]
    assert weights == sorted(weights, reverse=True)  # the lightest are taken last


def test_workers_find_and_skip_what_one_process_does(tmp_path: Path) -> None:
    for index in range(80):
        body = (
            '{"nodes": [{"name": "n", "parameters": {"headerParameters": {"parameters": '
            f'[{{"name": "X-API-Key", "value": "k{index:03}f8e2c41d9b7a6"}}]}}}}}}]}}'
        )
        (tmp_path / f"w{index:02}.json").write_text(body, encoding="utf-8")
    (tmp_path / "a-blob.bin").write_bytes(b"\0" * 10)
    (tmp_path / "zz-blob.bin").write_bytes(b"\0" * 5000)  # the largest: dealt out first
    (tmp_path / "broken.json").write_text('{"nodes": [', encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path)  # skipped while the folder is listed
    one = scan_paths([tmp_path], ScanOptions(workers=1))
    two = scan_paths([tmp_path], ScanOptions(workers=2))
    assert len(one.findings) == 80
    key = lambda f: (f.location.path, f.location.line or 0, f.fingerprint)  # noqa: E731
    assert sorted(two.findings, key=key) == sorted(one.findings, key=key)
    assert two.skipped == one.skipped  # in the order they were found, not by batch
    assert [entry.path for entry in one.skipped] == [
        str(tmp_path / "link"),
        str(tmp_path / "a-blob.bin"),
        str(tmp_path / "broken.json"),
        str(tmp_path / "zz-blob.bin"),
    ]
    twice = [tmp_path, tmp_path]  # a folder named twice: each file scanned twice, in turn
    assert scan_paths(twice, ScanOptions(workers=2)).skipped == (
        scan_paths(twice, ScanOptions(workers=1)).skipped
    )
    assert (two.files_scanned, two.bytes_scanned) == (one.files_scanned, one.bytes_scanned)


def test_the_collector_is_paused_only_while_asked_and_back_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not end the outer one
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_workers_start_with_the_collector_on_and_the_scan_leaves_it_on(tmp_path: Path) -> None:
    for index in range(70):
        (tmp_path / f"w{index:02}.json").write_text('{"nodes": []}', encoding="utf-8")
    code = (
        "import gc, multiprocessing\n"
        "from pathlib import Path\n"
        "from keyturn.detect.findings import Skipped\n"
        "from keyturn.scan import engine\n"
        "scan_batch = engine._scan_batch\n"
        "def spy(batch, options):\n"
        "    result, numbers = scan_batch(batch, options)\n"
        "    result.skipped.append(Skipped('gc', str(gc.isenabled())))\n"
        "    return result, [*numbers, 0]\n"
        "engine._scan_batch = spy\n"
        "if __name__ == '__main__':\n"
        "    multiprocessing.set_start_method('fork')\n"
        f"    folder = Path({str(tmp_path)!r})\n"
        "    result = engine.scan_paths([folder], engine.ScanOptions(workers=2))\n"
        "    print(sorted({entry.reason for entry in result.skipped}), gc.isenabled())\n"
    )
    script = tmp_path.parent / "gc_in_workers.py"
    script.write_text(code, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "['True'] True"


def test_a_report_follows_what_was_written_before_it_on_stdout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
    monkeypatch.setattr(sys, "stdout", stream)
    stream.write("before\n")  # still in the text layer's buffer
    write_stdout('{"é": 1}\n'.encode())
    assert raw.getvalue() == 'before\n{"é": 1}\n'.encode()
    text_only = io.StringIO()
    monkeypatch.setattr(sys, "stdout", text_only)
    write_stdout('{"é": 1}\n'.encode())
    assert text_only.getvalue() == '{"é": 1}\n'


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGPIPE on Windows")
def test_a_report_into_a_closed_pipe_ends_quietly_with_1(tmp_path: Path) -> None:
    """The reader gone before the report is written (`| head` that has read enough): no
    traceback, exit 1 as typer ends on a closed pipe. Nothing is found, so 1 is not the exit
    code of findings."""
    for index in range(70):
        (tmp_path / f"w{index:02}.json").write_text('{"nodes": []}', encoding="utf-8")
    command = [sys.executable, "-m", "keyturn", "scan", str(tmp_path), "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    assert process.wait(timeout=60) == 1
    assert process.stderr.read() == b""
    found = subprocess.run(command, capture_output=True, check=False)
    assert (found.returncode, found.stderr) == (0, b"")  # with its reader: nothing found
