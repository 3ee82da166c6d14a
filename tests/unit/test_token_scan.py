"""Finding known tokens in files (detect/token_scan.py): every vendor format is found under its
own name by every prefilter (Hyperscan, re2's keyword set, keywords one by one), which agree
on everything; the fast scan without the opening word boundary gives exactly what the pattern
gives; the compiled database's cache survives corruption, an unwritable folder and a change of
the formats."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.detect import token_scan
from keyturn.detect.token_formats import TOKEN_FORMATS
from keyturn.detect.token_scan import SHAPES, Shape, find_tokens
from tests.helpers import realworld_files

try:
    import hyperscan
except ImportError:  # Linux on ARM: the re2 prefilter alone is tested
    hyperscan = None
needs_hyperscan = pytest.mark.skipif(hyperscan is None, reason="hyperscan is not installed")
ENGINES = ["re2", "keywords"] if hyperscan is None else ["hyperscan", "re2", "keywords"]
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


def test_every_shape_has_lowercase_keywords_and_each_example_holds_one() -> None:
    examples = {fmt.name: fmt.example for fmt in TOKEN_FORMATS}
    for shape in SHAPES:
        assert shape.keywords, shape.name
        assert all(word == word.lower() for word in shape.keywords), shape.name
        if shape.name in examples:
            assert any(word in examples[shape.name].lower() for word in shape.keywords)


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


@needs_hyperscan
def test_both_prefilters_find_the_same_tokens() -> None:
    document = mixed_document()
    by_hyperscan = find_tokens(document, engine="hyperscan")
    assert len(by_hyperscan) > len(TOKEN_FORMATS) // 2
    assert by_hyperscan == find_tokens(document, engine="re2")
    assert by_hyperscan == find_tokens(document, engine="keywords")


@needs_hyperscan
def test_both_prefilters_agree_on_all_real_workflows() -> None:
    files = realworld_files()
    assert len(files) >= 390
    for path in files:
        raw = path.read_bytes()
        by_hyperscan = find_tokens(raw, engine="hyperscan")
        assert by_hyperscan == find_tokens(raw, engine="re2"), path
        assert by_hyperscan == find_tokens(raw, engine="keywords"), path


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
    assert find_tokens(glued_then_apart, engine="re2")  # (the loop below covers every engine)
    for engine in ENGINES:
        assert find_tokens(glued_then_apart, engine=engine) == [
            (42, token, "GitHub personal access token (classic)")
        ]


def fresh_prefilter(cache: Path, monkeypatch: pytest.MonkeyPatch) -> token_scan.Prefilter:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return token_scan._HyperscanPrefilter()


@needs_hyperscan
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


@needs_hyperscan
def test_a_corrupt_cache_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = fresh_prefilter(tmp_path, monkeypatch)
    (cached,) = (tmp_path / "keyturn").glob("token-formats-*.hsdb")
    good = cached.read_bytes()
    cached.write_bytes(good[: len(good) // 2])
    prefilter = fresh_prefilter(tmp_path, monkeypatch)
    assert set(prefilter(mixed_document())) == set(first(mixed_document()))
    assert len(cached.read_bytes()) == len(good)  # compiled and written whole again


@needs_hyperscan
def test_an_unwritable_cache_folder_costs_time_not_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "keyturn").write_text("a file where the folder would be")
    prefilter = fresh_prefilter(tmp_path, monkeypatch)
    assert prefilter(mixed_document())


@needs_hyperscan
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


GHP = "ghp_" + "Qm7Vx2Lp9Rt4Wz8Kc3Nb6Hy1Jd5Fg0As2Ek7"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "prefix",
    ["abc8Q~...-", "Zm9v8Q~xxxx-", "sk-xxxx-", "abc8Q~" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW" + "-"],
)
def test_a_match_that_touches_a_token_does_not_hide_it(engine: str, prefix: str) -> None:
    """Whatever a placeholder or another format's match glued before it, the token is found."""
    found = find_tokens(f"B={prefix}{GHP}\n".encode(), engine=engine, keep=_not_placeholder)
    assert GHP in {token for _, token, _ in found}


def _not_placeholder(token: str, kind: str) -> bool:
    from keyturn.detect.values import is_placeholder

    return kind == token_scan.PRIVATE_KEY_KIND or not is_placeholder(token)


def test_an_unterminated_block_does_not_swallow_the_next_one() -> None:
    body = "MIIEowIBAAKCAQEA1x" + "Qk9Xr2LmX4pT7vN1kW9yB3cD6fG8hJ0" * 4
    real = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    text = "-----BEGIN PRIVATE KEY-----\n(your key here)\n\n" + real
    ((offset, block, kind),) = find_tokens(text.encode())
    assert block == real.strip() and kind == "private key"
    assert text[offset:].startswith(real)


def _cache_file(cache: Path) -> Path:
    (cached,) = (cache / "keyturn").glob("token-formats-*.hsdb")
    return cached


@needs_hyperscan
def test_a_database_of_other_patterns_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_prefilter(tmp_path, monkeypatch)
    cached = _cache_file(tmp_path)
    other = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    other.compile(expressions=[b"nothing-to-see"], ids=[0], elements=1, flags=[0])
    cached.write_bytes(hyperscan.dumpb(other))
    assert set(fresh_prefilter(tmp_path, monkeypatch)(GHP.encode()))  # compiled again: found
    stream = hyperscan.Database(mode=hyperscan.HS_MODE_STREAM)
    stream.compile(expressions=[b"ghp_"], ids=[0], elements=1, flags=[0])
    cached.write_bytes(hyperscan.dumpb(stream))
    assert set(fresh_prefilter(tmp_path, monkeypatch)(GHP.encode()))


@needs_hyperscan
def test_a_cache_writable_by_others_or_a_symlink_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_prefilter(tmp_path, monkeypatch)
    cached = _cache_file(tmp_path)
    assert cached.stat().st_mode & 0o022 == 0
    good = cached.read_bytes()
    cached.chmod(0o666)
    assert token_scan._cached_database(hyperscan, cached) is None
    cached.unlink()
    elsewhere = tmp_path / "elsewhere.hsdb"
    elsewhere.write_bytes(good)
    cached.symlink_to(elsewhere)
    assert token_scan._cached_database(hyperscan, cached) is None
    cached.unlink()
    os.mkfifo(cached)  # a FIFO would block a plain read
    assert token_scan._cached_database(hyperscan, cached) is None


@needs_hyperscan
def test_no_home_or_a_relative_cache_folder_compiles_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.delenv("HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    prefilter = token_scan._HyperscanPrefilter()
    assert set(prefilter(GHP.encode()))
    assert list(tmp_path.rglob("*")) == []  # nothing written under the working folder


@needs_hyperscan
def test_a_hyperscan_failure_falls_back_to_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(hyperscan_module: object) -> object:
        raise hyperscan.ArchitectureError("no SSSE3")

    monkeypatch.setattr(token_scan, "_load_or_compile_database", broken)
    token_scan._prefilter.cache_clear()
    try:
        assert isinstance(token_scan._prefilter(None), token_scan._Re2Prefilter)
        assert find_tokens(GHP.encode()) == [(0, GHP, "GitHub personal access token (classic)")]
    finally:
        token_scan._prefilter.cache_clear()


# Constructs whose meaning differs between Hyperscan (bytes; \s holds \v) and re2 (UTF-8
# characters; \s without \v): with them, one engine could find a token the other does not.
# Also case-insensitivity: re2 folds the Kelvin sign into k and the long s into s.
ENGINE_DEPENDENT = re.compile(r"\[\^|\\[sSWD]|(?<!\\)\.(?![^\[]*\])|\(\?[a-z]*i")


def test_no_format_uses_a_construct_the_engines_read_differently() -> None:
    assert [s.name for s in SHAPES if ENGINE_DEPENDENT.search(s.pattern)] == []


def test_every_engine_reads_an_odd_character_inside_a_token_alike() -> None:
    """\\v or a character of two or four bytes, put inside every format's example at every
    fourth position: each engine finds the same tokens."""
    for fmt in EXACT:
        for at in range(0, len(fmt.example) + 1, 4):
            for odd in ("\x0b", "é", "😀"):
                text = f"x = {fmt.example[:at]}{odd}{fmt.example[at:]};".encode()
                found = [find_tokens(text, engine=engine) for engine in ENGINES]
                assert all(tokens == found[0] for tokens in found), (fmt.name, at, odd)


def test_the_keywords_serve_only_a_small_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 64 KiB searched, the keywords (ten times slower per byte) give way to the real
    prefilter, which then serves every text, large or small."""
    monkeypatch.setattr(token_scan, "_searched", 0)
    token_scan._prefilter.cache_clear()
    monkeypatch.setattr(token_scan, "_prefilter", token_scan._prefilter)
    keywords = token_scan._keyword_prefilter()
    assert token_scan._prefilter_for(b"x" * 1000, None) is keywords
    assert token_scan._prefilter_for(b"x" * token_scan.SMALL_TEXT_BYTES, None) is not keywords
    assert token_scan._prefilter_for(b"x", None) is not keywords


MARKED = (
    b'{"kty": "RSA", "note": "caf\\u00e9", "url": "https:\\/\\/example.com"}\n'
    b"-----BEGIN PRIVATE KEY-----\n"
)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("count", range(len(token_scan.MARKERS) + 1))
def test_every_engine_reports_exactly_the_markers_a_text_holds(engine: str, count: int) -> None:
    """The markers decide whether the private key, JSON Web Key and escape searches run: each
    engine reports those the bytes hold, and not their other cases (`KTY`, `private key`)."""
    held = token_scan.MARKERS[:count]
    lookalikes = b"KTY Kty private key Private Key \\U00e9 /\\ \\\\u0 u00 \\"
    raw = lookalikes + b" ".join(held)
    assert token_scan.scan_raw(raw, engine=engine).markers == frozenset(held)
    assert token_scan.scan_raw(MARKED, engine=engine).markers == frozenset(token_scan.MARKERS)


@needs_hyperscan
def test_a_cached_database_without_the_markers_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the markers (the same formats, no markers) finds every token but
    would report no private key block: it is not trusted."""
    fresh_prefilter(tmp_path, monkeypatch)
    cached = _cache_file(tmp_path)
    older = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    older.compile(
        expressions=[shape.pattern.encode() for shape in SHAPES],
        ids=list(range(len(SHAPES))),
        elements=len(SHAPES),
        flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(SHAPES),
    )
    cached.write_bytes(hyperscan.dumpb(older))
    assert token_scan._cached_database(hyperscan, cached) is None
    prefilter = fresh_prefilter(tmp_path, monkeypatch)
    assert set(prefilter(MARKED)) >= set(token_scan._MARKER_RANKS)
