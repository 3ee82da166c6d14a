""".env values written by the env-file store read back unchanged: by keyturn's store, by the
scanner's reader, and by an independent reader (python-dotenv), whatever the secret holds."""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.core import dotenv
from keyturn.core.dotenv import assignments, unquote
from keyturn.core.errors import StoreError
from keyturn.locations import local
from keyturn.locations.local import EnvFileStore

HOSTILE = [
    'a"b',
    "a'b",
    "a\\b",
    "a\\nb",
    "a\nb",
    "a\rb",
    "a b",
    "a#b",
    " a ",
    "a$b",
    "${HOME}",
    "é€",
]
HOSTILE += ["\ta", "x" * 300, "a#b c", "a'b\"c", "a\\'b", "a$b#c", "$HOME", "a\\", "a'"]
# A `$` where only double quotes can hold the rest: docker compose expands `$` in double quotes
# unless it is written `\$`, which python-dotenv keeps as is; no quoting satisfies both.
NO_COMMON_QUOTING = ["a'b$c", "a\\b$c", "a\nb$c"]
OLD_STYLES = ["plain-old-value", "'old value'", '"old value"']
secrets_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


def write_and_read(tmp_path: Path, old: str, secret: str, crlf: bool = False) -> tuple[str, str]:
    newline = "\r\n" if crlf else "\n"
    env_file = tmp_path / ".env"
    env_file.write_bytes(
        newline.join(
            ["# deploy", f"export PARTNER_API_KEY={old}  # rotated", "OTHER=x", ""]
        ).encode()
    )
    store = EnvFileStore(env_file, "PARTNER_API_KEY")
    store.write(secret)
    read = store.read_current()
    assert read is not None
    return read, env_file.read_bytes().decode()


@pytest.mark.parametrize("old", OLD_STYLES)
@pytest.mark.parametrize("secret", HOSTILE)
def test_hostile_secrets_round_trip(tmp_path: Path, old: str, secret: str) -> None:
    read, text = write_and_read(tmp_path, old, secret)
    assert read == secret
    assert text.startswith("# deploy\nexport PARTNER_API_KEY=")
    assert text.endswith("  # rotated\nOTHER=x\n")  # comment and the rest kept
    (found,) = [a for a in assignments(text) if a.name == "PARTNER_API_KEY"]
    assert found.value == secret
    assert read_by_python_dotenv(text)["PARTNER_API_KEY"] == secret


def read_by_python_dotenv(text: str) -> dict[str, str | None]:
    # python-dotenv expands `${VAR}` even in single quotes and has no way to escape it: the
    # value as written is what keyturn guarantees.
    return dotenv_values(stream=io.StringIO(text), interpolate=False)


@pytest.mark.parametrize("secret", NO_COMMON_QUOTING)
def test_a_secret_no_quoting_can_hold_is_refused_and_nothing_changes(
    tmp_path: Path, secret: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KEY='old'\n")
    with pytest.raises(StoreError) as info:
        EnvFileStore(env_file, "KEY").write(secret)
    assert secret not in str(info.value) and "\n" not in str(info.value)
    assert env_file.read_text() == "KEY='old'\n"


@settings(max_examples=300, deadline=None)
@given(secret=secrets_text, old=st.sampled_from(OLD_STYLES))
def test_any_secret_round_trips(
    tmp_path_factory: pytest.TempPathFactory, secret: str, old: str
) -> None:
    folder = tmp_path_factory.mktemp("env")
    try:
        read, text = write_and_read(folder, old, secret)
    except StoreError:
        assert "$" in secret  # only a `$` that needs double quotes is refused
        return
    assert read == secret
    assert read_by_python_dotenv(text)["PARTNER_API_KEY"] == secret
    assert read_by_python_dotenv(text)["OTHER"] == "x"


@pytest.mark.parametrize("secret", ["new-value", 'a"b', "a'b", "a$b", "a#b", "a b"])
def test_the_last_of_two_assignments_is_read_and_written(tmp_path: Path, secret: str) -> None:
    env_file = tmp_path / ".env"
    before = "KEY=first\nOTHER=x\nexport KEY='second'  # wins\nTAIL=y\n"
    env_file.write_text(before)
    store = EnvFileStore(env_file, "KEY")
    assert store.read_current() == "second" == read_by_python_dotenv(before)["KEY"]
    store.write(secret)
    text = env_file.read_text()
    assert text.startswith("KEY=first\nOTHER=x\nexport KEY=")
    assert text.endswith("  # wins\nTAIL=y\n")
    assert read_by_python_dotenv(text) == {"KEY": secret, "OTHER": "x", "TAIL": "y"}
    assert store.read_current() == secret


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("export KEY=abc", "abc"),
        ("KEY = abc # note", "abc"),
        ("KEY=abc#def", "abc#def"),  # a `#` without a space before it is part of the value
        ('KEY="a\\"b" # note', 'a"b'),
        ("KEY='a\\'b'", "a'b"),
        ('KEY="two\nlines"', "two\nlines"),  # a quoted value may span lines
        ("KEY=", ""),
    ],
)
def test_values_are_read_as_python_dotenv_reads_them(tmp_path: Path, line: str, value: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"A=1\n{line}\nB=2\n")
    assert read_by_python_dotenv(env_file.read_text())["KEY"] == value
    store = EnvFileStore(env_file, "KEY")
    assert store.read_current() == (value or None)
    store.write("new'value")
    assert read_by_python_dotenv(env_file.read_text()) == {"A": "1", "KEY": "new'value", "B": "2"}


def test_crlf_files_keep_their_line_ends(tmp_path: Path) -> None:
    read, text = write_and_read(tmp_path, "old", "new-value-123", crlf=True)
    assert read == "new-value-123"
    assert text == "# deploy\r\nexport PARTNER_API_KEY=new-value-123  # rotated\r\nOTHER=x\r\n"


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ('"a\\tb"', "a\tb"),
        ('"ab\\cd"', "ab\\cd"),  # an escape compose does not know is kept
        ('"a\\"b"', 'a"b'),
        ("'a\\nb'", "a\\nb"),  # nothing is undone in single quotes
        ("abc # comment", "abc"),
        ('"abc" # comment', "abc"),
        ('"a\\\\" # "b"', "a\\"),  # an escaped backslash does not escape the closing quote
        ('"never closed \\"', 'never closed "'),  # read to the end, as before
        ('"ends in a backslash \\', "ends in a backslash \\"),
        (
            '"' + "-----BEGIN PRIVATE KEY-----\\n" + "QUJD" * 400 + '"',
            "-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 400,
        ),
    ],
)
def test_unquote_reads_like_compose(written: str, value: str) -> None:
    assert unquote(written) == value


WRITER = """
import sys
from pathlib import Path
from keyturn.locations.local import EnvFileStore
print("editing", flush=True)
EnvFileStore(Path(sys.argv[1]), "B_KEY").write("from-the-other-process")
"""


def test_two_processes_editing_one_file_lose_no_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process reads the file, then, before it writes, another keyturn process edits
    another variable of the same file: without a lock one of the two changes is lost."""
    env_file = tmp_path / ".env"
    env_file.write_text("A_KEY=a-old\nB_KEY=b-old\n")
    real_write = local.write_atomically
    others: list[subprocess.Popen[str]] = []
    waited: list[bool] = []

    def write_while_another_process_edits(path: Path, content: str) -> None:
        other = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(env_file)], stdout=subprocess.PIPE, text=True
        )
        others.append(other)
        assert other.stdout is not None and other.stdout.readline() == "editing\n"
        try:  # it finishes at once without a lock; with one, it waits for this write
            other.wait(timeout=3)
        except subprocess.TimeoutExpired:
            waited.append(True)
        real_write(path, content)

    monkeypatch.setattr(local, "write_atomically", write_while_another_process_edits)
    EnvFileStore(env_file, "A_KEY").write("from-this-process")
    monkeypatch.undo()
    assert others[0].wait(timeout=30) == 0
    assert read_by_python_dotenv(env_file.read_text()) == {
        "A_KEY": "from-this-process",
        "B_KEY": "from-the-other-process",
    }
    assert waited == [True]  # the other process waited for the lock


def test_a_run_of_escapes_is_read_without_memory_for_each() -> None:
    """A hostile .env value: two million backslashes and no closing quote. Read in constant
    memory (a regex that kept its backtracking state took 120 MB here, 3.7 GB for a 64 MB
    file, in each worker of a scan)."""
    written = '"' + "\\" * 2_000_000
    closed, escaped = written + '"', written + '\\"'  # pairs: it closes; one more: escaped
    tracemalloc.start()
    try:
        assert dotenv._closing_double_quote(written) == -1
        assert dotenv._closing_double_quote(closed) == len(written)
        assert dotenv._closing_double_quote(escaped) == -1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


@pytest.mark.timeout(30)
def test_a_long_run_of_blanks_inside_a_line_is_read_at_once() -> None:
    """200,000 blanks inside a value: read in milliseconds (a lazy group before the trailing
    blanks took time in their square: 3 s for 20,000, five minutes for these)."""
    blanks = " " * 200_000
    found = list(assignments(f"K=a{blanks}x \t\r\nOTHER=1\n"))
    assert [(a.name, a.value) for a in found] == [("K", f"a{blanks}x"), ("OTHER", "1")]
