"""Judging one value: is it a secret? Cheap checks first, regexes only on the few candidates.

Used for strings in workflows (with the parameter's name as context), values of .env and
config files, and Code node source.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

import re2  # google-re2: linear-time regexes, hundreds of MB/s over raw bytes

from keyturn.core import jsonio
from keyturn.detect.rules import (
    CODE_LITERAL,
    ENV_FILE_SECRET,
    KNOWN_TOKEN,
    NODE_PARAMETER,
    URL_PASSWORD,
    WORKFLOW_DATA,
    Rule,
)
from keyturn.detect.token_scan import PRIVATE_KEY_KIND, RawTokens, find_tokens, scan_raw

MIN_SECRET_LENGTH = 8
# Shorter values are judged only under a secret-like name (not as a token or a URL password).
MIN_UNNAMED_SECRET_LENGTH = 16
SECRET_NAME = re.compile(
    r"auth|api[-_ ]?key|apikey|token|secret|passw|pwd|private[-_]?key|access[-_]?key|"
    r"signature|credential|client[-_]?secret|bearer|x-api|session[-_]?key|"
    r"(?:service|license|secret|signing|master|encryption|app|consumer|subscription)[-_]?key",
    re.IGNORECASE,
)
# n8n's own option keys that contain such words but hold a mode, never a secret.
NOT_SECRET_KEYS = frozenset(
    {
        "authentication", "genericauthtype", "nodecredentialtype", "sendheaders", "tokentype",
        "grant_type", "granttype", "authurl", "accesstokenurl", "tokenurl", "tokenname",
        "passwordfield", "useauth", "maxtokens", "max_tokens", "maxtokenstosample",
        "sessionkey", "sessionidtype", "credentials", "credentialtype", "authorizationurl",
        "tokenendpoint", "auth_url", "token_url", "tokenlimit", "maxtokenlimit",
    }
)  # fmt: skip
Token = tuple[str, str]  # (token, kind)
URL_USERINFO = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://([^/\s:@'\"]+):([^/\s@'\"]{3,})@", re.I)
AUTH_SCHEME = re.compile(r"^(?:bearer|basic|token|apikey|key)\s+", re.IGNORECASE)
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Matched against the lower-cased value (a case-insensitive regex is much slower).
# Each alternative opens with a literal character, which lets the regex skip ahead quickly.
# (`<...>` and `[...]` are looked for by _has_bracketed, before.)
PLACEHOLDER = re.compile(
    r"your|\*\*\*|placeholder|example|change[-_ ]?me|replace|insert|"
    r"_here|here_|dummy|sample|redacted|todo|fixme|\.\.\.|\$\{|%[a-z_]+%"
)
# A whole value that is nothing but a placeholder word or a variable (matched from its start).
PLACEHOLDER_WORD = re.compile(
    r"\$[a-z_]+$|(?:none|null|undefined|string|token|secret|password|apikey|bearer|true|false)$"
)


# Where a value sits decides how it is judged (and what the finding says):
NODE = "node"  # a node parameter under its own key
PAIR = "pair"  # a named request parameter (header, query, body) or an assigned field
DATA = "data"  # a workflow's pinned data or static data: copies of real requests
CONFIG = "config"  # a .env, compose or other config file
Where = str

# The words of names under which APIs take a credential. A literal under such a name in a
# request (a header, a query or body parameter, an assigned field, a config variable) is a
# secret whatever its alphabet: hex, a UUID, base64 with /+=, a short vendor key.
_AUTH_WORDS = frozenset(
    {
        "key", "apikey", "token", "secret", "password", "passwd", "pwd", "passphrase", "auth",
        "authorization", "credential", "credentials", "bearer", "appid", "appkey", "apitoken",
        "accesstoken", "accesskey", "secretkey", "privatekey", "clientsecret", "authtoken",
        "xapikey", "sessiontoken", "subscriptionkey", "licensekey", "serviceaccount",
    }
)  # fmt: skip
# Words that make such a name something else: a public value, a paging cursor, a setting.
_NOT_AUTH_WORDS = frozenset(
    {
        "public", "publishable", "idempotency", "page", "next", "cursor", "continuation",
        "sort", "partition", "primary", "cache", "object", "type", "name", "id", "url", "uri",
        "endpoint", "expires", "expiry", "expiration", "ttl", "length", "count", "max", "limit",
        "field", "header", "location", "path", "file", "format", "mode", "method", "scope",
        "usage", "lifetime", "encoding", "hint", "label", "version", "prefix", "sync",
    }
)  # fmt: skip
_NAME_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Names in copies of real requests that hold signatures, hashes and ids, never secrets.
_DATA_NOT_SECRET = re.compile(
    r"signature|(?:^|[-_])sig$|hash|digest|nonce|timestamp|etag|(?:^|[-_])id$|uuid|"
    r"address|domain|host|request[-_]?id|trace|checksum|fingerprint",
)
_BLOCKCHAIN_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_AUTH_VALUE_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{1,20} +(?=\S+$)")
_DIGITS_ONLY = re.compile(r"^[0-9]+$")


class Hit(NamedTuple):
    """A secret found in one value. `value` is the secret itself: never printed."""

    rule: Rule
    value: str
    field: str
    detail: str


_secret_key_cache: dict[str, bool] = {}


_SECRET_WORDS = ("key", "token", "secret", "pass", "auth", "pwd", "credential", "bearer",
                 "signature", "x-api")  # fmt: skip


def is_secret_key(key: str) -> bool:
    """Whether a parameter, header or variable name suggests a secret (memoized: names repeat)."""
    known = _secret_key_cache.get(key)
    if known is None:
        lowered = key.lower()
        known = lowered not in NOT_SECRET_KEYS and bool(SECRET_NAME.search(lowered))
        if len(_secret_key_cache) < 100_000:
            _secret_key_cache[key] = known
    return known


_auth_name_cache: dict[str, bool] = {}


def is_auth_name(name: str) -> bool:
    """Whether a request parameter's or variable's name is one APIs take a credential under
    (`X-API-Key`, `key`, `appid`, `access_token`, `Authorization`...), and not a public value
    or a setting (`publicKey`, `pageToken`, `token_type`)."""
    known = _auth_name_cache.get(name)
    if known is None:
        words = [word.lower() for word in _NAME_WORDS.findall(name)]
        joined = "".join(words)
        known = not _NOT_AUTH_WORDS.intersection(words) and (
            bool(_AUTH_WORDS.intersection(words)) or joined in _AUTH_WORDS
        )
        if len(_auth_name_cache) < 100_000:
            _auth_name_cache[name] = known
    return known


_WORDLIKE = re.compile(
    r"^(?:[a-z]+(?:[_.-][a-z]+)*|[A-Z]+(?:[_.-][A-Z]+)*|[a-z]+(?:[A-Z][a-z]+)+)$"
)


def is_key_material(value: str) -> bool:
    """A literal that can be a credential in an authentication position, whatever its
    alphabet: one token of 8 or more characters, not a placeholder, a word, a number or an
    address. An Authorization value's scheme (`Bearer`, `Token`, `Bot`...) is not part of it."""
    whole = value.strip()
    value = _AUTH_VALUE_SCHEME.sub("", whole)
    if len(value) < MIN_SECRET_LENGTH or _WHITESPACE(value):
        return False
    if value.lower().startswith(("http://", "https://", "{{", "$")):
        return False
    # A path, unless a scheme came first: `Bearer /BVwf...+x==` is base64, which may open with /.
    if value == whole and value.startswith(("/", "=", "./")):
        return False
    if _DIGITS_ONLY.match(value) or is_placeholder(value):
        return False
    if _DIGIT(value) is not None:
        return True
    # Without a digit: random letters, not a word or an identifier (customer_name, fullName).
    return not _WORDLIKE.match(value) and entropy(value) >= 3.3


def not_secret_in_data(key: str, value: str) -> bool:
    """In a copy of a real request (pinned data): signatures, hashes, ids, addresses and
    domains are what they look like, not credentials."""
    return (
        bool(_DATA_NOT_SECRET.search(key.lower()))
        or key.endswith(("Id", "ID"))  # authorId, memberID
        or bool(_BLOCKCHAIN_ADDRESS.match(value))
    )


_OBVIOUS_PLACEHOLDER = re.compile(r"xxxx|XXXX|\*\*\*|\.\.\.|\$\{|00000000")


def _has_bracketed(value: str) -> bool:
    """Whether `value` holds `<...>` or `[...]`. Not a regex: `<[^>]*>` reads from each `<` to
    the end of a value that never closes one, which took a run of them time in its square."""
    for opening, closing in ("<>", "[]"):
        start = value.find(opening)
        if start >= 0 and value.find(closing, start + 1) >= 0:
            return True
    return False


_FILLER_X = re.compile("xxx|XXX")


def is_placeholder(value: str) -> bool:
    """Placeholders are wordy (low entropy) or obviously filler; random secrets are neither."""
    if len(set(value)) < 4 or _OBVIOUS_PLACEHOLDER.search(value) or _has_bracketed(value):
        return True
    lowered = value.lower()
    wordy = (
        PLACEHOLDER.search(lowered)
        or PLACEHOLDER_WORD.match(lowered)
        or _FILLER_X.search(value)  # xxx or XXX: a random key may hold xXx
    )
    return wordy is not None and entropy(value) < 4.2


def entropy(value: str) -> float:
    counts = Counter(value)
    size = len(value)
    return -sum(count / size * math.log2(count / size) for count in counts.values())


_WHITESPACE = re.compile(r"\s").search
_DIGIT = re.compile(r"\d").search
_LETTER = re.compile(r"[^\W\d_]").search


def looks_like_secret_value(value: str) -> bool:
    """A literal that could be a credential: long enough, one token, not a placeholder or URL."""
    value = AUTH_SCHEME.sub("", value.strip())
    if len(value) < MIN_SECRET_LENGTH or _WHITESPACE(value):
        return False
    if value.lower().startswith(("http://", "https://", "/", "=", "{{", "./")):
        return False
    if UUID.match(value) or is_placeholder(value):
        return False
    mixed = _DIGIT(value) is not None and _LETTER(value) is not None
    return mixed or (len(value) >= 20 and entropy(value) >= 3.5)


def literal_part(value: str) -> str | None:
    """The text of an n8n parameter that n8n takes literally: None for a pure expression."""
    if not value.startswith("="):
        return value
    if "{{" not in value:
        return value[1:]
    return _expression_literal(value)


@lru_cache(maxsize=1024)  # the same expressions recur in workflow after workflow
def _expression_literal(expression: str) -> str | None:
    literal = without_expressions(expression[1:]).strip()
    return literal or None


def without_expressions(text: str) -> str:
    """`text` with a blank for each `{{ ... }}`: a `{{` is closed by the first `}}` after it,
    and one never closed is text. Not a regex: one (`{{.*?}}`) reads from each `{{` to the end
    of a text that never closes one, which took a run of them time in its square."""
    parts: list[str] = []
    done = 0
    while (start := text.find("{{", done)) >= 0 and (end := text.find("}}", start + 2)) >= 0:
        parts.append(text[done:start])
        parts.append(" ")
        done = end + 2
    parts.append(text[done:])
    return "".join(parts)


def tokens_in(raw: bytes) -> list[tuple[int, str, str]]:
    """(offset, token, kind) of every well-known token in raw bytes (detect/token_scan.py),
    placeholders left out."""
    return find_tokens(raw, keep=_is_token)


def raw_tokens(raw: bytes) -> RawTokens:
    """tokens_in(), and which of token_scan.MARKERS occur in `raw`."""
    return scan_raw(raw, keep=_is_token)


def _is_token(token: str, kind: str) -> bool:
    # A private key block is judged by its body (between its BEGIN and END lines).
    body = token.split("-----")[2] if kind == PRIVATE_KEY_KIND else token
    return not is_placeholder(body)


# A JSON Web Key's private members (RSA d, p, q, dp, dq, qi; EC and OKP d; a symmetric k),
# raw or escaped inside a string; looked for only where a "kty" is.
_JWK_PRIVATE = re2.compile(rb'\\*"(d|p|q|dp|dq|qi|k)\\*"\s*:\s*\\*"([A-Za-z0-9_-]{22,})\\*"')


def jwk_private_members(raw: bytes, markers: frozenset[bytes]) -> list[tuple[int, str, str]]:
    """(offset, value, kind) of every private member of a JSON Web Key in raw bytes
    (`markers`: those raw_tokens() found in them)."""
    if b"kty" not in markers:
        return []
    return [
        (
            match.start(2),
            match.group(2).decode("ascii"),
            f"JWK private key ({match.group(1).decode()})",
        )
        for match in _JWK_PRIVATE.finditer(raw)
    ]


def known_token(text: str, tokens: FileTokens | None = None) -> Token | None:
    """(token, kind) of the well-known token that ends first in `text` (FileTokens.first_in).

    `tokens` are those already found in the whole file: then only they are looked for.
    """
    if tokens is None:
        found = tokens_in(text.encode())
        return (found[0][1], found[0][2]) if found else None
    return tokens.first_in(text)


# Up to this many tokens in a file, a search for each is quicker than building an automaton.
_FEW_TOKENS = 16


class FileTokens:
    """The well-known tokens found in one file, each with its kind, and which of them a string
    of that file holds. Each string is judged against them: with a loop over thousands of
    tokens, an export holding 20,000 took seven minutes; an Aho-Corasick automaton finds them
    all in one pass over the string."""

    __slots__ = ("_automaton", "_tokens")

    def __init__(self, tokens: Iterable[Token] = ()) -> None:
        kinds: dict[str, str] = {}
        for token, kind in sorted(tokens):  # sorted: the same answers from run to run
            kinds.setdefault(token, kind)
        self._tokens = tuple(kinds.items())
        self._automaton = _automaton_of(self._tokens) if len(kinds) > _FEW_TOKENS else None

    def any_in(self, text: str) -> bool:
        if self._automaton is not None:
            return next(self._automaton.iter(text), None) is not None
        for token, _ in self._tokens:  # noqa: SIM110 - any() makes a generator per string
            if token in text:
                return True
        return False

    def first_in(self, text: str) -> Token | None:
        """The token that ends first in `text`; of those ending there, the longest (a token
        that ends another is part of it). Found as the automaton reports matches, in the
        order of their ends: nested tokens can make a string hold millions of matches."""
        if self._automaton is not None:
            best: Token | None = None
            best_end = -1
            for last, found in self._automaton.iter(text):
                if best is not None and last > best_end:
                    break
                if best is None or len(found[0]) > len(best[0]):
                    best, best_end = found, last
            return best
        ends = [
            (start + len(token), -len(token), token, kind)
            for token, kind in self._tokens
            if (start := text.find(token)) >= 0
        ]
        if not ends:
            return None
        _, _, token, kind = min(ends)
        return token, kind


def _automaton_of(tokens: tuple[Token, ...]) -> Any:
    import ahocorasick  # only for a file with many tokens

    automaton = ahocorasick.Automaton()
    for token, kind in tokens:
        automaton.add_word(token, (token, kind))
    automaton.make_automaton()
    return automaton


_USERINFO_AFTER_SCHEME = re.compile(r"([^/\s:@'\"]+):([^/\s@'\"]{3,})@")


def url_password(text: str) -> str | None:
    """The password of the first `scheme://user:password@` in `text`."""
    if "@" not in text:
        return None
    start = text.find("://")
    while start >= 0:
        match = _USERINFO_AFTER_SCHEME.match(text, start + 3)
        if match:
            password = match.group(2)
            if not is_placeholder(password) and not password.startswith(("{{", "$", "%")):
                return password
        start = text.find("://", start + 3)
    return None


_RULE_AT = {
    NODE: NODE_PARAMETER,
    PAIR: NODE_PARAMETER,
    DATA: WORKFLOW_DATA,
    CONFIG: ENV_FILE_SECRET,
}


_URL_QUERY_PAIR = re.compile(r"[?&]([A-Za-z][\w.-]{0,40})=([^&#\s'\"]+)")


def url_query_secret(text: str) -> tuple[str, str] | None:
    """(name, value) of the first credential in a URL's query (`?key=...`, `&appid=...`):
    a query parameter is an authentication position like a request's own."""
    from urllib.parse import unquote  # here: few values hold a URL with a query

    for match in _URL_QUERY_PAIR.finditer(text):
        name, value = match.group(1), match.group(2)
        if "{{" not in value and is_auth_name(name):
            secret = unquote(value)
            if is_key_material(secret):
                return name, secret
    return None


_secret_name_caches: dict[Where, dict[str, bool]] = {NODE: {}, PAIR: {}, DATA: {}, CONFIG: {}}


def is_secret_name(key: str, where: Where) -> bool:
    """Whether judge() takes the name `key` as a secret's: a name APIs take a credential under,
    in a request parameter or a config variable, or a secret-like name anywhere."""
    cache = _secret_name_caches[where]
    known = cache.get(key)
    if known is None:
        known = (where in (PAIR, CONFIG) and is_auth_name(key)) or is_secret_key(key)
        if len(cache) < 100_000:
            cache[key] = known
    return known


def may_hold_unnamed_secret(value: str, where: Where, tokens: FileTokens) -> bool:
    """Whether judge() can report `value` under a name that is not secret-like, given the
    file's `tokens`: only a well-known token or a URL with a password or (outside data) a
    credential in its query is reported there. Exact, so callers can skip judge() for the
    many values that fail it."""
    if len(value) < MIN_UNNAMED_SECRET_LENGTH:
        return False
    if value[0] == "=":
        return True  # an expression: judged by its literal part, not the text seen here
    if "://" in value and ("@" in value or (where != DATA and "=" in value)):
        return True
    return tokens.any_in(value)


def judge(
    key: str, value: str, *, where: Where = NODE, tokens: FileTokens | None = None
) -> Hit | None:
    """The secret in one value, judged with its key (parameter, header or variable name) and
    where it sits: in a request parameter or a config variable, the name decides (place beats
    shape); elsewhere a secret-like name and a secret-like value."""
    size = len(value)
    if size < MIN_SECRET_LENGTH:
        return None
    if size < MIN_UNNAMED_SECRET_LENGTH and not is_secret_name(key, where):
        return None  # too short for a token format or a URL with a password
    literal = literal_part(value)
    if literal is None:
        return None
    if len(literal) >= MIN_UNNAMED_SECRET_LENGTH:
        token = known_token(literal, tokens)
        if token is not None:
            return Hit(KNOWN_TOKEN, token[0], key, token[1])
    return _judge_literal(key, literal, where)


# Memoized: exports repeat the same headers, URLs and placeholders in workflow after workflow.
@lru_cache(maxsize=4096)
def _judge_literal(key: str, literal: str, where: Where) -> Hit | None:
    """judge() past the file's tokens: a function of its arguments alone."""
    auth_place = where in (PAIR, CONFIG) and is_auth_name(key)
    secret_key = auth_place or is_secret_key(key)
    if len(literal) >= MIN_UNNAMED_SECRET_LENGTH:
        password = url_password(literal)
        if password is not None:
            return Hit(URL_PASSWORD, password, key, "password in a URL")
        if where != DATA and "://" in literal and "=" in literal:
            found = url_query_secret(literal)
            if found is not None:
                name, secret = found
                return Hit(_RULE_AT[where], secret, key, f"literal {name!r} in a URL's query")
    if where == DATA and not_secret_in_data(key, literal):
        return None
    if auth_place and is_key_material(literal):
        value = _AUTH_VALUE_SCHEME.sub("", literal.strip())
        return Hit(_RULE_AT[where], value, key, f"literal value in {key!r}")
    if secret_key and looks_like_secret_value(literal):
        value = AUTH_SCHEME.sub("", literal.strip())
        return Hit(_RULE_AT[where], value, key, f"literal value in {key!r}")
    return None


def code_hits(code: str, tokens: FileTokens | None = None) -> Iterator[Hit]:
    """Secrets in Code node source: well-known tokens, URL passwords, secret-named literals."""
    token = known_token(code, tokens)
    if token is not None:
        yield Hit(KNOWN_TOKEN, token[0], "code", token[1])
    password = url_password(code)
    if password is not None:
        yield Hit(URL_PASSWORD, password, "code", "password in a URL")
    for name, value in _secret_literals_in_code(code):
        if token is None or value != token[0]:
            yield Hit(CODE_LITERAL, value, name, f"literal {name!r} in code")


@lru_cache(maxsize=256)  # Code nodes are copied from workflow to workflow
def _secret_literals_in_code(code: str) -> tuple[tuple[str, str], ...]:
    """(name, literal) of each secret-named literal in `code` that looks like a secret."""
    return tuple(
        (name, value)
        for name, value in _secret_named_literals(code)
        if looks_like_secret_value(value) and "{{" not in value
    )


_ASSIGNMENT_AT = re.compile(
    r"""([A-Za-z_][\w-]*)["']?\s*[:=]\s*["'`](?:Bearer\s+|Basic\s+|Token\s+)?([^"'`\s]{8,})["'`]"""
)


def _secret_named_literals(code: str) -> Iterator[tuple[str, str]]:
    """(name, literal) of `name = "literal"` / `name: 'literal'` where the name is secret-like.

    Anchored on occurrences of secret words (rare in most code) instead of trying a regex at
    every position of a long source: each name that holds one is tried once, from its start.
    """
    tried_to = 0  # the end of the last name tried
    for start in sorted(_secret_word_starts(code)):
        if start < tried_to:
            continue  # in the name tried last (`keykeykey...` took time in its square)
        left, tried_to = start, start
        while left > 0 and _in_name(code[left - 1]):
            left -= 1
        while tried_to < len(code) and _in_name(code[tried_to]):
            tried_to += 1
        match = _ASSIGNMENT_AT.match(code, left)
        if match and is_secret_key(match.group(1)):
            yield match.group(1), match.group(2)


def _in_name(char: str) -> bool:
    return char.isalnum() or char in "_-"


_SECRET_WORD = re.compile("|".join(_SECRET_WORDS), re.IGNORECASE)


def _secret_word_starts(code: str) -> Iterator[int]:
    lowered = code.lower()
    if len(lowered) != len(code):  # a letter whose lower case is two (İ): offsets differ
        yield from (match.start() for match in _SECRET_WORD.finditer(code))
        return
    for word in _SECRET_WORDS:
        start = lowered.find(word)
        while start >= 0:
            yield start
            start = lowered.find(word, start + len(word))


def preview(value: str) -> str:
    """A redacted preview: enough to recognise a value, never enough to use it."""
    if len(value) <= 8:
        return f"{value[:1]}… ({len(value)} chars)"
    if len(value) < 24:  # a short key: at most a third of it
        return f"{value[:2]}…{value[-1:]} ({len(value)} chars)"
    return f"{value[:4]}…{value[-2:]} ({len(value)} chars)"


ENV_READ_PATTERN = re.compile(
    r"""(?:\$env|process\.env)(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([^"']+)["']\s*\])"""
)


def escape_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def embedded_json(text: str) -> Any:
    """JSON held in a string parameter (jsonHeaders, jsonBody, ...), or None."""
    if "{" not in text[:3]:
        return None
    stripped = text.lstrip("=").strip()
    if not stripped.startswith("{") or "{{" in stripped:
        return None
    try:
        return jsonio.loads(stripped)
    except ValueError:
        return None


def env_reads_in(text: str, context: str) -> Iterator[tuple[str, bool]]:
    """(variable, secret-like) for every `$env.X` / `process.env.X` read in `text`."""
    if "env" not in text:
        return
    for match in ENV_READ_PATTERN.finditer(text):
        variable = match.group(1) or match.group(2)
        yield variable, _has_secret_word(variable) or _has_secret_word(context)


@lru_cache(maxsize=4096)  # variable and parameter names repeat; the search takes ~10 us
def _has_secret_word(name: str) -> bool:
    return SECRET_NAME.search(name) is not None
