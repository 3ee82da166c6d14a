"""Every literal in an authentication position of the real community workflow exports.

Walks every workflow in the real-world exports ($KEYTURN_REALWORLD_DIR, else
../shared/realworld-workflows: see _realworld.py) and lists each literal string that sits where
a credential could be typed. The list is what realworld_labels.json labels by hand (secret,
placeholder or not_secret) and what realworld_truth.py measures keyturn scan against.

Authentication positions (the `kind` of a candidate):

- `header`, `query`, `body`: the {name, value} pairs of request nodes (HTTP Request, the HTTP
  Request tool, GraphQL, ...): headerParameters, queryParameters, bodyParameters, the tool's
  parametersHeaders/Query/Body and pagination parameters; every name, whatever it is;
- `json-header`, `json-query`, `json-body`: the string leaves of the JSON text in jsonHeaders,
  jsonQuery, jsonBody (and the older *ParametersJson, and `body`), keyed by their JSON key: all of
  them in headers and queries; in a body those at most two keys deep (`api_key`, `auth.token`,
  `messages[].role`) and, at any depth, those whose key suggests a credential (deeper leaves are
  message content, Slack blocks, JSON schemas). n8n expressions inside the JSON text are set
  aside while it is parsed; text that is still not JSON is read pair by pair;
- `url-userinfo`, `url-query`, `url-path`: in every URL-valued parameter (and URL literals in
  code): the user and password of `scheme://user:pass@host`, each query parameter's value, and
  the secret path of webhook URLs that are themselves credentials (Slack, Discord, Telegram bot);
- `param`, `field`: any node parameter whose key suggests a credential (key, token, secret,
  password, auth, signature, apikey, bearer, sid, appid, client_id, cookie, ...), and any
  Set/Edit Fields assignment or other {name, value} pair whose name does; n8n's own option
  parameters that hold a mode or a data-key name (N8N_OPTION_KEYS) are left out;
- `code`: in Code/Function node source (and shell commands): string literals assigned to such
  names (`apiKey = '...'`, `'x-api-key': '...'`, `setHeader('Authorization', '...')`), curl's
  `-H 'Name: value'` and `-u user:pass`;
- `pindata`, `staticdata`: pinned and static data values under header-like keys (anything under
  `headers`, `x-*` keys) or credential-like keys.

Left out: pure n8n expressions (`={{ ... }}` with no literal text), code template literals with
`${...}`, empty or blank strings, sticky notes (documentation), and the resource-locator URLs n8n
caches itself (`cachedResultUrl`). A mixed expression (`=Bearer {{ $json.token }}`) is a
candidate.

A candidate carries its file (relative to the exports folder), workflow and node names, node
type, JSON pointer (pointers into embedded JSON text continue with the JSON keys, as keyturn
writes them; a code literal or a URL part points at its parameter), the parameter or header
name, a fingerprint (first 16 hex digits of the SHA-256 of the literal, exactly as it stands in
the parsed workflow or URL text), its length and a shape summary: never the value. `value` is
kept in memory only (repr=False), for labelling and matching.

Usage: python benchmarks/realworld_candidates.py [--json] [--summary]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realworld import realworld_dir, realworld_files, require_realworld


@dataclass(frozen=True)
class Candidate:
    file: str
    workflow: str
    node: str
    node_type: str
    pointer: str
    name: str
    kind: str
    fingerprint: str
    length: int
    shape: str
    value: str = field(repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What a label is matched to: the place and the value's fingerprint."""
        return (self.file, self.pointer, self.name, self.fingerprint)

    def public(self) -> dict[str, Any]:
        """Everything but the value."""
        out = asdict(self)
        del out["value"]
        return out


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


# --- names that suggest a credential --------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_CRED_SUBSTRINGS = (
    "apikey", "token", "secret", "passw", "pwd", "auth", "signature", "bearer", "credential",
    "clientid", "appid", "appkey", "accesskey", "privatekey", "cookie", "jwt", "hmac",
    "passphrase", "sessionid",
)  # fmt: skip
_CRED_WORDS = frozenset({"key", "keys", "sid", "pass", "sig", "pat", "otp"})
# n8n's own parameters whose names contain such words but hold a mode (an option of a fixed
# list) or the name of a data field/key, never a typed secret.
N8N_OPTION_KEYS = frozenset(
    {
        "authentication", "genericauthtype", "nodecredentialtype", "keytype", "tokentype",
        "sessionkey", "sessionidtype", "outputkey", "memorykey", "destinationkey", "issuekey",
        "binaryimagedatakey", "keyname", "keyvalue", "key", "maxtokens", "passwordfield",
        "granttype", "grant_type",
    }
)  # fmt: skip


def words(name: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(name)]


def is_credential_name(name: str) -> bool:
    """Broad on purpose: the noise it catches (authorId, outputKey...) is labelled too."""
    name = name.lstrip("=")
    compact = re.sub(r"[^a-z0-9]", "", name.lower())
    if any(part in compact for part in _CRED_SUBSTRINGS):
        return True
    split = words(name)
    return any(w in _CRED_WORDS or (w.endswith("key") and w != "monkey") for w in split)


def is_option_key(key: str) -> bool:
    return key.lower() in N8N_OPTION_KEYS


# --- literals ----------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def literal_text(value: str) -> str | None:
    """The literal text n8n sends for a parameter value; None when there is none."""
    if not value.strip():
        return None
    if value.startswith("="):
        rest = _EXPRESSION.sub("", value[1:])
        return rest if rest.strip() else None
    return value


def is_pure_expression(value: str) -> bool:
    return literal_text(value) is None


# --- shapes ------------------------------------------------------------------------------

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_JWT = re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$", re.I)
_SCHEME = re.compile(r"^(bearer|basic|token|apikey|api-key|key|digest|hmac|sso-key)\s+", re.I)
# Known token formats (by their public prefixes): the kind is shown instead of a bare alphabet.
_FORMATS = [
    ("openai-key", re.compile(r"^sk-(?:proj-|svcacct-|admin-)?[\w-]{20,}$")),
    ("anthropic-key", re.compile(r"^sk-ant-[\w-]{20,}$")),
    ("github-token", re.compile(r"^(?:gh[pousr]_|github_pat_)\w{20,}$")),
    ("slack-token", re.compile(r"^xox[abposr]-[\w-]{10,}$")),
    ("google-api-key", re.compile(r"^AIza[\w-]{35}$")),
    ("aws-access-key-id", re.compile(r"^(?:AKIA|ASIA)[0-9A-Z]{16}$")),
    ("stripe-key", re.compile(r"^(?:sk|rk|pk)_(?:live|test)_\w{16,}$")),
    ("telegram-bot-token", re.compile(r"^\d{8,10}:AA[\w-]{33}$")),
    ("hf-token", re.compile(r"^hf_\w{30,}$")),
    ("sendgrid-key", re.compile(r"^SG\.[\w-]{22}\.[\w-]{43}$")),
]


_WORDY = re.compile(r"[a-z]+|[A-Z][a-z]*|[A-Z]+|\d{1,4}|[a-z]+\d{1,2}|")


def _alphabet_shape(value: str) -> str:
    n = len(value)
    if value.isdigit():
        return f"digits{n}"
    if re.fullmatch(r"[0-9a-f]+", value) or re.fullmatch(r"[0-9A-F]+", value):
        return f"hex{n}"
    if re.fullmatch(r"[A-Za-z]+", value):
        return f"word{n}" if n < 20 or entropy(value) < 3.5 else f"alpha-{n}"
    if re.fullmatch(r"[A-Za-z0-9]+", value):
        return f"alnum-{n}"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return "date"
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", value):
        return "ipv4"
    if re.fullmatch(r"\d+\.\d+", value):
        return "decimal"
    if re.fullmatch(r"v?\d+(?:\.\d+)+", value):
        return "version"
    segments = re.split(r"[_.:/-]", value)
    if len(segments) > 1 and all(_WORDY.fullmatch(s) for s in segments):
        return f"ident-{n}"  # snake_case, kebab-case, dotted or colon-separated words
    if re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):
        return f"base64-{n}"
    if re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", value):
        return f"base64url-{n}"
    if re.fullmatch(r"[\w.~+/=:-]+", value):
        return f"token-{n}"
    return ""


def shape(value: str) -> str:
    """A summary of what the value looks like, that never reveals it."""
    if "{{" in value and "}}" in value:
        literal = _EXPRESSION.sub("", value[1:] if value.startswith("=") else value)
        scheme = _SCHEME.match(literal.strip() + " ")
        if scheme and len(literal.strip()) == len(scheme.group(1)):
            return f"{scheme.group(1).lower()}+expr"
        return f"expr+text{len(literal.strip())}"
    text = value.strip()
    scheme = _SCHEME.match(text)
    if scheme and len(text) > len(scheme.group(0)):
        return f"{scheme.group(1).lower()}+{shape(text[scheme.end() :])}"
    if "-----BEGIN" in text:
        return "pem"
    if _JWT.match(text):
        return "jwt"
    if _UUID.match(text):
        return "uuid"
    for kind, pattern in _FORMATS:
        if pattern.match(text):
            return kind
    if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
        return "url"
    if _EMAIL.match(text):
        return "email"
    if text.lower() in {"true", "false", "null", "none"}:
        return "bool"
    if "/" in text and re.fullmatch(r"[\w.+-]+/[\w.+-]+(?:;.*)?", text):
        return (
            "mime"
            if re.match(r"^(application|text|image|audio|video|multipart)/", text)
            else "path"
        )
    if _DOMAIN.match(text) and not text.replace(".", "").isdigit():
        return "domain"
    if re.search(r"\s", text):
        return f"text{len(text)}"
    return _alphabet_shape(text) or f"chars-{len(text)}"


def entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


# --- walking one workflow ----------------------------------------------------------------

_PAIR_CONTAINERS = {
    "headerparameters": "header", "parametersheaders": "header", "headerparametersui": "header",
    "queryparameters": "query", "parametersquery": "query", "queryparametersui": "query",
    "bodyparameters": "body", "parametersbody": "body", "bodyparametersui": "body",
}  # fmt: skip
_JSON_TEXT = {
    "jsonheaders": "json-header", "headerparametersjson": "json-header",
    "jsonquery": "json-query", "queryparametersjson": "json-query",
    "jsonbody": "json-body", "bodyparametersjson": "json-body", "body": "json-body",
}  # fmt: skip
_CODE_KEYS = frozenset({"jscode", "functioncode", "pythoncode", "code", "functioncodestring"})
_COMMAND_KEYS = frozenset({"command", "curlimport"})
_URL_KEY = re.compile(r"url|uri|endpoint|link|host", re.I)
_REQUEST_TYPE = re.compile(r"httprequest|graphql", re.I)


def escape_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@dataclass
class _Context:
    file: str
    workflow: str
    node: str = ""
    node_type: str = ""
    found: list[Candidate] = field(default_factory=list)
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, pointer: str, name: str, kind: str, value: str) -> None:
        if not value.strip() or is_pure_expression(value):
            return
        if (pointer, name, value) in self.seen:
            return
        self.seen.add((pointer, name, value))
        self.found.append(
            Candidate(
                self.file, self.workflow, self.node, self.node_type, pointer, name, kind,
                fingerprint(value), len(value), shape(value), value,
            )
        )  # fmt: skip


def candidates_in_file(path: Path, root: Path) -> list[Candidate]:
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        return []
    relative = str(path.relative_to(root))
    found: list[Candidate] = []
    for prefix, workflow in workflows_in(document):
        name = workflow.get("name")
        context = _Context(relative, name if isinstance(name, str) else "")
        scan_workflow(workflow, prefix, context)
        found.extend(context.found)
    return found


def workflows_in(document: Any) -> list[tuple[str, dict[str, Any]]]:
    """(pointer prefix, workflow) for one workflow, an array of them, or {"data": [...]}."""
    if isinstance(document, dict) and isinstance(document.get("nodes"), list):
        return [("", document)]
    if isinstance(document, list):
        return [
            (f"/{i}", item)
            for i, item in enumerate(document)
            if isinstance(item, dict) and isinstance(item.get("nodes"), list)
        ]
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return [(f"/data{p}", w) for p, w in workflows_in(document["data"])]
    return []


def scan_workflow(workflow: dict[str, Any], prefix: str, context: _Context) -> None:
    nodes = [n for n in workflow["nodes"] if isinstance(n, dict)]
    for index, node in enumerate(workflow["nodes"]):
        if not isinstance(node, dict):
            continue
        raw_type = node.get("type")
        node_type = raw_type if isinstance(raw_type, str) else ""
        if node_type.endswith("stickyNote"):
            continue
        parameters = node.get("parameters")
        if not isinstance(parameters, dict):
            continue
        raw_name = node.get("name")
        context.node = raw_name if isinstance(raw_name, str) else ""
        context.node_type = node_type
        request = bool(_REQUEST_TYPE.search(node_type)) or any(
            key.lower() in _PAIR_CONTAINERS for key in parameters
        )
        _walk_parameters(parameters, f"{prefix}/nodes/{index}/parameters", context, request, "")
    by_name = {n.get("name"): n.get("type", "") for n in nodes}
    for section in ("pinData", "staticData"):
        data = workflow.get(section)
        if isinstance(data, dict):
            kind = section.lower()
            for node_name, items in data.items():
                context.node = node_name if section == "pinData" else ""
                context.node_type = str(by_name.get(node_name, "")) if section == "pinData" else ""
                pointer = f"{prefix}/{section}/{escape_pointer(str(node_name))}"
                _walk_data(items, pointer, context, kind, str(node_name), header=False)


def _walk_parameters(
    value: Any, pointer: str, context: _Context, request: bool, pair_kind: str
) -> None:
    if isinstance(value, dict):
        pair_name = _pair_name(value)
        for key, item in value.items():
            at = f"{pointer}/{escape_pointer(key)}"
            lowered = key.lower()
            if isinstance(item, str):
                if pair_name is not None and key in ("value", "stringValue"):
                    if pair_kind:
                        context.add(at, pair_name, pair_kind, item)
                    elif is_credential_name(pair_name):
                        context.add(at, pair_name, "field", item)
                    _urls_in_parameter(at, item, context)
                elif lowered in _CODE_KEYS or lowered in _COMMAND_KEYS:
                    _code_literals(at, item, context)
                elif lowered in _JSON_TEXT and (request or lowered != "body"):
                    _json_text(at, item, context, _JSON_TEXT[lowered])
                else:
                    if is_credential_name(key) and not is_option_key(key):
                        context.add(at, key, "param", item)
                    if key != "cachedResultUrl" and (_URL_KEY.search(key) or _looks_like_url(item)):
                        _urls_in_parameter(at, item, context)
            elif isinstance(item, dict | list):
                kind = pair_kind or (_PAIR_CONTAINERS.get(lowered, "") if request else "")
                if request and lowered == "pagination":
                    kind = "query"
                _walk_parameters(item, at, context, request, kind)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                _walk_parameters(item, f"{pointer}/{index}", context, request, pair_kind)


def _pair_name(value: dict[str, Any]) -> str | None:
    name = value.get("name")
    if isinstance(name, str) and (
        isinstance(value.get("value"), str) or isinstance(value.get("stringValue"), str)
    ):
        return name
    return None


# --- JSON text -----------------------------------------------------------------------------

_JSON_PAIR = re.compile(r'"((?:[^"\\]|\\.)+)"\s*:\s*"((?:[^"\\]|\\.)*)"')


_MARKER = re.compile(r"\x01(\d+)\x01")


def _json_text(pointer: str, text: str, context: _Context, kind: str) -> None:
    stripped = (text[1:] if text.startswith("=") else text).strip()
    if not stripped.startswith(("{", "[")):
        if stripped and not is_pure_expression(text):
            _urls_in_parameter(pointer, text, context)
        return
    # Expressions become numbered markers (their quotes would break the JSON), and a marker
    # standing for a whole JSON value becomes null; markers are put back in literals.
    expressions: list[str] = []

    def mark(match: re.Match[str]) -> str:
        expressions.append(match.group(0))
        return f"\x01{len(expressions) - 1}\x01"

    marked = _EXPRESSION.sub(mark, stripped)
    document: Any = None
    for attempt in (marked, re.sub(r"(?<=[:\[,])(\s*)\x01\d+\x01(?=\s*[,}\]])", r"\1null", marked)):
        try:
            document = json.loads(attempt.replace("\x01", "\\u0001"))
            break
        except ValueError:
            continue

    def restore(value: str) -> str:
        return _MARKER.sub(lambda m: expressions[int(m.group(1))], value)

    if isinstance(document, dict | list):
        _json_leaves(document, pointer, "", context, kind, restore)
        return
    # Not JSON even so (a cut-off or templated text): pair by pair.
    for match in _JSON_PAIR.finditer(marked):
        name, raw = match.group(1), match.group(2)
        try:
            literal = json.loads(f'"{raw}"'.replace("\x01", "\\u0001"))
        except ValueError:
            literal = raw
        at = f"{pointer}/{escape_pointer(name)}"
        context.add(at, name, kind, restore(literal))
        _urls_in_parameter(at, restore(literal), context)


_BODY_DEPTH = 2


def _json_leaves(
    value: Any, pointer: str, name: str, context: _Context, kind: str, restore: Any, depth: int = 0
) -> None:
    """Every string leaf; in a body, only those at most _BODY_DEPTH keys deep (where APIs take
    credentials: `api_key`, `auth.token`) unless the key suggests a credential: the deeper
    leaves of a body are message content, Slack blocks or JSON schemas."""
    if isinstance(value, dict):
        for key, item in value.items():
            key = restore(str(key))
            at = f"{pointer}/{escape_pointer(key)}"
            _json_leaves(item, at, key, context, kind, restore, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_leaves(item, f"{pointer}/{index}", name, context, kind, restore, depth)
    elif isinstance(value, str):
        literal = restore(value)
        if "{{" in literal and not _EXPRESSION.sub("", literal).strip():
            return  # the whole value is an expression
        if kind != "json-body" or depth <= _BODY_DEPTH or is_credential_name(name):
            context.add(pointer, name, kind, literal)
        _urls_in_parameter(pointer, literal, context)


# --- URLs ----------------------------------------------------------------------------------

_URL_IN_TEXT = re.compile(r"""\b[a-z][a-z0-9+.-]{1,20}://[^\s"'`]+""", re.I)
_SECRET_PATHS = [
    ("slack-webhook", re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/([^?#\s]+)")),
    ("discord-webhook", re.compile(r"discord(?:app)?\.com/api/webhooks/([^?#\s]+)")),
    ("telegram-bot", re.compile(r"api\.telegram\.org/(?:file/)?bot([^/?#\s]+)")),
]


def _looks_like_url(text: str) -> bool:
    return bool(re.match(r"^=?\s*[a-z][a-z0-9+.-]{1,20}://", text, re.I))


def _urls_in_parameter(pointer: str, text: str, context: _Context) -> None:
    if "://" not in text:
        return
    literal = _EXPRESSION.sub("\x00", text[1:] if text.startswith("=") else text)
    for match in _URL_IN_TEXT.finditer(literal):
        _url_parts(pointer, match.group(0), context)


def _url_parts(pointer: str, url: str, context: _Context) -> None:
    rest = url.partition("://")[2]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        userinfo = authority.rsplit("@", 1)[0]
        user, colon, password = userinfo.partition(":")
        if user and "\x00" not in user:
            context.add(pointer, "<url-user>", "url-userinfo", user)
        if colon and password and "\x00" not in password:
            context.add(pointer, "<url-password>", "url-userinfo", password)
    try:
        query = urlsplit(url).query
    except ValueError:
        query = url.partition("?")[2]
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        if equals and value and "\x00" not in value:
            context.add(pointer, name, "url-query", value)
    for kind, pattern in _SECRET_PATHS:
        found = pattern.search(url)
        if found and "\x00" not in found.group(1):
            context.add(pointer, f"<{kind}>", "url-path", found.group(1))


# --- code ----------------------------------------------------------------------------------

_CODE_ASSIGN = re.compile(
    r"""(?P<q>["']?)(?P<name>[A-Za-z_$][\w$.-]*)(?P=q)\s*(?::|=(?![=>]))\s*"""
    r"""(?P<vq>["'`])(?P<value>(?:\\.|(?!(?P=vq))[^\\\n])*)(?P=vq)"""
)
_CODE_CALL = re.compile(
    r"""\(\s*(?P<q>["'])(?P<name>[^"'\n]{1,60})(?P=q)\s*,\s*"""
    r"""(?P<vq>["'`])(?P<value>(?:\\.|(?!(?P=vq))[^\\\n])*)(?P=vq)"""
)
_CURL_HEADER = re.compile(
    r"""(?:-H|--header)\s+(?P<vq>["'])(?P<name>[^:"'\n]+):\s*(?P<value>[^"'\n]*)(?P=vq)"""
)
_CURL_USER = re.compile(r"""(?:-u|--user)\s+(?P<vq>["']?)(?P<value>[^\s"']+)(?P=vq)""")


def _code_literals(pointer: str, code: str, context: _Context) -> None:
    for pattern in (_CODE_ASSIGN, _CODE_CALL):
        for match in pattern.finditer(code):
            name, value = match.group("name"), match.group("value")
            if "${" in value:
                continue  # a template literal: computed, like an n8n expression
            if is_credential_name(name.rsplit(".", 1)[-1]):
                context.add(pointer, name, "code", value)
    for match in _CURL_HEADER.finditer(code):
        context.add(pointer, match.group("name").strip(), "code", match.group("value"))
    for match in _CURL_USER.finditer(code):
        user, _, password = match.group("value").partition(":")
        context.add(pointer, "<curl-user>", "code", user)
        if password:
            context.add(pointer, "<curl-password>", "code", password)
    for match in _URL_IN_TEXT.finditer(code):
        url = re.sub(r"\$\{[^}]*\}|\{\{.*?\}\}", "\x00", match.group(0))
        _url_parts(pointer, url, context)


# --- pinned and static data ----------------------------------------------------------------


def _walk_data(
    value: Any, pointer: str, context: _Context, kind: str, name: str, *, header: bool
) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            at = f"{pointer}/{escape_pointer(key)}"
            under_headers = header or key.lower() in ("headers", "header")
            if isinstance(item, str):
                if header or key.lower().startswith("x-") or is_credential_name(key):
                    context.add(at, key, kind, item)
            elif isinstance(item, dict | list):
                _walk_data(item, at, context, kind, key, header=under_headers)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            at = f"{pointer}/{index}"
            if isinstance(item, str):
                if header or is_credential_name(name):
                    context.add(at, name, kind, item)
            elif isinstance(item, dict | list):
                _walk_data(item, at, context, kind, name, header=header)


# --- the whole corpus ----------------------------------------------------------------------


def all_candidates(root: Path | None = None) -> list[Candidate]:
    root = root or realworld_dir()
    files = realworld_files() if root == realworld_dir() else sorted(root.rglob("*"))
    found: list[Candidate] = []
    for path in files:
        if path.is_file() and path.suffix != ".md":
            found.extend(candidates_in_file(path, root))
    return sorted(found, key=lambda c: (c.file, _pointer_key(c.pointer), c.name, c.fingerprint))


def _pointer_key(pointer: str) -> list[Any]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pointer.split("/")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per candidate")
    parser.add_argument("--summary", action="store_true", help="counts only")
    args = parser.parse_args()
    require_realworld()
    candidates = all_candidates()
    if args.json:
        for c in candidates:
            print(json.dumps(c.public(), ensure_ascii=False))
    elif not args.summary:
        for c in candidates:
            print(
                f"{c.file}\t{c.node}\t{c.pointer}\t{c.name}\t{c.kind}\t{c.shape}\t{c.fingerprint}"
            )
    files = {c.file for c in candidates}
    print(
        f"{len(candidates)} candidates in {len(files)} files; by kind: "
        + ", ".join(f"{k} {n}" for k, n in Counter(c.kind for c in candidates).most_common()),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
