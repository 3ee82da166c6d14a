""".env values written by the env-file store read back unchanged: by keyturn's store, by the
scanner's reader, and by an independent reader (python-dotenv), whatever the secret holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.core.dotenv import assignments, unquote
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
HOSTILE += ["a'b$c", "\ta", "x" * 300]
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
    if "$" not in secret:  # python-dotenv does not undo \$; compose and keyturn do
        assert dotenv_values(stream=_stream(text))["PARTNER_API_KEY"] == secret


@settings(max_examples=200, deadline=None)
@given(secret=secrets_text, old=st.sampled_from(OLD_STYLES))
def test_any_secret_round_trips(
    tmp_path_factory: pytest.TempPathFactory, secret: str, old: str
) -> None:
    read, _ = write_and_read(tmp_path_factory.mktemp("env"), old, secret)
    assert read == secret


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
    ],
)
def test_unquote_reads_like_compose(written: str, value: str) -> None:
    assert unquote(written) == value


def _stream(text: str) -> object:
    import io

    return io.StringIO(text)
