"""n8n's formats in keyturn: round trips on any key and text; a wrong key or a damaged value
never reads (n8n's own code is compared in tests/integration/test_rekey_ciphers.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.rekey import ciphers

KEY = "d37cb5cc43ecf75cfd3d4c4ac7d2fce488feaccb1d28ac34"


@settings(max_examples=60, deadline=None)
@given(key=st.text(min_size=1, max_size=60), text=st.text(max_size=200))
def test_any_key_and_text_round_trip(key: str, text: str) -> None:
    assert ciphers.cbc_decrypt(ciphers.cbc_encrypt(text, key), key) == text
    assert ciphers.unwrap(ciphers.wrap(text, key), key) == text


def test_the_cbc_password_is_latin1_as_in_node() -> None:
    assert ciphers.key_bytes("aé€😀") == b"a\xe9\xac\x3d\x00"


@pytest.mark.parametrize("other", ["d37cb5cc43ecf75cfd3d4c4ac7d2fce488feaccb1d28ac35", "x", "é"])
def test_a_wrong_key_never_reads(other: str) -> None:
    value = ciphers.cbc_encrypt('{"a": 1}', KEY)
    with pytest.raises(ciphers.Undecryptable):
        ciphers.cbc_decrypt(value, other)
    with pytest.raises(ciphers.Undecryptable):
        ciphers.unwrap(ciphers.wrap("secret", KEY), other)


DAMAGES: list[Callable[[str], str]] = [
    lambda v: v[:-6] + "AAAA==",  # the last block
    lambda v: v[:20],  # cut short
    lambda v: v.replace("U2F", "X2F"),  # not Salted__
    lambda v: v + "!",  # not base64
]


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_value_never_reads(damage: Callable[[str], str]) -> None:
    value = ciphers.cbc_encrypt('{"a": 1}', KEY)
    with pytest.raises(ciphers.Undecryptable):
        ciphers.cbc_decrypt(damage(value), KEY)


def test_a_key_id_prefix_is_kept_apart() -> None:
    stored = ciphers.Stored.parse("gcmKey_01:QUJD")
    assert (stored.key_id, stored.ciphertext) == ("gcmKey_01", "QUJD")
    assert stored.text("REVG") == "gcmKey_01:REVG"
    assert ciphers.Stored.parse("U2FsdGVkX1+abc=").key_id == ""  # base64 has no colon
