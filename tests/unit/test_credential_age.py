"""A credential's age is the age of its secret: an OAuth2 app's updatedAt moves with every
token n8n stores, so it does not count."""

from __future__ import annotations

from datetime import UTC, datetime

from keyturn.inventory.report import _credential_out
from keyturn.inventory.usage import build_usage_index
from keyturn.n8n.credential_types import secret_changed_at
from keyturn.n8n.models import Credential

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN_REFRESHED = datetime(2026, 11, 28, tzinfo=UTC)


def credential(type_name: str) -> Credential:
    return Credential.model_validate(
        {"id": "c1", "name": "App", "type": type_name, "createdAt": CREATED,
         "updatedAt": TOKEN_REFRESHED}
    )  # fmt: skip


def test_an_api_key_is_as_old_as_its_last_update() -> None:
    assert secret_changed_at(credential("openAiApi")) == TOKEN_REFRESHED


def test_an_oauth2_app_is_as_old_as_the_credential_whatever_its_tokens() -> None:
    for type_name in ("oAuth2Api", "googleOAuth2Api", "slackOAuth2Api"):
        assert secret_changed_at(credential(type_name)) == CREATED, type_name


def test_the_inventory_counts_an_oauth2_apps_age_from_its_creation() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    app = credential("googleOAuth2Api")
    out = _credential_out(build_usage_index([app], []), app, now)
    assert out.age_days == (now - CREATED).days
