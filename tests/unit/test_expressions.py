"""keyturn's evaluator of the expressions in n8n's credential types: the forms n8n uses give
what JavaScript gives; everything else is refused, never run."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyturn.n8n.expressions import UNDEFINED, ExpressionError, evaluate, render

FIELDS = {
    "apiKey": "sk-123",
    "url": "https://api.example.com/",
    "domain": "acme",
    "region": "eu",
    "environment": "sandbox",
    "empty": "",
    "flag": True,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("={{$credentials.apiKey}}", "sk-123"),
        ("={{ $credentials?.url }}", "https://api.example.com/"),
        ("=Bearer {{$credentials.apiKey}}", "Bearer sk-123"),
        ("=https://{{$credentials.domain}}.example.com/v1", "https://acme.example.com/v1"),
        ("={{$credentials.url.replace(/\\/$/, '')}}/models", "https://api.example.com/models"),
        ("={{$credentials?.url?.replace(/\\/+$/, '')}}", "https://api.example.com"),
        (
            '={{$credentials.url.replace(new RegExp("/$"), "") + "/api"}}',
            "https://api.example.com/api",
        ),
        ("={{$credentials.empty || 'https://default.example.com'}}", "https://default.example.com"),
        ("={{$credentials.missing ?? 'fallback'}}", "fallback"),
        ("={{'https://' + $credentials.domain}}", "https://acme"),
        (
            "={{$credentials.environment === 'sandbox' ? 'https://sandbox.x' : 'https://live.x'}}",
            "https://sandbox.x",
        ),
        ("={{$credentials.region.startsWith('cn-') ? 'cn' : 'global'}}", "global"),
        ("={{$credentials.url.split('/').pop()}}", ""),
        ("={{$credentials.url.split('//')[1]}}", "api.example.com/"),
        ("={{ $credentials.url.trim().replace(/\\/+$/, '') }}", "https://api.example.com"),
        ("={{$credentials.flag ? 'on' : 'off'}}", "on"),
        ("not an expression {{$credentials.apiKey}}", "not an expression {{$credentials.apiKey}}"),
        (42, 42),
    ],
)
def test_the_forms_n8n_uses(template: Any, expected: Any) -> None:
    assert render(template, FIELDS) == expected


def test_a_single_expression_keeps_its_type() -> None:
    assert render("={{$credentials.flag}}", FIELDS) is True
    assert render("={{$credentials.missing}}", FIELDS) is UNDEFINED


def test_a_missing_value_inside_text_is_refused_not_written_as_undefined() -> None:
    with pytest.raises(ExpressionError, match="no value"):
        render("=https://{{$credentials.missing}}.example.com", FIELDS)


@pytest.mark.parametrize(
    "expression",
    [
        "process.exit(1)",
        "require('fs')",
        "this.constructor",
        "$env.SECRET",
        "$credentials.apiKey.constructor('return 1')()",
        "`https://${$credentials.domain}`",
        "new Date().toUTCString()",
        "$credentials.apiKey.replace(/(a+)+$/, '')",
        "$credentials.apiKey; 1",
        "$credentials['apiKey']",
        "(() => 1)()",
        "$credentials.apiKey.length",
        "",
    ],
)
def test_anything_else_is_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, FIELDS)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_a_value_or_a_refusal(expression: str) -> None:
    with contextlib.suppress(ExpressionError):
        evaluate(expression, FIELDS)


_PIECES = st.sampled_from(
    [
        "$credentials.url", "$credentials?.domain", "'x'", '"/"', "(", ")", "||", "??", "+",
        "===", "?", ":", ".replace(/\\/$/, '')", ".trim()", ".split('/')", ".pop()", "[0]",
        "new RegExp('/$')", "true", "1", ",", ".split('')", "((((((((", "/[]/", "/[/]/",
        "new RegExp($credentials.url)", ".toLowerCase()",
    ]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(
    st.lists(_PIECES, max_size=24),
    st.dictionaries(st.sampled_from(["url", "domain"]), st.text(max_size=20)),
)
def test_any_mix_of_known_pieces_and_values_gives_a_value_or_a_refusal(
    pieces: list[str], fields: dict[str, str]
) -> None:
    with contextlib.suppress(ExpressionError):
        evaluate(" ".join(pieces), fields)


@pytest.mark.parametrize(
    "expression",
    [
        "'abc'.split('')",
        "(" * 200 + "1" + ")" * 200,
        "/" + "[]" * 24,
        "$credentials.url.replace(new RegExp($credentials.domain), '')",
    ],
)
def test_hostile_forms_are_refused_at_once(expression: str) -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionError):
        evaluate(expression, {"url": " " * 3000, "domain": "\\s*" * 7 + "x"})
    assert time.monotonic() - started < 0.5
