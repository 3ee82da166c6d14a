"""Large and hostile files: the time a scan takes grows with the file, not with its square.

A generated or dumped export can hold thousands of tokens. Each string used to be tried against
each of the file's tokens, each value's line looked for from the top of the file and each
token's place in a non-ASCII text counted from its start: an export of 7.7 MB with 20,000
tokens took seven minutes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.detect.documents import LineIndex, _CharOffsets, scan_json, scan_text
from keyturn.detect.values import FileTokens, Token, _has_bracketed, without_expressions
from keyturn.scan.engine import ScanOptions, scan_file

# No vowel, x or 0: no random token spells a placeholder (`todo`, `XXXX`, `00000000`).
_ALPHABET = "bcdfghjklmnpqrstvwzBCDFGHJKLMNPQRSTVWZ123456789"


def _token(rnd: random.Random) -> str:
    return "ghp_" + "".join(rnd.choice(_ALPHABET) for _ in range(36))


def _export(workflows: int, seed: int = 1) -> tuple[list[dict[str, Any]], list[str]]:
    """An `export:workflow --all` array: five HTTP Request nodes per workflow, each sending
    its own token, and pinned data before the nodes (as exports may write them)."""
    rnd, tokens, export = random.Random(seed), [], []
    for number in range(workflows):
        nodes = []
        for index in range(5):
            token = _token(rnd)
            tokens.append(token)
            header = {"name": "Authorization", "value": f"Bearer {token}"}
            parameters = {
                "url": "https://api.example.com/items",
                "text": f"item {index} " * 3,
                "headerParameters": {"parameters": [header]},
            }
            nodes.append({"parameters": parameters, "name": f"Call {index}", "type": "x"})
        pinned = {"Call 0": [{"json": {"password": f"pin-{number}-Xk29sLq7Wz"}}]}
        export.append({"name": f"Workflow {number}", "pinData": pinned, "nodes": nodes})
    return export, tokens


def test_an_export_of_15000_tokens_scans_in_seconds(tmp_path: Path) -> None:
    """Each string against each token made this take four minutes (at 20,000 tokens,
    seven); it takes about two seconds."""
    export, tokens = _export(3_000)
    path = tmp_path / "all.json"
    path.write_text(json.dumps(export, indent=1))
    started = time.perf_counter()
    result = scan_file(str(path), ScanOptions())
    assert time.perf_counter() - started < 30
    assert len(result.findings) == len(tokens) + 3_000
    assert all(f.location.line and f.location.pointer for f in result.findings)


class _CountingBytes(bytes):
    """Bytes that tally how many bytes their searches and newline counts have read."""

    read = 0

    def find(self, sub: Any, start: Any = None, end: Any = None) -> int:
        found = super().find(sub, start, end)
        stop = (len(self) if end is None else end) if found < 0 else found + len(sub)
        type(self).read += stop - (start or 0)
        return found

    def rfind(self, sub: Any, start: Any = None, end: Any = None) -> int:
        found = super().rfind(sub, start, end)
        stop = len(self) if end is None else end
        type(self).read += stop - (start or 0 if found < 0 else found)
        return found

    def count(self, sub: Any, start: Any = None, end: Any = None) -> int:
        type(self).read += (len(self) if end is None else end) - (start or 0)
        return super().count(sub, start, end)


def test_each_value_line_is_looked_for_past_the_one_before() -> None:
    """The lines of 1,000 new values: the file read about twice, not 500 times."""
    export, _ = _export(200)
    raw = _CountingBytes(json.dumps(export, indent=1).encode())
    _CountingBytes.read = 0
    findings = scan_json("all.json", raw, export)
    assert len(findings) == 1_200
    assert _CountingBytes.read < 4 * len(raw)
    lines = raw.split(b"\n")
    for finding in findings:  # each on the line that holds it, pinned data first
        assert finding.location.line is not None
        held = lines[finding.location.line - 1]
        assert finding.preview.split("…")[0].encode() in held


def test_values_out_of_the_files_order_still_get_their_lines() -> None:
    """A value met before one written earlier (a key given twice, a walk below 200 levels)
    is looked for behind: the line is still the one that holds it; a value met again is
    looked for past where it was found."""
    raw = b'{\n"a": "first",\n"b": "second",\n"c": "third",\n"d": "first"\n}'
    lines = LineIndex(raw)
    assert lines.line_of_value("third") == 4
    assert lines.line_of_value("first") == 5
    assert lines.line_of_value("second") == 3  # behind
    assert lines.line_of_value("first") == 2  # not where it was found before
    assert lines.line_of_value("third") == 4  # written once, reported twice
    assert lines.line_of_value("absent") is None
    assert lines.line_of_value("absent") is None


def test_values_in_reverse_order_cost_a_window_each_past_the_limit() -> None:
    """20,000 values asked for from the last to the first (a hostile order: the walk meets
    values in the file's order): each is looked for ahead, then behind. Every line is right;
    the searches read the file at most 32 times over, then a window around the last value
    found for each, instead of half the file for each (22 GB here)."""
    values = [f"value-{number:06d} {'.' * 100}" for number in range(20_000)]
    raw = _CountingBytes("\n".join(values).encode())
    _CountingBytes.read = 0
    lines = LineIndex(raw)
    found = [lines.line_of_value(value[:12]) for value in reversed(values)]
    assert found == list(range(20_000, 0, -1))
    assert _CountingBytes.read < 32 * len(raw) + (1 << 20) + 20_000 * 80_000


def test_many_values_missing_from_the_file_leave_the_others_their_lines() -> None:
    """Values not written as JSON writes them (`$env["X"]` is reported as `$env.X`) each
    cost a read of the file; past the limit, values near the last found still get their
    lines (a token without one was reported a second time, by its line: a baseline that knew
    it failed the gate)."""
    token = "ghp_" + "Zq8vR2mN5tW1xY7kL3pB9cD4fG6hJ8sAeUiQ"
    nodes = []
    for number in range(400):
        value = f'={{{{ $env["SERVICE_{number}_API_KEY"] }}}}'
        if number % 40 == 39:
            value = f"token {token}"
        header = {"name": "Authorization", "value": value}
        parameters = {
            "url": "https://api.example.com",
            "headerParameters": {"parameters": [header]},
        }
        nodes.append({"name": f"HTTP {number}", "parameters": parameters})
    workflow = {"name": "wf", "nodes": nodes}
    raw = json.dumps(workflow, indent=2).encode()
    tokens = [f for f in scan_json("wf.json", raw, workflow) if f.rule.id == "KT004"]
    assert len(tokens) == 10
    assert all(f.location.pointer and f.location.line for f in tokens)
    held = raw.split(b"\n")
    assert all(token.encode() in held[(f.location.line or 0) - 1] for f in tokens)


def test_several_secrets_in_one_code_node_each_get_their_line() -> None:
    """300 literals in one Code node, then a token: each found near the one before, not
    from the start of the code again."""
    code = "\n".join(f'const tenant{n}_api_key = "Zk{n:04d}Qv8rT3wL9x";' for n in range(300))
    token = "ghp_" + "Zq8vR2mN5tW1xY7kL3pB9cD4fG6hJ8sAeUiQ"
    workflow = {
        "name": "wf",
        "nodes": [
            {"name": "Code", "parameters": {"jsCode": code}},
            {"name": "Call", "parameters": {"headerParameters": {"parameters": [
                {"name": "Authorization", "value": f"token {token}"}]}}},
        ],
    }  # fmt: skip
    raw = _CountingBytes(json.dumps(workflow, indent=2).encode())
    _CountingBytes.read = 0
    findings = scan_json("wf.json", raw, workflow)
    assert len(findings) == 301
    assert all(f.location.line for f in findings)
    assert _CountingBytes.read < 40 * len(raw)


_alphabet = st.sampled_from(["ab", "ba", "abc", "b", "ca", "aab", "bca", "cab", "abca"])
_kinds = st.sampled_from(["kind A", "kind B"])


def _first_by_definition(tokens: list[Token], text: str) -> Token | None:
    kinds: dict[str, str] = {}
    for token, kind in sorted(tokens):
        kinds.setdefault(token, kind)
    ends = [(text.find(t) + len(t), -len(t), t, k) for t, k in kinds.items() if t in text]
    return (min(ends)[2], min(ends)[3]) if ends else None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_alphabet, _kinds), max_size=6),
    st.integers(min_value=0, max_value=40),
    st.text(alphabet="abcx", max_size=30),
)
def test_the_first_token_in_a_string_whatever_their_number(
    tokens: list[Token], padding: int, text: str
) -> None:
    """The token that ends first (the longest of those ending there), the same answer with
    a few tokens (a search for each) and with many (an automaton): filler tokens that no
    text holds push the count past the automaton's threshold."""
    filler = [(f"zz{number:03d}zz", "filler") for number in range(padding)]
    expected = _first_by_definition(tokens, text)
    assert FileTokens(tokens + filler).first_in(text) == expected
    assert FileTokens(tokens + filler).any_in(text) is (expected is not None)


def test_the_same_token_is_reported_the_same_way_in_every_run() -> None:
    """Two tokens in one string: the first is the one with the pointer, in any order given
    (a set's order changed with each process's hash seed)."""
    first, second = "ghp_" + "A" * 36, "xoxb-" + "1" * 12 + "-" + "2" * 12 + "-" + "b" * 24
    text = f"{first} then {second}"
    for order in ([(first, "x"), (second, "y")], [(second, "y"), (first, "x")]):
        assert FileTokens(order).first_in(text) == (first, "x")


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab\n\xe9\u4e2d\U0001f600"), max_size=60),
    st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_character_offsets_counted_on_are_those_counted_from_the_top(
    text: str, offsets: list[int]
) -> None:
    raw = text.encode()
    count = _CharOffsets(text, raw)
    for offset in [*sorted(min(offset, len(raw)) for offset in offsets), 0, len(raw) // 2]:
        assert count(offset) == len(raw[:offset].decode("utf-8", "ignore"))


def test_a_non_ascii_text_with_many_tokens_scans_in_seconds() -> None:
    """Each token's character offset was counted from the top of the text."""
    rnd = random.Random(2)
    tokens = [_token(rnd) for _ in range(20_000)]
    text = "# réglages\n" + "".join(f"TOKEN_{n}={t} # clé\n" for n, t in enumerate(tokens))
    started = time.perf_counter()
    findings = scan_text("many.env", text)
    assert time.perf_counter() - started < 30
    assert len({f.value_digest for f in findings}) == 20_000
    line_of = {f.value_digest: f.location.line for f in findings}
    for number in (0, 9_999, 19_999):  # the first line is the comment
        assert line_of[hashlib.sha256(tokens[number].encode()).digest()] == number + 2


def _code_workflow(code: str) -> dict[str, Any]:
    return {"name": "w", "nodes": [{"name": "Code", "parameters": {"jsCode": code}}]}


def test_a_code_string_of_one_long_name_is_read_once() -> None:
    """Each occurrence of a secret word walked back to the start of the name holding it:
    `keykeykey...` did not end in ten minutes at 600,000 characters; here 900,000."""
    workflow = _code_workflow("x = '" + "key" * 300_000 + "'")
    started = time.perf_counter()
    scan_json("code.json", json.dumps(workflow).encode(), workflow)
    assert time.perf_counter() - started < 30


def test_a_secret_assignment_after_letters_whose_lower_case_is_longer() -> None:
    """`İ` lower-cases to two characters: the words' places in the lower-cased code were
    taken for places in the code, ten characters off after ten of them."""
    workflow = _code_workflow("// " + "İ" * 10 + '\nconst apiKey = "Zq8rT3vW9xK2mN7pL4sD";')
    findings = scan_json("code.json", json.dumps(workflow).encode(), workflow)
    assert [(f.field, f.preview) for f in findings] == [("apiKey", "Zq…D (20 chars)")]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="{}a \n", max_size=40))
def test_expressions_are_blanked_as_the_regex_did(text: str) -> None:
    assert without_expressions(text) == re.sub(r"\{\{.*?\}\}", " ", text, flags=re.DOTALL)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="<>[]a", max_size=30))
def test_brackets_are_found_as_the_regex_found_them(text: str) -> None:
    assert _has_bracketed(text) is bool(re.search(r"<[^>]*>|\[[^\]]*\]", text))


def test_runs_of_openings_that_never_close_are_read_once() -> None:
    """`{{`, `<` or `[` repeated without a close: each was read to the end of the value from
    every opening (160 KB of `{{` took three minutes)."""
    values = {
        "url": "=" + "{{" * 80_000,
        "password": "<ab1" * 40_000,
        "apiKey": '$env["a1' * 20_000,
    }
    workflow = {"name": "w", "nodes": [{"name": "a", "parameters": values}]}
    started = time.perf_counter()
    scan_json("open.json", json.dumps(workflow).encode(), workflow)
    scan_text("open.env", "".join(f"{name.upper()}={value}\n" for name, value in values.items()))
    assert time.perf_counter() - started < 30


def test_tokens_inside_tokens_do_not_multiply_the_matches() -> None:
    """An AWS session token's opening repeated is itself a token at every length: 230 of
    them, and a string that repeats it, made millions of matches (80 s and 1.8 GB for a file
    of 2.3 MB when every match was kept). The first to end is taken as it comes."""
    opening = "IQoJb3JpZ2luX2Vj"
    tokens = [opening * repeat for repeat in range(8, 238)]
    workflow = {
        "name": "nested",
        "nodes": [{"name": "Set", "parameters": {"values": {"string": [
            {"name": "blob", "value": opening * 12_000}]}}}],
        "staticData": {"list": tokens},
    }  # fmt: skip
    raw = json.dumps(workflow).encode()
    started = time.perf_counter()
    findings = scan_json("nested.json", raw, workflow)
    assert time.perf_counter() - started < 10
    assert findings


def _true_line(document: Any, pointer: str, indent: int = 2) -> int:
    """The line `json.dumps(document, indent=indent)` writes the string at `pointer` on."""
    marked = json.loads(json.dumps(document))
    *parents, last = pointer.split("/")[1:]
    holder = marked
    for part in parents:
        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
    holder[int(last) if isinstance(holder, list) else last] = "\x00here"
    text = json.dumps(marked, indent=indent)
    return text[: text.index("\\u0000here")].count("\n") + 1


def _lines_are_right(document: Any) -> list[Any]:
    raw = json.dumps(document, indent=2).encode()
    findings = scan_json("all.json", raw, document)
    for finding in findings:
        assert finding.location.pointer, finding  # no token reported a second time
        assert finding.location.line == _true_line(document, finding.location.pointer), finding
    return findings


def _http(headers: list[tuple[str, str]]) -> dict[str, Any]:
    pairs = [{"name": name, "value": value} for name, value in headers]
    return {"name": "HTTP", "parameters": {"headerParameters": {"parameters": pairs}}}


def test_a_value_written_another_way_elsewhere_moves_no_other_line() -> None:
    """`$env["API_TOKEN"]` in the first workflow, `$env.API_TOKEN` in the last, one token in
    each: the read was looked for as `$env.API_TOKEN`, found in the last workflow, and every
    line after it was looked for past there (28 wrong lines, 27 tokens reported twice)."""
    token = "ghp_" + "Zq8vR2mN5tW1xY7kL3pB9cD4fG6hJ8sAeUiQ"
    export = []
    for number in range(30):
        headers = [("Authorization", f"token {token}")]
        if number == 0:
            headers.append(("X-Api-Key", '={{ $env["API_TOKEN"] }}'))
        nodes = [_http(headers)]
        if number == 29:
            nodes.append({"name": "Code", "parameters": {"jsCode": "const t = $env.API_TOKEN;"}})
        export.append({"name": f"wf {number}", "nodes": nodes})
    assert len(_lines_are_right(export)) == 32


def test_the_secrets_of_one_string_share_its_line_whatever_their_order() -> None:
    """A Code node's literal is reported after its token; the next node sends the same key:
    each finding on the line of the string that holds it."""
    key, slack = "Zq8vR2mN5tW1xY7kL3pB9cD4", "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOp"
    code = f'const apiKey = "{key}";\n// later\nconst slack = "{slack}";\nreturn [];'
    workflow = {
        "name": "wf",
        "nodes": [{"name": "Code", "parameters": {"jsCode": code}}, _http([("X-Api-Key", key)])],
    }
    assert len(_lines_are_right(workflow)) == 3


def test_tokens_after_many_reads_of_unwritten_values_keep_their_lines() -> None:
    """60 workflows with pinned data written before their nodes and a header reading
    `$env["SERVICE_N_API_KEY"]` (reported as `$env.SERVICE_N_API_KEY`, which the file never
    holds), a token in every fifth: each such value took a read of the file, and past the
    limit the tokens lost their lines and were reported twice, failing a baseline."""
    rnd, export = random.Random(7), []
    for number in range(60):
        rows = [{"json": {"id": row, "body": _token(rnd) * 5}} for row in range(60)]
        nodes = [_http([("Authorization", f'={{{{ $env["SERVICE_{number}_API_KEY"] }}}}')])]
        if number % 5 == 0:
            nodes.append(_http([("Authorization", f"token {_token(rnd)}")]))
        export.append({"name": f"wf {number}", "pinData": {"HTTP": rows}, "nodes": nodes})
    findings = _lines_are_right(export)
    assert sum(f.rule.id == "KT004" for f in findings) == 12


def test_lines_in_an_export_written_with_pythons_escapes() -> None:
    """Python's json writes `é` as `\\u00e9` (and PHP `/` as `\\/`): a string holding one was
    not found as keyturn writes it, its values were looked for one by one, and the first
    found in a later workflow moved every later line there (7 of 8 wrong)."""
    key, token = "Zq8vR2mN5tW1xY7kL3pB9cD4fG6hJ0sA", "ghp_" + "Aq8vR2mN5tW1xY7kL3pB9cD4fG6hJ0sA2eUj"
    code = f'// café, https://example.com\nconst apiKey = "{key}";\nconst gh = "{token}";'
    sends_key, sends_token = _http([("X-Api-Key", key)]), _http([("X", f"token {token}")])
    export = [
        {"name": "wf0", "nodes": [{"name": "C", "parameters": {"jsCode": code}}, sends_key]},
        {"name": "wf1", "nodes": [sends_key, sends_token]},
    ]
    assert len(_lines_are_right(export)) == 5
    slashed = json.dumps(export, indent=2).replace("/", "\\/").encode()
    lines = [f.location.line for f in scan_json("all.json", slashed, export)]
    assert lines == [f.location.line for f in scan_json("all.json", slashed, export)]
    assert sorted(lines) == sorted(f.location.line for f in _lines_are_right(export))


class _RecordingBytes(bytes):
    needles: list[int] = []

    def rfind(self, sub: Any, start: Any = None, end: Any = None) -> int:
        type(self).needles.append(len(sub))
        return super().rfind(sub, start, end)


def test_a_long_string_met_out_of_order_is_looked_for_only_ahead() -> None:
    """bytes.rfind takes time in the text's length times the needle's: a Code string of
    1 MB looked for behind took 34 s. A string longer than 256 bytes is not looked for
    behind (its hits' values are, from where it was)."""
    code = "a" * 100_000 + " apiKey"
    raw = _RecordingBytes(f'{{"c": "{code}",\n"d": "later"}}'.encode())
    _RecordingBytes.needles = []
    lines = LineIndex(raw)
    assert lines.line_of_value("later") == 2
    assert lines.line_of_value(code) is None
    assert all(length <= 256 for length in _RecordingBytes.needles)
