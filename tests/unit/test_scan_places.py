"""Place beats shape: a literal in an authentication position is a secret whatever its
alphabet; private keys are found in any string; copies of real requests (pinned data) do
not flag their signatures, hashes and ids; each finding says where it is."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from keyturn.scan.engine import ScanOptions, run_scan
from tests.helpers import realworld_files

HEX32 = "3f9a0c1d7e5b2a4c6d8e0f1a2b3c4d5e"
UUID_KEY = "8d3e1f0a-52c4-4b7e-9a61-0c2d4e6f8a1b"
HEX40 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
SLASHY = "aB3/dE6+gH9=jK2/mN5+pQ8="
OPENS_WITH_SLASH = "/BVwfZiT3lDV4TMoRE2IUA/bXxLOHO5ZWpnDYnkhnKX+L79jBkcslgCx2k1fXA=="  # base64
SHORT_VENDOR = "k7Qp2Xw9Lm4Rt8Vz"
RSA_BODY = "MIIEowIBAAKCAQEA1x" + "Qk9Xr2LmX4pT7vN1kW9yB3cD6fG8hJ0" * 4
JWK_D = "Y3Jhc2ggdGhlIHN5c3RlbSB3aXRoIGEgcHJpdmF0ZSBrZXkgZXhwb25lbnQ"


def request(*pairs: tuple[str, str], where: str = "headerParameters") -> dict[str, Any]:
    parameters = {where: {"parameters": [{"name": n, "value": v} for n, v in pairs]}}
    return {"name": "Call API", "type": "n8n-nodes-base.httpRequest", "parameters": parameters}


def code(source: str) -> dict[str, Any]:
    return {"name": "Sign", "type": "n8n-nodes-base.code", "parameters": {"jsCode": source}}


def scan_doc(tmp_path: Path, *nodes: dict[str, Any], pin: Any = None) -> list[Any]:
    document: dict[str, Any] = {"name": "Flow", "nodes": list(nodes), "connections": {}}
    if pin is not None:
        document["pinData"] = pin
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(document, indent=2))
    return run_scan([path], None, ScanOptions(workers=1)).findings


@pytest.mark.parametrize(
    ("name", "value", "where"),
    [
        ("key", HEX32, "queryParameters"),
        ("appid", HEX32, "queryParameters"),
        ("api_key", HEX32, "queryParameters"),
        ("access_key", HEX32, "queryParameters"),
        ("X-API-Key", UUID_KEY, "headerParameters"),
        ("api-key", UUID_KEY, "headerParameters"),
        ("Authorization", f"Bearer {UUID_KEY}", "headerParameters"),
        ("Authorization", f"Bearer {SLASHY}", "headerParameters"),
        ("Authorization", f"Bearer {OPENS_WITH_SLASH}", "headerParameters"),
        ("Authorization", f"Token {HEX40}", "headerParameters"),
        ("Ocp-Apim-Subscription-Key", HEX32, "headerParameters"),
        ("X-Auth-Token", SHORT_VENDOR, "headerParameters"),
        ("client_secret", SLASHY, "bodyParameters"),
    ],
)
def test_a_literal_in_an_authentication_position_is_a_secret_whatever_its_shape(
    tmp_path: Path, name: str, value: str, where: str
) -> None:
    findings = scan_doc(tmp_path, request((name, value), where=where))
    assert [(f.rule.id, f.field) for f in findings] == [("KT001", name)]
    assert "node parameter" in findings[0].rule.description


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Request-Id", UUID_KEY),  # an id, not an auth name
        ("pageToken", "CAEQAhoGCAoQARgB"),  # a paging cursor
        ("publicKey", HEX40),
        ("token_type", "bearer_token"),
        ("key", "customer_name"),  # a word
        ("appid", "1234567890"),  # a number: an app's public id
        ("Authorization", "Bearer YOUR_TOKEN_HERE"),
        ("Authorization", "={{ 'Bearer ' + $json.token }}"),
        ("api_key", "<api key>"),
        ("Content-Type", "application/json"),
    ],
)
def test_what_is_not_a_key_in_those_positions_is_not_reported(
    tmp_path: Path, name: str, value: str
) -> None:
    assert scan_doc(tmp_path, request((name, value))) == []


@pytest.mark.parametrize(
    "source",
    [
        f"const pem = '-----BEGIN PRIVATE KEY-----\\n{RSA_BODY}\\n-----END PRIVATE KEY-----';",
        f'const k = "-----BEGIN RSA PRIVATE KEY-----\\n{RSA_BODY}\\n-----END RSA PRIVATE KEY-----"',
        f"key = `-----BEGIN OPENSSH PRIVATE KEY-----\n{RSA_BODY}\n"
        "-----END OPENSSH PRIVATE KEY-----`",
        f"const k = '-----BEGIN PGP PRIVATE KEY BLOCK-----\\n\\n{RSA_BODY}\\n"
        "-----END PGP PRIVATE KEY BLOCK-----'",
        f'const jwk = {{"kty": "RSA", "n": "{JWK_D}", "e": "AQAB", "d": "{JWK_D}"}};',
        "const k = '-----BEGIN PRIVATE KEY-----\\n' +\n"
        + "".join(f"  '{RSA_BODY[i : i + 64]}\\n' +\n" for i in range(0, len(RSA_BODY), 64))
        + "  '-----END PRIVATE KEY-----';",
    ],
)
def test_private_keys_in_code_strings_with_escaped_newlines(tmp_path: Path, source: str) -> None:
    findings = scan_doc(tmp_path, code(source))
    assert [f.rule.id for f in findings] == ["KT004"]
    assert "private key" in findings[0].detail.lower() or "JWK" in findings[0].detail


def test_the_same_secret_in_two_places_is_reported_at_each(tmp_path: Path) -> None:
    """A user removes every copy: each line that holds one is a finding, also where the walk of
    the workflow does not look (a node's notes) and for what only the raw bytes show (a JWK)."""
    jwk = f'const jwk = {{"kty": "EC", "crv": "P-256", "d": "{JWK_D}"}};'
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    noted = [{"name": f"Note {n}", "type": "n8n-nodes-base.noOp", "parameters": {},
              "notes": f"old token {token}"} for n in (1, 2)]  # fmt: skip
    findings = scan_doc(tmp_path, code(jwk), code(jwk), *noted)
    lines = sorted((f.detail, f.location.line) for f in findings)
    assert len({line for _, line in lines}) == 4, lines
    assert [detail for detail, _ in lines].count("JWK private key (d)") == 2


def test_a_private_key_in_a_dotenv_value_and_a_placeholder_block(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f'SIGNING_KEY="-----BEGIN EC PRIVATE KEY-----\\n{RSA_BODY}\\n'
        '-----END EC PRIVATE KEY-----"\n'
        'EXAMPLE_KEY="-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----"\n'
    )
    findings = run_scan([env], None, ScanOptions(workers=1)).findings
    assert [(f.rule.id, f.location.line) for f in findings] == [("KT004", 1)]


def test_a_copy_of_a_real_webhook_request_flags_its_credentials_not_its_signatures(
    tmp_path: Path,
) -> None:
    received = {
        "headers": {
            "x-hub-signature": f"sha1={HEX40}",
            "x-hub-signature-256": "sha256=" + HEX32 * 2,
            "x-slack-signature": "v0=" + HEX32 * 2,
            "x-slack-request-timestamp": "1732780800",
            "stripe-signature": f"t=1732780800,v1={HEX32}{HEX32}",
            "x-request-id": UUID_KEY,
            "etag": f'W/"{HEX40}"',
            "authorization": f"Bearer {SLASHY}",  # the caller's real credential
        },
        "body": {
            "authorId": "U02ABCDEF12",
            "memberId": HEX32,
            "wallet_address": "0x52908400098527886E0F7030069857D2E4169EE7",
            "domain": "example-shop.myshopify.com",
        },
    }
    findings = scan_doc(tmp_path, request(), pin={"Webhook": [{"json": received}]})
    assert [(f.rule.id, f.field) for f in findings] == [("KT010", "authorization")]
    assert "pinned data" in findings[0].rule.description


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.openweathermap.org/data/2.5/weather?q=Paris&appid={HEX32}",
        f"https://maps.example.com/geocode?address=x&key={UUID_KEY}",
        f"=https://api.example.com/v1/items?api_key={HEX32}&page={{{{ $json.page }}}}",
    ],
)
def test_a_key_in_a_urls_query_is_found(tmp_path: Path, url: str) -> None:
    node = {"name": "Call API", "type": "n8n-nodes-base.httpRequest", "parameters": {"url": url}}
    findings = scan_doc(tmp_path, node)
    assert [(f.rule.id, f.field) for f in findings] == [("KT001", "url")]
    assert "query" in findings[0].detail


def test_a_urls_query_without_a_key_is_not_reported(tmp_path: Path) -> None:
    url = "https://api.example.com/v1/items?page=2&pageToken=CAEQAhoGCAoQARgB&key={{ $json.k }}"
    node = {"name": "Call API", "type": "n8n-nodes-base.httpRequest", "parameters": {"url": url}}
    assert scan_doc(tmp_path, node) == []


@pytest.mark.parametrize(
    ("name", "value", "where"),
    [
        ("appid", "a1b2c3d4e5f6q", "queryParameters"),
        ("key", "Zq81kPw0aMx3", "headerParameters"),
        ("passphrase", "k7Qp2Xw9Lm", "bodyParameters"),
    ],
)
def test_a_short_key_under_an_authentication_name_is_found(
    tmp_path: Path, name: str, value: str, where: str
) -> None:
    (finding,) = scan_doc(tmp_path, request((name, value), where=where))
    assert finding.rule.id == "KT001"
    assert value not in finding.preview and len(finding.preview.split("…")[0]) <= 2


def test_a_token_written_with_json_escapes_is_found(tmp_path: Path) -> None:
    token = "ghp_" + "Qm7Vx2Lp9Rt4Wz8Kc3Nb6Hy1Jd5Fg0As2Ek7"
    escaped = "\\u0067" + token[1:]  # what a JSON writer may emit for "g"
    source = {"name": "Code", "type": "n8n-nodes-base.code", "parameters": {"jsCode": "x"}}
    path = tmp_path / "flow.json"
    text = json.dumps({"name": "Flow", "nodes": [source], "connections": {}}, indent=2)
    path.write_text(text.replace('"x"', f"\"const t = '{escaped}';\""))
    findings = run_scan([path], None, ScanOptions(workers=1)).findings
    assert [(f.rule.id, f.detail) for f in findings] == [
        ("KT004", "GitHub personal access token (classic)")
    ]


def test_two_tokens_of_one_kind_on_one_line_of_a_text_file(tmp_path: Path) -> None:
    """A baseline that knows the first must not hide the second."""
    first = "ghp_" + "Qm7Vx2Lp9Rt4Wz8Kc3Nb6Hy1Jd5Fg0As2Ek7"
    second = "ghp_" + "Zr4Tq8Wm2Kx6Pv0Ny3Lb7Hc1Jd5Fs9Ag3Eu6"
    env = tmp_path / "tokens.env"
    env.write_text(f'export TOKENS="{first}"\n')
    assert len(run_scan([env], None, ScanOptions(workers=1)).findings) == 1
    env.write_text(f'export TOKENS="{first} {second}"\n')
    findings = run_scan([env], None, ScanOptions(workers=1)).findings
    assert sorted(f.value_digest for f in findings) == sorted(
        hashlib.sha256(token.encode()).digest() for token in (first, second)
    )


def test_the_walk_skips_only_what_cannot_be_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk's cheap rejections are exact: on every real export, the findings are the
    same with them switched off."""
    from keyturn.detect import documents

    files = realworld_files()
    with_filters = _findings(files)
    monkeypatch.setattr(documents, "_may_report", lambda *args: True)
    monkeypatch.setattr(documents, "_may_judge", lambda *args: True)
    assert _findings(files) == with_filters


def _findings(files: list[Path]) -> list[tuple[object, ...]]:
    found = run_scan(files, None, ScanOptions(workers=1)).findings
    return sorted((f.rule.id, f.location.path, f.location.line, f.location.pointer, f.field,
                   f.detail, f.fingerprint) for f in found)  # fmt: skip
