"""Several secret fields rotated as one value: packing, the options that name them, and
what a rollback may put back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyturn.core.errors import ConfigError, KeyturnError, StrategyError
from keyturn.core.redact import redact
from keyturn.journal.models import Rotation
from keyturn.rotation.bundle import PREFIX, pack, unpack, values_of
from keyturn.rotation.planning import split_sources
from keyturn.rotation.strategies import known_previous, rotated_fields, secret_data

FIELD_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


def test_a_single_field_stays_its_plain_value() -> None:
    assert pack({"apiKey": "k+/=&%1"}, "apiKey") == "k+/=&%1"  # its fingerprint is its own
    assert unpack("k+/=&%1", "apiKey") == {"apiKey": "k+/=&%1"}


@given(st.dictionaries(FIELD_NAMES, st.text(min_size=1), min_size=2, max_size=4))
def test_several_fields_round_trip(values: dict[str, str]) -> None:
    main = sorted(values)[0]
    packed = pack(values, main)
    assert packed.startswith(PREFIX)
    assert unpack(packed, main) == values
    assert sorted(values_of(packed, main)) == sorted(values.values())


def test_each_packed_value_is_hidden_in_output_even_when_json_escapes_it() -> None:
    packed = pack(
        {"apiKey": 'dd-api"quoted\\slash-0001', "appKey": "dd-app-é-secret-0002"}, "apiKey"
    )
    unpack(packed, "apiKey")
    text = redact('api dd-api"quoted\\slash-0001 app dd-app-é-secret-0002')
    assert "dd-api" not in text and "dd-app" not in text


@pytest.mark.parametrize("damaged", [PREFIX + "{not json", PREFIX + '{"a": 1}', PREFIX + "[]"])
def test_a_damaged_bundle_is_an_error_not_a_plain_value(damaged: str) -> None:
    with pytest.raises(KeyturnError, match="damaged"):
        unpack(damaged, "apiKey")


def test_split_sources_takes_one_plain_item_and_named_ones() -> None:
    assert split_sources(["apiKey", "appKey=file:/run/app key=1"], "--field") == (
        "apiKey",
        {"appKey": "file:/run/app key=1"},
    )
    # A SOURCE with "=" in it is not mistaken for NAME=SOURCE.
    assert split_sources(["file:/tmp/a=b"], "--current-secret") == ("file:/tmp/a=b", {})
    assert split_sources(["env-file:/x/.env#K"], "--current-secret") == ("env-file:/x/.env#K", {})
    assert split_sources([], "--field") == (None, {})


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["apiKey", "appKey"], "2 times without a field name"),
        (["a=env:X", "a=env:Y"], "given twice"),
    ],
)
def test_split_sources_refuses_ambiguity(items: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        split_sources(items, "--field")


def rotation(plan: dict[str, Any]) -> Rotation:
    return Rotation(
        id="r1", credential_id="c1", credential_name="Datadog", field="apiKey", plan=plan
    )


def test_secret_data_writes_every_rotated_field_and_the_key_id() -> None:
    rot = rotation({"extra_secrets": {"appKey": "env:APP"}, "key_id_field": "keyId"})
    packed = pack({"apiKey": "new-api", "appKey": "new-app"}, "apiKey")
    assert rotated_fields(rot) == ["apiKey", "appKey"]
    assert secret_data(rot, packed, "kid") == {
        "apiKey": "new-api",
        "appKey": "new-app",
        "keyId": "kid",
    }


def test_a_rollback_puts_back_exactly_the_rotated_fields() -> None:
    rot = rotation({"extra_secrets": {"appKey": "env:APP"}})
    known = pack({"apiKey": "old-api", "appKey": "old-app", "other": "x-unrelated"}, "apiKey")
    restored = unpack(known_previous(rot, known), "apiKey")
    assert restored == {"apiKey": "old-api", "appKey": "old-app"}


@pytest.mark.parametrize("previous", [None, "old-api-only"])
def test_a_rollback_that_cannot_restore_every_field_refuses_instead_of_half_restoring(
    previous: str | None,
) -> None:
    rot = rotation({"extra_secrets": {"appKey": "env:APP"}})
    with pytest.raises(StrategyError, match="appKey"):
        known_previous(rot, previous)


def test_a_value_that_looks_like_a_bundle_is_refused_not_unpacked() -> None:
    """A provider's answer or a file crafted as a bundle would otherwise set fields of its
    own choosing (a base URL) in the credential."""
    crafted = PREFIX + '{"apiKey": "sk-real", "url": "https://attacker.example/v1"}'
    with pytest.raises(ConfigError, match="reserves"):
        pack({"apiKey": crafted}, "apiKey")
    with pytest.raises(ConfigError, match="reserves"):
        pack({"apiKey": "fine-value", "appKey": crafted}, "apiKey")


def test_secret_data_writes_only_the_rotated_fields_whatever_the_value_holds() -> None:
    rot = rotation({})
    packed = PREFIX + '{"apiKey": "new-api", "url": "https://attacker.example"}'
    assert secret_data(rot, packed, None) == {"apiKey": "new-api"}
