"""Hard-coded secrets and $env reads in node parameters."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from keyturn.detect.nodes import env_reads, hardcoded_secrets
from keyturn.n8n.models import Node, Workflow
from tests.helpers import json_values, realworld_files


def http_node(**parameters: object) -> Node:
    return Node.model_validate(
        {"name": "HTTP", "type": "n8n-nodes-base.httpRequest", "parameters": parameters}
    )


def headers(*pairs: tuple[str, str]) -> dict[str, object]:
    return {"parameters": [{"name": name, "value": value} for name, value in pairs]}


def test_literal_auth_header_is_found_with_a_preview_only() -> None:
    node = http_node(headerParameters=headers(("Authorization", "Bearer abcd1234efgh5678ijkl")))
    (secret,) = hardcoded_secrets(node)
    assert secret.field == "Authorization"
    assert secret.pointer == "/parameters/headerParameters/parameters/0/value"
    assert "abcd1234efgh5678ijkl" not in secret.preview


def test_query_and_body_parameters_and_unusual_names() -> None:
    node = http_node(
        queryParameters=headers(("api_key", "q1w2e3r4t5y6u7i8")),
        bodyParameters=headers(("client_secret", "Zx9Yw8Vu7Ts6Rq5P")),
    )
    assert {s.field for s in hardcoded_secrets(node)} == {"api_key", "client_secret"}


def test_expressions_placeholders_and_modes_are_not_secrets() -> None:
    node = http_node(
        authentication="genericCredentialType",
        genericAuthType="httpHeaderAuth",
        headerParameters=headers(
            ("Authorization", "={{ $json.token }}"),
            ("Authorization", "=Bearer {{ $env.TOKEN }}"),
            ("X-API-Key", "YOUR_API_KEY"),
            ("Authorization", "Bearer [YOUR API KEY HERE]"),
            ("X-Request-Id", "7f1c2a9e-1111-2222-3333-444455556666"),
        ),
    )
    assert hardcoded_secrets(node) == []


def test_expression_with_literal_token_inside() -> None:
    node = http_node(
        headerParameters=headers(("Authorization", "=Bearer sk-abcdefghijklmnopqrstuvwx{{ '' }}"))
    )
    (secret,) = hardcoded_secrets(node)
    assert secret.reason == "OpenAI/Anthropic key"


def test_url_with_password_and_json_headers_and_code() -> None:
    node = http_node(
        url="https://deploy:hunter2hunter2@api.example.com/v1",
        jsonHeaders='{"X-Api-Key": "a1b2c3d4e5f6g7h8"}',
    )
    assert {s.reason for s in hardcoded_secrets(node)} == {
        "password in a URL",
        "literal value in 'X-Api-Key'",
    }
    code = Node.model_validate(
        {
            "name": "Code",
            "type": "n8n-nodes-base.code",
            "parameters": {"jsCode": "const apiKey = 'k9j8h7g6f5d4s3a2';\nreturn [];"},
        }
    )
    (secret,) = hardcoded_secrets(code)
    assert secret.field == "apiKey"


def test_env_reads() -> None:
    node = Node.model_validate(
        {
            "name": "Code",
            "type": "n8n-nodes-base.code",
            "parameters": {
                "jsCode": "const k = $env.PARTNER_API_KEY; const u = $env['BASE_URL'];"
                " const t = process.env.SLACK_TOKEN;"
            },
        }
    )
    reads = {(r.variable, r.secret_like) for r in env_reads(node)}
    assert reads == {("PARTNER_API_KEY", True), ("BASE_URL", False), ("SLACK_TOKEN", True)}


def test_realworld_exports_only_real_keys_are_flagged() -> None:
    found = []
    for path in realworld_files():
        workflow = Workflow.model_validate(json.loads(path.read_text(encoding="utf-8")))
        for node in workflow.nodes:
            found.extend((path.name, s.field) for s in hardcoded_secrets(node))
    # The literal keys in the collection: a VirusTotal key typed into a header, and an API key
    # after the scheme "API-Key" in the Authorization header of two nodes.
    assert sorted(found) == [
        ("Real_Estate_Airbnb-Guest-Assistant.json", "=Authorization"),
        ("Real_Estate_Airbnb-Guest-Assistant.json", "=Authorization"),
        ("Slack_Venafi_Cloud_Slack_Cert_Bot.json", "X-Apikey"),
    ]


@given(parameters=st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_never_crashes_on_arbitrary_parameters(parameters: dict[str, object]) -> None:
    node = Node.model_validate({"name": "n", "type": "t", "parameters": parameters})
    for secret in hardcoded_secrets(node):
        assert secret.pointer.startswith("/parameters")
    env_reads(node)


@given(raw=json_values)
def test_workflow_model_accepts_any_json(raw: object) -> None:
    data = {"nodes": [raw, {"name": "x", "credentials": raw, "parameters": raw}]}
    Workflow.model_validate(data)
