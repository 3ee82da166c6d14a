"""Prove a key the way n8n's own credential test would, before n8n holds it.

For each credential type n8n can test, data/n8n_credential_probes.json (generated from the
pinned n8n by scripts/gen_n8n_tables.py) holds the type's test request, its rules, its fields
with their defaults, and where its secrets go (`authenticate`). keyturn fills them with the
credential's fields and the new secret (expressions evaluated by n8n/expressions.py, never by
JavaScript), sends the request itself, and judges the answer as n8n does: an HTTP error, or a
rule that matches, means the key does not work.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import httpx

from keyturn.core.http import RetryPolicy, new_client, send_with_retries
from keyturn.core.probe import ProbeResult
from keyturn.core.redact import redact
from keyturn.n8n.expressions import UNDEFINED, ExpressionError, render


@dataclass(frozen=True)
class TypeProbe:
    """What the table knows of one credential type's test."""

    type_name: str
    defaults: dict[str, Any]
    secret_fields: tuple[str, ...]
    test: dict[str, Any]
    authenticate: dict[str, Any] | None
    # A code authenticate that differs with a switch field: ({field: value}, authenticate).
    variants: tuple[tuple[dict[str, Any], dict[str, Any]], ...] = ()
    field_types: dict[str, str] = field(default_factory=dict)  # boolean, number, string...
    required: frozenset[str] = frozenset()  # the fields n8n's form requires

    @classmethod
    def from_entry(cls, type_name: str, entry: dict[str, Any]) -> TypeProbe:
        """A type's probe from its entry in the generated table."""
        return cls(
            type_name=type_name,
            defaults={
                f["name"]: f["default"] for f in entry["fields"] if f.get("default") is not None
            },
            secret_fields=tuple(entry["secret_fields"]),
            test=entry["test"],
            authenticate=entry.get("authenticate"),
            variants=tuple(
                (variant["when"], variant["authenticate"])
                for variant in entry.get("authenticate_variants") or []
            ),
            field_types={f["name"]: f.get("type", "string") for f in entry["fields"]},
            required=frozenset(f["name"] for f in entry["fields"] if f.get("required")),
        )

    def typed(self, values: dict[str, Any]) -> dict[str, Any]:
        """Field values as n8n holds them: "false" from --set or keyturn.toml is the boolean
        false for a boolean field (the text "false" would be true), a number a number. Secret
        values are left as they are."""
        used = self.used_fields
        return {
            name: _typed(name, value, self.field_types.get(name))
            if name in used and name not in self.secret_fields
            else value
            for name, value in values.items()
        }

    @property
    def used_fields(self) -> set[str]:
        """The fields the request can read: in its test, its authentication or a variant's."""
        variants = [[when, authenticate] for when, authenticate in self.variants]
        return {*_names([self.test, self.authenticate, variants])} | {
            name for when, _ in self.variants for name in when
        }

    def assumed_switches(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The switch fields that move a secret elsewhere (a variant that sends it another
        way) whose value is not known, with the default the probe then assumes."""
        base = self._placements(self.authenticate)
        names = {
            name
            for when, authenticate in self.variants
            if any(self._placements(authenticate).get(f) != places for f, places in base.items())
            for name in when
        }
        return {name: self.defaults.get(name) for name in sorted(names) if name not in fields}

    def _placements(self, authenticate: dict[str, Any] | None) -> dict[str, set[str]]:
        """Secret field -> where the authentication puts it (`headers.Authorization`...)."""
        places: dict[str, set[str]] = {}
        for where, values in ((authenticate or {}).get("properties") or {}).items():
            for key, template in (values or {}).items() if isinstance(values, dict) else []:
                for name in re.findall(
                    r"\$credentials\??\.([A-Za-z_][A-Za-z0-9_]*)", str(template)
                ):
                    if name in self.secret_fields:
                        places.setdefault(name, set()).add(f"{where}.{key}")
        return places

    def authenticate_for(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        """The authentication a credential with these fields gets (its variant, if any)."""
        for when, authenticate in self.variants:
            if all(_same(fields.get(name), value) for name, value in when.items()):
                return authenticate
        return self.authenticate

    @property
    def rules(self) -> list[dict[str, Any]]:
        rules = self.test.get("rules") or []
        return [rule for rule in rules if isinstance(rule, dict)]


@dataclass
class ProbeRequest:
    """One HTTP request, ready to send; `describe()` shows it with every secret masked."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    basic_auth: tuple[str, str] | None = None
    verify_tls: bool = True
    accept_http_errors: bool = False
    secrets: list[str] = field(default_factory=list)  # the values to mask when shown

    def mask(self, text: str, more: list[str] | None = None) -> str:
        """`text` with every secret masked, raw or in the encodings a request gives it."""
        wanted = {s for s in {*self.secrets, *(more or [])} if len(s) >= MIN_MASKED}
        for secret in sorted(wanted, key=len, reverse=True):
            forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
            forms.add(json.dumps(secret)[1:-1])
            for form in sorted(forms, key=len, reverse=True):
                text = text.replace(form, "***")
        return text

    @property
    def target(self) -> str:
        """Method and address without the query, secrets masked (a token may be in the path)."""
        return self.mask(f"{self.method} {self.url}")

    def carries(self, value: str) -> bool:
        """Whether the request sends `value` somewhere (address, query, headers, Basic auth,
        body): a probe that does not carry the rotated field proves nothing about it."""
        places = [self.url, *self.params.values(), *self.headers.values()]
        places += list(self.basic_auth or ())
        if self.body is not None:
            places.append(self.body if isinstance(self.body, str) else json.dumps(self.body))
        return any(value in place for place in places)

    def describe(self, secrets: list[str] | None = None) -> str:
        def mask(text: str) -> str:
            return self.mask(text, secrets)

        params = {name: mask(value) for name, value in self.params.items()}
        query = f"?{urlencode(params, safe='*')}" if params else ""
        parts = [f"{self.method} {mask(self.url)}{query}"]
        parts += [f"{name}: {mask(value)}" for name, value in self.headers.items()]
        if self.basic_auth:
            parts.append(f"Basic auth user {mask(self.basic_auth[0])!r}, password ***")
        if not self.verify_tls:
            parts.append("TLS certificate NOT verified (the credential's own setting)")
        sent = _body(self)
        if "content" in sent:
            parts.append(f"body {mask(sent['content'])}")
        elif "data" in sent:
            form = {name: mask(value) for name, value in sent["data"].items()}
            parts.append(f"form body {urlencode(form, safe='*')}")
        elif "json" in sent:
            parts.append(f"body {mask(json.dumps(sent['json']))}")
        return "; ".join(parts)


@cache
def _table() -> dict[str, Any]:
    text = resources.files("keyturn").joinpath("data/n8n_credential_probes.json").read_text()
    types: dict[str, Any] = json.loads(text)["types"]
    return types


def type_probe(type_name: str) -> TypeProbe | None:
    """The table's probe for a credential type, or None when keyturn has none."""
    entry = _table().get(type_name)
    if entry is None:
        return None
    return TypeProbe.from_entry(type_name, entry)


def probed_types() -> list[str]:
    return sorted(_table())


def build_request(probe: TypeProbe, values: dict[str, Any]) -> ProbeRequest:
    """The type's test request for a credential whose fields are `values` (defaults filled in
    for the fields not given). Raises ExpressionError when a value it needs is missing."""
    fields = {**probe.defaults, **probe.typed(values)}
    request = probe.test["request"]
    base = _text(render(request.get("baseURL", ""), fields), "baseURL").strip()
    path = _text(render(request.get("url", ""), fields), "url").strip()  # as a URL parser does
    url, url_params = _split_query(_join(base, path))
    _check_address(url, probe, fields)
    built = ProbeRequest(
        method=str(render(request.get("method", "GET"), fields) or "GET").upper(),
        url=url,
        headers=_strings(render_all(request.get("headers") or {}, fields)),
        params={**url_params, **_strings(render_all(request.get("qs") or {}, fields))},
        body=render_all(request["body"], fields) if request.get("body") else None,
        verify_tls=render(request.get("skipSslCertificateValidation", False), fields) is not True,
        accept_http_errors=bool(request.get("ignoreHttpStatusErrors")),
    )
    _authenticate(built, probe.authenticate_for(fields), fields)
    # HTTP ignores spaces around a header's value; n8n's code leaves some there.
    built.headers = {name: value.strip() for name, value in built.headers.items()}
    built.secrets = [
        str(fields[name]) for name in probe.secret_fields if isinstance(fields.get(name), str)
    ]
    return built


def _split_query(url: str) -> tuple[str, dict[str, str]]:
    """The address without its query, and that query's parameters (sent with the others)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query="")), params


def _check_address(url: str, probe: TypeProbe, fields: dict[str, Any]) -> None:
    """A full http(s) URL with a real host name, else which field it needs."""
    full = url.startswith(("http://", "https://"))
    if full and _HOST.fullmatch(urlsplit(url).hostname or ""):
        return
    empty = [name for name in needed_fields(probe) if not fields.get(name)]
    if empty:
        raise ExpressionError(f"the test request's address needs the field(s) {', '.join(empty)}")
    raise ExpressionError("the test request's address is not a full URL")


_HOST = re.compile(r"(?!-)[A-Za-z0-9-]+(?<!-)(\.(?!-)[A-Za-z0-9-]+(?<!-))*|\[[0-9A-Fa-f:.]+\]")


def needed_fields(probe: TypeProbe) -> list[str]:
    """The non-secret fields the test request's address is built from (a base URL, a domain,
    a region): the ones a credential must have values for."""
    request = probe.test["request"]
    text = f"{request.get('baseURL', '')} {request.get('url', '')}"
    names = dict.fromkeys(re.findall(r"\$credentials\??\.([A-Za-z_][A-Za-z0-9_]*)", text))
    return [name for name in names if name not in probe.secret_fields]


def _names(value: Any) -> list[str]:
    return re.findall(r"\$credentials\??\.([A-Za-z_][A-Za-z0-9_]*)", json.dumps(value))


def probe_gaps(probe: TypeProbe, fields: dict[str, Any], rotated: list[str]) -> str | None:
    """Why the request cannot prove the rotated secret with what keyturn knows (None: it
    can): a field its address, its Basic auth user or an OAuth2 app's client id needs is
    empty (a good key would be refused), or it also sends a secret n8n requires that is not
    rotated (keyturn never knows one; an optional one goes empty, as n8n sends it unset).
    Each candidate gets a marker value, and only the ones the built request really carries
    count (a branch of an expression that is not taken sends nothing)."""
    known = {**probe.defaults, **probe.typed(fields)}
    properties = (probe.authenticate_for(known) or {}).get("properties") or {}
    must = {*needed_fields(probe), *_names(properties.get("auth"))}
    if probe.test.get("oauth2"):
        must.add("clientId")
    markers = {
        name: f"keyturn-marker-{name}-end"
        for name in probe.field_types
        if name not in rotated
        and (name in probe.secret_fields or (name in must and known.get(name) in (None, "")))
    }
    samples = {name: f"keyturn-sample-{name}-end" for name in rotated}
    empty = [name for name in markers if name not in probe.secret_fields]
    try:
        request = build_request(probe, {**fields, **samples, **markers})
    except ExpressionError:
        request = None  # an empty address: said below, or by the caller's own build
    carried = [name for name, mark in markers.items() if request and request.carries(mark)]
    if request is not None:
        empty = [name for name in carried if name not in probe.secret_fields]
    if empty:
        return f"its test request needs {', '.join(empty)} (give --set {empty[0]}=VALUE)"
    unknown = [name for name in carried if name in probe.secret_fields and name in probe.required]
    if unknown:
        return (
            f"its test request also sends {', '.join(unknown)}, a secret keyturn does not know "
            f"(rotate it too with --field {unknown[0]}=SOURCE)"
        )
    return None


def referenced_fields(probe: TypeProbe) -> list[str]:
    """The non-secret fields the request is built from: its address's, then those its
    authentication sends (an OAuth2 app's client id), for a hint on what to --set."""
    extra = [name for name in _names(probe.authenticate) if name not in probe.secret_fields]
    return list(dict.fromkeys([*needed_fields(probe), *extra]))


def render_all(value: Any, fields: dict[str, Any]) -> Any:
    """Every expression inside a value (keys of objects too, as n8n resolves header names)."""
    if isinstance(value, dict):
        return {
            _text(render(key, fields), "a name"): render_all(item, fields)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [render_all(item, fields) for item in value]
    return render(value, fields)


def _authenticate(
    request: ProbeRequest, authenticate: dict[str, Any] | None, fields: dict[str, Any]
) -> None:
    if not authenticate:
        return
    if authenticate.get("type") != "generic":
        raise ExpressionError(f"an authentication of type {authenticate.get('type')!r}")
    properties = authenticate.get("properties") or {}
    for where, values in properties.items():
        rendered = render_all(values, fields)
        if where == "headers":
            request.headers.update(_strings(rendered))
        elif where == "qs":
            request.params.update(_strings(rendered))
        elif where == "body":
            body = request.body if isinstance(request.body, dict) else {}
            request.body = {**body, **rendered}
        elif where == "auth":
            user = _text(rendered.get("username", ""), "the Basic auth user")
            password = _text(rendered.get("password", ""), "the Basic auth password")
            request.basic_auth = (user, password)
        else:
            raise ExpressionError(f"an authentication that sets {where!r}")


def send_probe(
    probe: TypeProbe,
    request: ProbeRequest,
    *,
    control: ProbeRequest | None = None,
    timeout: float = 10.0,
    attempts: int = 3,
    transport: httpx.BaseTransport | None = None,
) -> ProbeResult:
    """Send a type's test request and judge the answer as n8n's credential test does.

    A service that cannot be reached (DNS, connection, TLS) is a failed proof, said as such;
    a redirect proves nothing (a login page answers one to any key). With `control` (the same
    request with a random secret: an OAuth2 token endpoint), the answer counts only if the
    random secret is refused."""
    result = _send_and_judge(probe, request, timeout, attempts, transport)
    if not result.ok or control is None:
        return result
    check = _send_and_judge(probe, control, timeout, attempts, transport)
    if check.ok or not check.refused:
        return ProbeResult(
            False,
            f"{result.detail}; but a random secret was not refused ({check.detail}): the "
            "answer proves nothing",
        )
    return ProbeResult(True, f"{result.detail}; a random secret refused")


def _send_and_judge(
    probe: TypeProbe,
    request: ProbeRequest,
    timeout: float,
    attempts: int,
    transport: httpx.BaseTransport | None,
) -> ProbeResult:
    with new_client(
        timeout=timeout,
        transport=transport,
        verify=request.verify_tls,
        carries="the secret being probed",
        ca_setting="the probe's CA bundle",
    ) as http:
        outcome = send_with_retries(
            lambda: http.request(
                request.method,
                request.url,
                headers=request.headers,
                params=request.params,
                auth=request.basic_auth,
                **_body(request),
            ),
            RetryPolicy(attempts, 0.3, 5.0),
            idempotent=request.method in ("GET", "HEAD"),
            what=f"{probe.type_name} test request",  # not the URL: it may carry the key
        )
    where = request.target
    if isinstance(outcome, httpx.TransportError):
        return ProbeResult(
            False, redact(f"{probe.type_name} test {where} could not reach the service: "
                          f"{type(outcome).__name__}: {outcome}")
        )  # fmt: skip
    if 300 <= outcome.status_code < 400:
        to = urlsplit(outcome.headers.get("Location") or "").hostname or "elsewhere"
        return ProbeResult(
            False,
            f"{probe.type_name} test {where}: the service answered {outcome.status_code}, a "
            f"redirect to {to}, which proves nothing (a login page answers one to any key); "
            "point the credential's address at the API itself",
        )
    try:
        body: Any = outcome.json()
    except ValueError:
        body = None
    ok, detail = judge(outcome.status_code, body, probe, request.accept_http_errors)
    refused = bool(probe.test.get("oauth2")) and _client_refused(outcome.status_code, body)
    return ProbeResult(ok, f"{probe.type_name} test {where}: {detail}", refused=refused)


def _body(request: ProbeRequest) -> dict[str, Any]:
    """The body as n8n sends it: text as is, a form for a form content type, else JSON."""
    if request.body is None:
        return {}
    if isinstance(request.body, str):
        return {"content": request.body}
    content_type = next(
        (value for name, value in request.headers.items() if name.lower() == "content-type"), ""
    )
    if "x-www-form-urlencoded" in content_type and isinstance(request.body, dict):
        return {"data": {name: value for name, value in _strings(request.body).items() if value}}
    return {"json": request.body}


def judge(status: int, body: Any, probe: TypeProbe, accept_http_errors: bool) -> tuple[bool, str]:
    """n8n's verdict on a test answer: an HTTP error fails (unless the type ignores them),
    then each rule that matches fails with its message."""
    if probe.test.get("oauth2"):
        return judge_token_endpoint(status, body)
    if status >= 400 and not accept_http_errors:
        return False, f"the service answered {status}"
    for rule in probe.rules:
        properties = rule.get("properties") or {}
        if rule.get("type") == "responseCode" and status == properties.get("value"):
            return False, str(properties.get("message") or f"the service answered {status}")
        if rule.get("type") == "responseSuccessBody":
            found = _path(body, str(properties.get("key", "")))
            if found is not UNDEFINED and found == properties.get("value"):
                return False, str(properties.get("message") or "the service refused the key")
    return True, f"the service accepted it ({status})"


# What OAuth2 token endpoints answer about the client (RFC 6749, 5.2, and the providers that
# answer otherwise: GitHub, Slack) when the grant itself is made up.
# (`unauthorized_client` is not among them: the client authenticated, and may not use
# that grant.)
CLIENT_REFUSED = {
    "invalid_client", "incorrect_client_credentials", "bad_client_secret",
    "invalid_client_id", "invalid_client_secret",
}  # fmt: skip
CLIENT_ACCEPTED = {"invalid_grant", "bad_verification_code", "invalid_code"}


def judge_token_endpoint(status: int, body: Any) -> tuple[bool, str]:
    """An OAuth2 client secret at the token endpoint: a token (client credentials) or an
    error about the made-up code means the client authenticated; an error about the client,
    or 401, that it did not; anything else proves nothing, so it is not taken as a proof."""
    error = _oauth2_error(body)
    if 200 <= status < 300 and isinstance(body, dict) and body.get("access_token"):
        return True, f"the token endpoint issued a token ({status})"
    if _client_refused(status, body):
        return False, f"the token endpoint refused the client ({status} {error or ''})".strip()
    if error in CLIENT_ACCEPTED:
        return True, f"the token endpoint accepted the client ({status} {error}: the test code)"
    return False, (
        f"the token endpoint's answer ({status} {error or 'no OAuth2 error'}) does not tell "
        "whether it accepts the client"
    )


def _oauth2_error(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _client_refused(status: int, body: Any) -> bool:
    return status == 401 or _oauth2_error(body) in CLIENT_REFUSED


def _path(body: Any, key: str) -> Any:
    value = body
    for part in key.split(".") if key else []:
        if not isinstance(value, dict) or part not in value:
            return UNDEFINED
        value = value[part]
    return value


def _join(base: str, path: str) -> str:
    if not base:
        return path
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


def _text(value: Any, what: str) -> str:
    if value is UNDEFINED or value is None:
        raise ExpressionError(f"{what} needs a field that has no value")
    return str(value)


MIN_MASKED = 4  # shorter values are not secrets worth garbling the text for (as in redact)
MAX_FIELD_LENGTH = 2048  # a base URL, a domain, a user: longer is not one (and slows regexes)


def _typed(name: str, value: Any, kind: str | None) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
        raise ExpressionError(f"the field {name} is longer than {MAX_FIELD_LENGTH} characters")
    if kind == "boolean" and isinstance(value, str):
        if value.strip().lower() not in ("true", "false"):
            raise ExpressionError(f"the field {name} takes true or false, not {value!r}")
        return value.strip().lower() == "true"
    if kind == "number" and isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            raise ExpressionError(f"the field {name} takes a number, not {value!r}") from None
    return value


def _same(value: Any, wanted: Any) -> bool:
    """A field's value (from n8n, keyturn.toml or --set, where all is text) against a
    variant's: true and "true" are the same."""
    if isinstance(wanted, bool):
        return str(value).lower() == str(wanted).lower()
    return value is not None and str(value) == str(wanted)


def _strings(values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        raise ExpressionError("headers or query parameters that are not a list of names")
    return {
        str(key): ("true" if value is True else "false" if value is False else str(value))
        for key, value in values.items()
        if value is not UNDEFINED and value is not None
    }
