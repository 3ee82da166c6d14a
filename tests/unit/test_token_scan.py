"""Finding known tokens in files (detect/token_scan.py): every vendor format is found under its
own name by both prefilters (Hyperscan and re2), which agree on everything; the fast scan
without the opening word boundary gives exactly what the pattern gives; the compiled database's
cache survives corruption, an unwritable folder and a change of the formats."""

from __future__ import annotations

import importlib.util
import json
import random
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.detect import token_scan
from keyturn.detect.token_formats import TOKEN_FORMATS
from keyturn.detect.token_scan import SHAPES, Shape, find_tokens
from tests.helpers import realworld_files

hyperscan = pytest.importorskip("hyperscan")
ENGINES = ["hyperscan", "re2"]
EXACT = [fmt for fmt in TOKEN_FORMATS if fmt.distinctive or fmt.name == "JSON Web Token"]


def kinds(text: str, engine: str) -> list[tuple[str, str]]:
    return [(token, kind) for _, token, kind in find_tokens(text.encode(), engine=engine)]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_format_is_found_under_its_own_name(engine: str) -> None:
    misnamed = []
    for fmt in EXACT:
        document = json.dumps({"name": "Authorization", "value": f"Bearer {fmt.example}"})
        found = kinds(document, engine)
        names = {kind for _, kind in found}
        if fmt.name not in names:
            misnamed.append((fmt.name, sorted(names)))
    assert misnamed == []


@pytest.mark.parametrize("engine", ENGINES)
def test_overlapping_formats_are_reported_once(engine: str) -> None:
    devops = next(fmt for fmt in TOKEN_FORMATS if fmt.name.startswith("Azure DevOps"))
    chat = next(fmt for fmt in TOKEN_FORMATS if fmt.name == "Google Chat webhook URL")
    assert [kind for _, kind in kinds(f"pat={devops.example};", engine)] == [devops.name]
    assert [kind for _, kind in kinds(f"url: {chat.example}\n", engine)] == [chat.name]


@pytest.mark.parametrize("engine", ENGINES)
def test_wider_shapes_catch_what_the_vendor_formats_do_not(engine: str) -> None:
    rng = random.Random(5)
    alnum = string.ascii_letters + string.digits
    made_up = "sk-proj-" + "".join(rng.choice(alnum) for _ in range(48))  # no T3BlbkFJ marker
    key_id = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "0189") for _ in range(16))
    assert kinds(f"x = '{made_up}'", engine) == [(made_up, "OpenAI/Anthropic key")]
    assert kinds(f"id={key_id}\n", engine) == [(key_id, "AWS access key id")]
    exact = next(fmt for fmt in TOKEN_FORMATS if fmt.name == "OpenAI project API key")
    assert kinds(f"x = '{exact.example}'", engine) == [(exact.example, exact.name)]


def test_formats_that_need_their_place_are_not_scanned_for() -> None:
    """`live_` + 30 characters or `secret_` + 43 are also ids: only their place (an
    authentication parameter) makes them secrets, and the place rules judge that."""
    names = {shape.name for shape in SHAPES}
    for fmt in TOKEN_FORMATS:
        if not fmt.distinctive and fmt.name != "JSON Web Token":
            assert fmt.name not in names
            assert find_tokens(f'"id": "{fmt.example}"'.encode()) == []


def test_every_shape_has_keywords_found_in_its_matches() -> None:
    for shape in SHAPES:
        assert shape.keywords, shape.name
        assert all(word == word.lower() for word in shape.keywords), shape.name


def mixed_document() -> bytes:
    """Every example among JSON, URLs and prose, with near misses around them."""
    rng = random.Random(11)
    parts = []
    for fmt in TOKEN_FORMATS:
        noise = "".join(
            rng.choice(string.ascii_letters + "_-/+=") for _ in range(rng.randint(0, 9))
        )
        parts.append(rng.choice(["{e}", '"{e}"', "Bearer {e}", "?key={e}&x=1", "x{e}", "{e}z"]))
        parts[-1] = noise + parts[-1].format(e=fmt.example)
    return "\n".join(parts).encode()


def test_both_prefilters_find_the_same_tokens() -> None:
    document = mixed_document()
    by_hyperscan = find_tokens(document, engine="hyperscan")
    assert len(by_hyperscan) > len(TOKEN_FORMATS) // 2
    assert by_hyperscan == find_tokens(document, engine="re2")


def test_both_prefilters_agree_on_all_real_workflows() -> None:
    files = realworld_files()
    assert len(files) >= 390
    for path in files:
        raw = path.read_bytes()
        assert find_tokens(raw, engine="hyperscan") == find_tokens(raw, engine="re2"), path


FRAGMENTS = ["ghp_", "sk-", "sk-proj-", "AKIA", "xoxb-", "glpat-", "key-", "hf_", "_", "-", ".",
             "/", "+", "=", " ", "\n", '"', "x", "Z9", "0123456789", "abcdef0123456789abcdef",
             "ABCDEFGHIJKLMNOP", "T3BlbkFJ", "aZ09aZ09aZ09aZ09aZ09aZ09aZ09aZ09aZ09"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40), st.sampled_from(SHAPES))
def test_scanning_without_the_word_boundary_gives_what_the_pattern_gives(
    pieces: list[str], shape: Shape
) -> None:
    fmt = next((fmt for fmt in TOKEN_FORMATS if fmt.name == shape.name), None)
    if fmt is not None:  # the shape's own example among the pieces, glued or apart
        pieces = [*pieces[: len(pieces) // 2], fmt.example, *pieces[len(pieces) // 2 :]]
    raw = "".join(pieces).encode()
    expected = [(match.start(), match.end()) for match in shape.regex.finditer(raw)]
    assert list(shape.finditer(raw)) == expected


def test_a_token_glued_to_a_word_is_not_one_but_the_next_is() -> None:
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    assert find_tokens(f"x{token}".encode()) == []
    glued_then_apart = f"x{token}-{token}".encode()
    for engine in ENGINES:
        assert find_tokens(glued_then_apart, engine=engine) == [
            (42, token, "GitHub personal access token (classic)")
        ]


def fresh_prefilter(cache: Path, monkeypatch: pytest.MonkeyPatch) -> token_scan.Prefilter:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return token_scan._HyperscanPrefilter()


def test_the_compiled_database_is_cached_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fresh_prefilter(tmp_path, monkeypatch)
    (cached,) = (tmp_path / "keyturn").glob("token-formats-*.hsdb")
    stamp = cached.stat().st_mtime_ns
    second = fresh_prefilter(tmp_path, monkeypatch)
    assert cached.stat().st_mtime_ns == stamp  # loaded, not compiled again
    document = mixed_document()
    assert set(first(document)) == set(second(document)) != set()


def test_a_corrupt_cache_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = fresh_prefilter(tmp_path, monkeypatch)
    (cached,) = (tmp_path / "keyturn").glob("token-formats-*.hsdb")
    good = cached.read_bytes()
    cached.write_bytes(good[: len(good) // 2])
    prefilter = fresh_prefilter(tmp_path, monkeypatch)
    assert set(prefilter(mixed_document())) == set(first(mixed_document()))
    assert len(cached.read_bytes()) == len(good)  # compiled and written whole again


def test_an_unwritable_cache_folder_costs_time_not_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "keyturn").write_text("a file where the folder would be")
    prefilter = fresh_prefilter(tmp_path, monkeypatch)
    assert prefilter(mixed_document())


def test_another_set_of_formats_gets_its_own_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    before = token_scan._database_cache_path(hyperscan)
    monkeypatch.setattr(token_scan, "SHAPES", SHAPES[1:])
    assert token_scan._database_cache_path(hyperscan) != before


def test_the_formats_page_is_current() -> None:
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("gen", root / "scripts/gen_token_formats_doc.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    page = (root / "docs" / "token-formats.md").read_text(encoding="utf-8")
    assert page == generator.render(), "run python scripts/gen_token_formats_doc.py"
