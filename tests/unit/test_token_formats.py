"""The table of known token formats: every pattern compiles in google-re2 and in `re`, finds its
own example (alone, in JSON text, in a URL query, after "Bearer ") and only its own, its
keywords prefilter it, and ordinary text (ids, hashes, base64, prose, URLs, n8n JSON) matches no
distinctive format."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import random
import re
import uuid
from functools import cache
from typing import Any

import pytest
import re2

from keyturn.detect import token_formats
from keyturn.detect.token_formats import TOKEN_FORMATS, TokenFormat

NAMES = [fmt.name for fmt in TOKEN_FORMATS]
# Examples that another format matches too, on purpose (see the module's docstring).
OVERLAPS = {
    "Azure DevOps personal access token": {
        "Azure annotated service key (AI services, Maps, Communication...)"
    },
    "Google Chat webhook URL": {"Google API key"},
}


@cache
def compiled(pattern: str) -> tuple[re.Pattern[str], Any]:
    """The pattern for `re` (over str) and for re2 over bytes, as the file scanner runs it."""
    return re.compile(pattern), re2.compile(pattern.encode())


def found(fmt: TokenFormat, text: str) -> tuple[str | None, str | None]:
    """What `re` and re2 match of `fmt` in `text`."""
    py, r2 = compiled(fmt.pattern)
    by_py = py.search(text)
    by_re2 = r2.search(text.encode())
    return (
        by_py.group(0) if by_py else None,
        by_re2.group(0).decode() if by_re2 else None,
    )


def own_match(fmt: TokenFormat) -> str:
    match = re.search(fmt.pattern, fmt.example)
    assert match is not None
    return match.group(0)


def test_the_table_is_wide_and_names_are_unique() -> None:
    assert len(TOKEN_FORMATS) >= 150
    assert len(set(NAMES)) == len(NAMES)
    assert all(isinstance(fmt, TokenFormat) for fmt in TOKEN_FORMATS)


def test_the_source_holds_no_token() -> None:
    """Examples are written in pieces: no scanner (keyturn's own included) finds a token in the
    module's source."""
    assert token_formats.__file__ is not None
    with open(token_formats.__file__, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    patterns = {fmt.pattern for fmt in TOKEN_FORMATS}
    hits = [
        (fmt.name, literal[:40])
        for fmt in TOKEN_FORMATS
        for literal in literals
        if literal not in patterns and compiled(fmt.pattern)[0].search(literal)
    ]
    assert hits == []


@pytest.mark.parametrize("fmt", TOKEN_FORMATS, ids=NAMES)
def test_pattern_compiles_in_re2_and_re(fmt: TokenFormat) -> None:
    re.compile(fmt.pattern)
    re2.compile(fmt.pattern)
    re2.compile(fmt.pattern.encode())


@pytest.mark.parametrize("fmt", TOKEN_FORMATS, ids=NAMES)
def test_example_matches_its_own_pattern(fmt: TokenFormat) -> None:
    by_py, by_re2 = found(fmt, fmt.example)
    assert by_py is not None and by_py == by_re2
    if fmt.example.startswith("https://"):
        # A webhook URL: the pattern starts at the host and runs to the secret at the end.
        assert fmt.example.rstrip("/").endswith(by_py)
    else:
        assert by_py == fmt.example


@pytest.mark.parametrize("fmt", TOKEN_FORMATS, ids=NAMES)
def test_example_matches_no_other_format(fmt: TokenFormat) -> None:
    others = {
        other.name for other in TOKEN_FORMATS if other is not fmt and any(found(other, fmt.example))
    }
    assert others == OVERLAPS.get(fmt.name, set())


@pytest.mark.parametrize("fmt", TOKEN_FORMATS, ids=NAMES)
def test_keywords_prefilter_the_pattern(fmt: TokenFormat) -> None:
    assert fmt.keywords
    assert all(keyword and keyword == keyword.lower() for keyword in fmt.keywords)
    # The keyword is in the token itself, not only in text around it.
    assert any(keyword in own_match(fmt).lower() for keyword in fmt.keywords)


@pytest.mark.parametrize("fmt", TOKEN_FORMATS, ids=NAMES)
def test_example_is_found_where_n8n_keeps_tokens(fmt: TokenFormat) -> None:
    token = own_match(fmt)
    places = [
        json.dumps({"name": "Authorization", "value": fmt.example}),
        json.dumps({"parameters": {"headerParameters": {"parameters": [{"v": fmt.example}]}}}),
        f"https://api.example.com/v1/items?api_key={fmt.example}&page=2",
        f"Authorization: Bearer {fmt.example}\n",
        f'{{"headers": {{"Authorization": "Bearer {fmt.example}"}}}}',
    ]
    for text in places:
        assert found(fmt, text) == (token, token), text


def ordinary_texts() -> list[str]:
    """Values that fill real workflows and must never be taken for a known token."""
    rng = random.Random(13)
    texts = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(200)]
    for index in range(200):
        data = f"payload-{index}".encode()
        texts += [hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()]  # noqa: S324
        texts += [hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest()]
        texts.append("sha256:" + hashlib.sha256(data).hexdigest())
    for size in (12, 16, 24, 32, 33, 40, 48, 64, 66, 88, 120, 256, 600, 3000):
        for _ in range(20):
            blob = rng.randbytes(size)
            texts += [base64.b64encode(blob).decode(), base64.urlsafe_b64encode(blob).decode()]
            texts.append(blob.hex())
    texts += [
        "The quick brown fox jumps over the lazy dog. Skip the task, ask Asia and "
        "keep the secret_key_base in the vault; see section 2/3 at 10:30.",
        "Please send the weekly report to the sales team before Friday, including the "
        "AKIA migration notes, the SK plan and the key-value store benchmarks.",
        "Sie erhalten eine Bestätigung per E-Mail, sobald die Zahlung eingegangen ist.",
        "https://api.example.com/v1/users?page=2&limit=50&sort=-createdAt",
        "https://n8n.example.com/webhook/4f1c2b7a-9d3e-4b8a-a6f1-2c3d4e5f6a7b",
        "https://docs.n8n.io/integrations/builtin/core-nodes/n8n-nodes-base.httprequest/",
        "https://github.com/n8n-io/n8n/blob/master/packages/nodes-base/package.json",
        "https://hooks.example.com/services/T0000/B0000/notasecret",
        "https://www.googleapis.com/oauth2/v4/token",
        "=https://api.example.com/items/{{ $json.id }}?fields=name,email",
        "n8n-nodes-base.httpRequest",
        "@n8n/n8n-nodes-langchain.lmChatOpenAi",
        "={{ $('Webhook').item.json.body.customer.email }}",
        "2024-05-17T09:30:00.000Z",
        "v1.45.2",
        "#1f6feb",
        "alice.smith+invoices@example.com",
        "SELECT id, name FROM customers WHERE created_at > NOW() - INTERVAL '7 days';",
        "const items = $input.all(); return items.map(i => ({ json: { ok: true } }));",
    ]
    workflow = {
        "id": "Yq2mF6xR8tKp3WbN",
        "name": "Sync CRM",
        "versionId": "6f1d2c3b-4a5e-4f60-8a71-92b3c4d5e6f7",
        "nodes": [
            {
                "id": "0c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e",
                "name": "Webhook",
                "type": "n8n-nodes-base.webhook",
                "typeVersion": 2,
                "position": [240, 300],
                "webhookId": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                "parameters": {"path": "crm-sync", "httpMethod": "POST"},
            },
            {
                "id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
                "name": "HTTP Request",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": 4.2,
                "credentials": {"httpHeaderAuth": {"id": "kT3mPq8ZrW2xYv6N", "name": "CRM"}},
            },
        ],
        "connections": {"Webhook": {"main": [[{"node": "HTTP Request", "index": 0}]]}},
    }
    texts.append(json.dumps(workflow, indent=2))
    return texts


def test_ordinary_text_matches_no_distinctive_format() -> None:
    corpus = "\n".join(ordinary_texts()).encode()
    hits = {}
    for fmt in TOKEN_FORMATS:
        match = compiled(fmt.pattern)[1].search(corpus)
        if fmt.distinctive and match is not None:
            hits[fmt.name] = match.group(0)
    assert hits == {}
