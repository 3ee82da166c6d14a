"""`--probe-auth auto` against a real local service: the placement where the new key is
accepted and a random one refused, in a handful of requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keyturn.core.errors import ConfigError
from keyturn.core.probe import AuthPlacement, detect_placement
from keyturn.n8n.credential_types import auto_candidates
from keyturn.sandbox.demo_provider import DemoProvider

WRONG_FIRST = (AuthPlacement("query", "token"), AuthPlacement("header", "X-API-Key"))


@pytest.fixture
def service() -> Iterator[tuple[DemoProvider, str]]:
    with DemoProvider() as provider:
        key, _ = provider.state.issue("probe", None, None)
        yield provider, key.value


def test_finds_the_placement_the_service_reads(service: tuple[DemoProvider, str]) -> None:
    provider, key = service
    found, detail = detect_placement(f"{provider.url}/v1/ping", key, "decoy-xyz-000", WRONG_FIRST)
    assert found == AuthPlacement("header", "X-API-Key")
    stats = provider.state.stats()
    assert (stats["accepted"], stats["refused"]) == (1, 2)  # wrong place, right place, decoy
    assert key not in detail


def test_a_refused_key_finds_nothing_within_one_request_per_candidate(
    service: tuple[DemoProvider, str],
) -> None:
    provider, _ = service
    found, detail = detect_placement(
        f"{provider.url}/v1/ping", "refused-key-0000", "decoy-xyz-000", WRONG_FIRST
    )
    assert found is None and "no placement" in detail
    assert provider.state.stats()["refused"] == len(WRONG_FIRST)


def test_an_endpoint_that_takes_any_key_proves_nothing(service: tuple[DemoProvider, str]) -> None:
    provider, key = service
    found, detail = detect_placement(f"{provider.url}/healthz", key, "decoy-xyz-000")
    assert found is None and "random key too" in detail


def test_generic_types_try_only_their_own_kind() -> None:
    assert {p.kind for p in auto_candidates("httpHeaderAuth")} == {"header"}
    assert {p.kind for p in auto_candidates("httpQueryAuth")} == {"query"}
    assert auto_candidates("httpBearerAuth") == (AuthPlacement("bearer"),)
    assert len(auto_candidates("someServiceApi")) <= 5
    with pytest.raises(ConfigError, match="Basic auth user"):
        auto_candidates("httpBasicAuth")
