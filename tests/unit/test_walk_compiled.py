"""The compiled walk (detect/_walk.c) against the Python one it replaces: the same findings,
in the same order, with the same pointers, on real exports, the benchmark's corpus, generated
documents and hostile ones. And the module is there, and built from the source beside it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyturn.core import jsonio
from keyturn.detect import documents
from keyturn.detect.documents import _Sink, parameter_hits, scan_json, scan_workflow, walk_data
from keyturn.detect.values import CONFIG, DATA, NODE, PAIR, Hit
from tests.helpers import json_values, needs_realworld, realworld_files

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from scan_corpus import build_corpus

SOURCE = Path(documents.__file__).with_name("_walk.c")
TOKEN = "ghp_" + "Zq4T8wL2mX9vB3nK7pR1sD5fG6hJ0yC8aE2u"  # a GitHub token's shape, made up


@pytest.fixture
def compiled() -> Any:
    module = documents._compiled
    if module is None:
        pytest.fail(
            "keyturn.detect._walk is not built: install keyturn with a C compiler "
            "(make setup-dev, or pip install -e .)"
        )
    return module


def both(run: Any) -> tuple[Any, Any]:
    """run() with the compiled walk, then with the Python one."""
    fast = run()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(documents, "_compiled", None)
        slow = run()
    return fast, slow


def test_the_compiled_walk_is_built_from_this_source(compiled: Any) -> None:
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert digest == compiled.SOURCE_DIGEST, (
        "keyturn.detect._walk was built from another _walk.c: run make setup-dev "
        "(or pip install -e .) to rebuild it"
    )


def findings_of(path: str, raw: bytes) -> Any:
    return scan_json(path, raw, jsonio.loads(raw))


@needs_realworld
def test_same_findings_on_every_real_export(compiled: Any) -> None:
    compared = 0
    for path in realworld_files():
        raw = path.read_bytes()
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # the one cut short: scanned as text, no walk
        fast, slow = both(lambda raw=raw, path=path: findings_of(str(path), raw))
        assert fast == slow, path.name
        compared += 1
    assert compared >= 390


@needs_realworld
def test_same_findings_on_the_benchmark_corpus(compiled: Any, tmp_path: Path) -> None:
    corpus = build_corpus(tmp_path / "corpus", 800_000, seed=5)
    files = sorted(path for path in corpus.root.rglob("*.json"))
    assert len(files) > 20
    total = 0
    for path in files:
        raw = path.read_bytes()
        fast, slow = both(lambda raw=raw, path=path: findings_of(str(path), raw))
        assert fast == slow, path.name
        total += len(fast)
    assert total > 50


# Generated documents: the names and strings the gate and the judge look at, in any nesting.
_KEYS = st.sampled_from(
    ["value", "name", "jsCode", "code", "headers", "parameters", "Authorization", "apiKey",
     "api_key", "token", "url", "body", "x-hub-signature", "memberId", "authentication",
     "pinData", "nodes", "staticData", "kty", "d", "clé", "键", "🔑key", "", "a/b~c"]
)  # fmt: skip
_STRINGS = st.sampled_from(
    ["q8Zr2LmX4pT7vN1kW9yB3cD6", "Bearer q8Zr2LmX4pT7vN1kW9yB3cD6", "={{ $env.API_TOKEN }}",
     "={{ $json.token }}", "={{ 1 }} and {{ 2 }}", "=Bearer {{ $json.x }} abc123def456ghi7",
     "https://user:p4ssw0rd-9f8e@api.example.com/v1", "https://api.example.com/v1?key=9f8e7d6c5b4a3f2e",
     '={"Authorization": "Bearer 9f8e7d6c5b4a3f2e1d0c"}', '{"apiKey": "9f8e7d6c5b4a3f2e1d0c"}',
     "const token = 'q8Zr2LmX4pT7vN1kW9yB3cD6';", "process.env.SECRET_KEY", TOKEN,
     f"prefix {TOKEN} suffix", "0123456789abcdef0123456789abcdef", "short", "your-api-key-here",
     "ключ-q8Zr2LmX4pT7vN1k-ключ", "鍵q8Zr2LmX4pT7vN1kW9yB3cD6", "😀env😀" * 3, "=" * 20, "{{" * 9,
     "={{}}", "={{ a }}}}", "https://x.example/a?b=c", "env", "\x00\x0b\u2028q8Zr2LmX4pT7vN1k"]
)  # fmt: skip
_VALUES = st.recursive(
    _STRINGS | st.text(max_size=40) | st.integers() | st.none(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_KEYS, children, max_size=6),
    max_leaves=40,
)
_NODE = st.fixed_dictionaries(
    {"parameters": st.dictionaries(_KEYS, _VALUES, max_size=6)},
    optional={"name": _STRINGS | st.integers()},
)
_WORKFLOW = st.fixed_dictionaries(
    {"nodes": st.lists(_NODE | _VALUES, max_size=5)},
    optional={"name": _STRINGS, "pinData": _VALUES, "staticData": _VALUES, "meta": _VALUES},
)
_TOKENS = st.sampled_from([(), ((TOKEN, "GitHub token"),), (("q8Zr2LmX4pT7vN1k", "k"),)])


def hits_of(run: Any) -> list[tuple[Hit, str | None, str | None, str | None]]:
    found: list[tuple[Hit, str | None, str | None, str | None]] = []

    def emit(hit: Hit, pointer: str | None, workflow: str | None, node: str | None) -> None:
        found.append((hit, pointer, workflow, node))

    run(emit)
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow=_WORKFLOW, tokens=_TOKENS)
def test_same_hits_on_generated_workflows(workflow: dict[str, Any], tokens: Any) -> None:
    assert documents._compiled is not None
    fast, slow = both(lambda: hits_of(lambda emit: scan_workflow(workflow, "/3", emit, tokens)))
    assert fast == slow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_VALUES | json_values, where=st.sampled_from([NODE, PAIR, DATA, CONFIG]))
def test_same_hits_on_generated_data(value: Any, where: str) -> None:
    assert documents._compiled is not None

    def run(emit: Any) -> None:
        walk_data(value, [""], "ctx", _Sink(emit, "w", None, [(TOKEN, "t")]), where)

    fast, slow = both(lambda: hits_of(run))
    assert fast == slow


@settings(max_examples=200, deadline=None)
@given(parameters=st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_same_hits_in_one_nodes_parameters(parameters: dict[str, Any]) -> None:
    assert documents._compiled is not None
    fast, slow = both(lambda: parameter_hits(parameters, "/parameters"))
    assert fast == slow


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = {"headers": [value]} if level % 2 else {"Authorization": value, "x": [1]}
    return value


@pytest.mark.parametrize("depth", [150, 199, 200, 201, 450])
def test_same_hits_below_the_walk_depth(compiled: Any, depth: int) -> None:
    secret = "Bearer q8Zr2LmX4pT7vN1kW9yB3cD6"
    document = {"nodes": [{"name": "n", "parameters": nested(depth, secret)}],
                "pinData": nested(depth, {"token": secret})}  # fmt: skip
    fast, slow = both(lambda: hits_of(lambda emit: scan_workflow(document, "", emit, ())))
    assert fast == slow and len(fast) == 2
    # JSON in a parameter (walked as request pairs) and config files, as deep.
    body = "=" + json.dumps(nested(depth, {"token": secret}))
    document = {"nodes": [{"name": "n", "parameters": {"jsonBody": body}}]}
    fast, slow = both(lambda: hits_of(lambda emit: scan_workflow(document, "", emit, ())))
    assert fast == slow and len(fast) == 1
    for where in (CONFIG, PAIR, NODE):
        value = nested(depth, {"token": secret})
        fast, slow = both(
            lambda where=where, value=value: hits_of(
                lambda emit: walk_data(value, [""], "", _Sink(emit, None, None, ()), where)
            )
        )
        assert fast == slow and len(fast) == 1


def test_an_error_in_a_callback_comes_out_unchanged(compiled: Any) -> None:
    document = {"nodes": [{"parameters": {"apiKey": "q8Zr2LmX4pT7vN1kW9yB3cD6"}}]}

    def emit(*_: Any) -> None:
        raise KeyError("from the judge")

    with pytest.raises(KeyError, match="from the judge"):
        scan_workflow(document, "", emit, ())


def test_bad_arguments_are_type_errors_not_crashes(compiled: Any) -> None:
    with pytest.raises(TypeError):
        compiled.walk_nodes({}, "", [], (), print, print)
    with pytest.raises(TypeError):
        compiled.walk_data([], [], "", DATA, True, [("t", "k")], print, print)
    with pytest.raises(TypeError, match="pairs"):
        compiled.walk_data(["q8Zr2LmX4pT7vN1kW9yB3cD6"], [], "", DATA, True, ("t",), print, print)


def _many_strings() -> Iterator[str]:
    for index in range(5000):
        yield f"value-{index:05d}-abcdefgh"


def test_a_list_longer_than_the_cached_indexes(compiled: Any) -> None:
    secret = "q8Zr2LmX4pT7vN1kW9yB3cD6"
    document = {"nodes": [{"parameters": {"apiKey": [*_many_strings(), secret]}}]}
    fast, slow = both(lambda: hits_of(lambda emit: scan_workflow(document, "", emit, ())))
    assert fast == slow
    assert [pointer for _, pointer, _, _ in fast][-1] == "/nodes/0/parameters/apiKey/5000"


class _OtherBuild:
    """A module built from another _walk.c: another ABI, or another configure()."""

    def __init__(self, abi: int, configure: Any = None) -> None:
        self.ABI = abi
        if configure is not None:
            self.configure = configure


def test_a_walk_built_from_another_source_is_left_unused(compiled: Any) -> None:
    assert documents.configured_walk(compiled) is compiled
    assert documents.configured_walk(_OtherBuild(documents.WALK_ABI + 1)) is None

    def old_configure(*_: Any) -> None:
        raise TypeError("configure() takes 7 arguments")

    assert documents.configured_walk(_OtherBuild(documents.WALK_ABI, old_configure)) is None
    assert documents.configured_walk(object()) is None  # no ABI at all


def test_without_the_module_the_scan_is_the_same(tmp_path: Path) -> None:
    """An install without a compiler: keyturn imports, and the scan finds the same."""
    export = tmp_path / "export.json"
    secret = "q8Zr2LmX4pT7vN1kW9yB3cD6"
    nodes = [
        {
            "name": "Call",
            "parameters": {
                "headerParameters": {"parameters": [{"name": "X-API-Key", "value": secret}]},
                "url": f"https://u:{secret}@x.example/",
            },
        }
    ]
    export.write_text(json.dumps({"name": "W", "nodes": nodes, "pinData": {"token": secret}}))
    script = (
        "import sys\n"
        "if sys.argv[1] == 'without': sys.modules['keyturn.detect._walk'] = None\n"
        "import keyturn.detect.documents as d\n"
        "print(d._compiled is None)\n"
        "from keyturn.cli import main\n"
        "sys.argv = ['keyturn', 'scan', sys.argv[2], '--format', 'json']\n"
        "main()\n"
    )  # fmt: skip
    reports = {}
    for mode in ("with", "without"):
        done = subprocess.run(
            [sys.executable, "-c", script, mode, str(export)], capture_output=True, text=True
        )
        assert done.returncode == 1, done.stderr  # findings
        python_walk, report = done.stdout.split("\n", 1)
        assert python_walk == str(mode == "without")
        reports[mode] = json.loads(report)["findings"]
    assert reports["with"] == reports["without"] and len(reports["with"]) == 3
