"""core/jsonio.py: for a small job keyturn reads and writes JSON with the standard library, and
must get exactly what orjson gets (the values, or orjson's error and its message, which a scan
reports), and write exactly the bytes orjson writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.core import jsonio
from keyturn.detect.documents import serialize
from tests.helpers import realworld_files


@pytest.fixture(autouse=True)
def small_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process has loaded orjson: make jsonio take its standard-library path."""
    monkeypatch.setattr(jsonio, "_small_job", lambda: True)


def outcome(read: Any, data: bytes | str) -> tuple[str, Any]:
    try:
        return "value", typed(read(data))
    except ValueError as exc:
        return "error", str(exc)


def typed(value: Any) -> list[tuple[str, Any]]:
    """The value, flattened with every scalar's type (1 and 1.0, True and 1 differ); without
    recursion, for the deeply nested texts."""
    flat: list[tuple[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            flat.append(("object", list(item)))
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            flat.append(("array", len(item)))
            stack.extend(reversed(item))
        else:
            flat.append((type(item).__name__, repr(item)))
    return flat


EDGE_TEXTS = [
    "[NaN]", "[Infinity]", "[-Infinity]", "1e400", "-1e400", "1e308", "[1e-400]",
    "1" * 25, "-" + "1" * 25, "18446744073709551615", "18446744073709551616",
    "-9223372036854775808", "-9223372036854775809", "-0", "-0.0", "0.1", "1E2", "1e+2",
    '"\\ud800"', '"\\ud83d\\ude00"', '"\\uDBFF\\uDFFF"', '"\\udc00\\ud800"', '"a\\u0000b"',
    '{"a":1,"a":2}', '{"a":1,"b":{"a":3},"a":[2]}', "[1,]", "{,}", "01", "1.", ".5", "+1",
    '"\t"', '"\n"', " [1] ", "[1] x", "[1]\n\n", "", "   ", "\ufeff[1]", "nul", "[true,false,null]",
    "[" * 900 + "]" * 900, "[" * 1100 + "]" * 1100, '{"a":' * 950 + "1" + "}" * 950,
    '"\\/"', '"\\x"', '"\\u12"', '"\\U0041"', "'a'", '{"a" 1}', '{1:2}', "[1 2]", "[--1]",
    '"\u2028\u2029"', '"\x7f"',
]  # fmt: skip
EDGE_BYTES = [b'"\xed\xa0\x80"', b"\xff", b'"\xc3"', b'["\xf0\x9f\x98\x80"]', b'"\xe2\x82"']


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_an_edge_text_reads_as_orjson_reads_it(text: str) -> None:
    assert outcome(jsonio.loads, text.encode()) == outcome(orjson.loads, text.encode())
    assert outcome(jsonio.loads, text) == outcome(orjson.loads, text)


@pytest.mark.parametrize("data", EDGE_BYTES)
def test_bytes_that_are_not_utf8_read_as_orjson_reads_them(data: bytes) -> None:
    assert outcome(jsonio.loads, data) == outcome(orjson.loads, data)


FRAGMENTS = ['{', '}', '[', ']', ',', ':', '"a"', '"k"', '"\\u00e9"', '"\\ud834"', '"\\udd1e"',
             '1', '-', '0', '.', 'e', '5', '1e999', 'true', 'null', 'NaN', ' ', '\n', '"', '\\',
             '"x\\"y"', '"é"', '"\\n"', '99999999999999999999', '{"a":', '[1,',
             'Infinity']  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=24))
def test_any_text_reads_as_orjson_reads_it(parts: list[str]) -> None:
    text = "".join(parts)
    assert outcome(jsonio.loads, text.encode()) == outcome(orjson.loads, text.encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_value_reads_back_as_orjson_reads_it(value: Any) -> None:
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError:  # a lone surrogate: not JSON orjson writes
        return
    assert outcome(jsonio.loads, text) == outcome(orjson.loads, text)
    # and a value as json writes it (\u escapes for non-ASCII, spaces)
    spaced = json.dumps(value).encode()
    assert outcome(jsonio.loads, spaced) == outcome(orjson.loads, spaced)


# What keyturn writes with dumps: a scan report (str, int, None, bool and the rounded seconds)
# and strings (the JSON form of a found value, to locate its line).
written_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
    | st.sampled_from([0.0, 0.001, 0.25, 1.5, 12.345, 4.771, 3600.0]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(written_values)
def test_values_are_written_as_orjson_writes_them(value: Any) -> None:
    try:
        compact = orjson.dumps(value)
    except orjson.JSONEncodeError:  # a lone surrogate: never in a parsed document
        return
    assert jsonio.dumps(value) == compact
    assert jsonio.dumps(value, indent=True) == orjson.dumps(value, option=orjson.OPT_INDENT_2)


@pytest.mark.parametrize(
    "work",
    [
        lambda: jsonio.loads(b"[" + b" " * jsonio.SMALL_BYTES + b"]"),
        lambda: [jsonio.dumps(["x" * 1000]) for _ in range(70)],
        jsonio.expect_large_job,
    ],
    ids=["a large read", "many writes", "a parallel scan"],
)
def test_a_large_job_loads_orjson(monkeypatch: pytest.MonkeyPatch, work: Any) -> None:
    monkeypatch.undo()  # the real _small_job
    monkeypatch.setattr(jsonio, "_handled", 0)
    monkeypatch.delitem(sys.modules, "orjson")
    assert jsonio._small_job()
    jsonio.loads(b"[1]")
    assert jsonio._small_job()
    work()
    assert not jsonio._small_job()


def test_a_parallel_scan_writes_its_report_with_orjson(tmp_path: Path) -> None:
    """The workers read the files: the process that writes the report must still know the
    job is large (json would take a second over a 100 MB corpus's report)."""
    for index in range(70):
        (tmp_path / f"w{index}.json").write_text('{"nodes": []}')
    code = (
        "import sys; from pathlib import Path; from keyturn.scan.engine import ScanOptions, "
        "run_scan; from keyturn.core import jsonio; "
        f"run_scan([Path({str(tmp_path)!r})], None, ScanOptions(workers=2)); "
        "print(jsonio._small_job())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_real_workflow_reads_as_orjson_reads_it() -> None:
    files = realworld_files()
    assert len(files) >= 390
    for path in files:
        raw = path.read_bytes()
        assert outcome(jsonio.loads, raw) == outcome(orjson.loads, raw), path


@pytest.mark.parametrize("text", ['"\ud800"', '["a", "\udfff"]'])
def test_a_str_holding_a_lone_surrogate_is_refused_as_orjson_refuses_it(text: str) -> None:
    assert outcome(jsonio.loads, text) == outcome(orjson.loads, text)
    assert outcome(jsonio.loads, text)[0] == "error"


def test_serialized_documents_are_orjsons_whatever_the_job() -> None:
    """Tokens are searched for in them, and json writes 1e-05 and deep nesting otherwise."""
    nested: Any = ["\u00e9ghp_" + "a" * 36]
    for _ in range(300):
        nested = [nested]
    assert serialize({"n": 0.00001, "m": 1e-7, "k": 1e22}) == b'{"n":0.00001,"m":1e-7,"k":1e+22}'
    with pytest.raises(TypeError):
        orjson.dumps(nested)  # deeper than orjson writes: json, unescaped as orjson writes
    compact = json.dumps(nested, ensure_ascii=False, separators=(",", ":"))
    assert serialize(nested) == compact.encode()
    assert b"\xc3\xa9ghp_" in serialize(nested)


def write_mixed_folder(folder: Path) -> None:
    """Small files, and the kinds a json or keyword path could read otherwise: a private key
    split over strings with a small float between them, escapes, and non-ASCII in a token."""
    for index in range(69):
        (folder / f"w{index:02}.json").write_text('{"nodes": [], "name": "w"}')
    pem = (
        '["-----BEGIN RSA PRIVATE KEY-----",0.00001,"'
        + "M" * 60
        + '","-----END RSA PRIVATE KEY-----"]'
    )
    (folder / "key.json").write_text('{"url":"https:\\/\\/example.org","lines":' + pem + "}")
    (folder / "z.txt").write_text(
        "conn: Endpoint=https://vk24bnmnt.azconfig.io;Id=" + "é" * 40
        + ";Secret=c8j6XQvGh5GNU1cp+wsKY+t1r5+BxFOkNHez6zIdBrY=\n"
    )  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_spawned_workers_find_what_forked_ones_and_one_process_find(tmp_path: Path) -> None:
    write_mixed_folder(tmp_path)
    results = []
    for method, workers in (("fork", 2), ("spawn", 2), ("fork", 1)):
        code = (
            "import json, multiprocessing; from pathlib import Path\n"
            "from keyturn.scan.engine import ScanOptions, run_scan\n"
            "if __name__ == '__main__':\n"
            f"    multiprocessing.set_start_method({method!r})\n"
            f"    options = ScanOptions(workers={workers})\n"
            f"    result = run_scan([Path({str(tmp_path)!r})], None, options)\n"
            "    found = [[f.location.path, f.location.line, f.rule.id, f.fingerprint]"
            " for f in result.findings]\n"
            "    print(json.dumps(sorted(found)))\n"
        )
        script = tmp_path.parent / f"scan_{method}_{workers}.py"
        script.write_text(code)
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        results.append(json.loads(out.stdout))
    assert results[0] == results[1] == results[2]
    assert len(results[0]) == 1  # the key; not the Id of é's (no printable ASCII there)


def test_a_report_said_to_be_large_is_written_by_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan of text files reads no JSON, yet may write a report of many findings."""
    monkeypatch.undo()
    monkeypatch.setattr(jsonio, "_handled", 0)
    monkeypatch.delitem(sys.modules, "orjson")
    assert jsonio.dumps({"a": [1.5]}, indent=True, large=True) == b'{\n  "a": [\n    1.5\n  ]\n}'
    assert "orjson" in sys.modules
