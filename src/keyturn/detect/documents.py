"""Scanning one document: an n8n workflow (or an export of many), other JSON, or text.

Workflows are parsed (orjson, or json for a small job: core/jsonio.py) and walked once; each
string is judged with its context.
Text (.env, compose files, anything else) is scanned with a few whole-text regex passes.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from keyturn.core import jsonio
from keyturn.core.dotenv import assignments
from keyturn.detect.findings import Finding, Location
from keyturn.detect.rules import ENV_READ, KNOWN_TOKEN, URL_PASSWORD
from keyturn.detect.values import (
    CONFIG,
    DATA,
    MIN_SECRET_LENGTH,
    MIN_UNNAMED_SECRET_LENGTH,
    NODE,
    PAIR,
    URL_USERINFO,
    FileTokens,
    Hit,
    Where,
    code_hits,
    embedded_json,
    env_reads_in,
    escape_pointer,
    is_secret_name,
    judge,
    jwk_private_members,
    may_hold_unnamed_secret,
    raw_tokens,
    tokens_in,
    url_password,
)

if TYPE_CHECKING:  # --old-secret only
    from keyturn.detect.oldsecrets import OldSecrets

_CODE_KEYS = frozenset({"jsCode", "functionCode", "pythonCode", "code", "functionCodeString"})
_SKIP_WORKFLOW_KEYS = frozenset(
    {"nodes", "connections", "id", "versionId", "meta", "tags", "shared", "activeVersion"}
)

JSON_PAIR = re.compile(r'"([A-Za-z_][\w.-]*)"\s*:\s*"([^"\\\n]{8,})')


class Held(NamedTuple):
    """The JSON string holding a hit, as the file writes it: its pointer and its text (for a
    hit inside JSON held in a string, that outer string)."""

    place: str
    text: str


Emit = Callable[[Hit, str | None, str | None, str | None, Held], None]


def is_workflow(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("nodes"), list)


def workflows_in(document: Any) -> list[tuple[str, dict[str, Any]]]:
    """(pointer prefix, workflow) for a workflow, or an `export:workflow --all` array."""
    if is_workflow(document):
        return [("", document)]
    if isinstance(document, list):
        return [(f"/{index}", item) for index, item in enumerate(document) if is_workflow(item)]
    return []


def scan_workflow(
    workflow: dict[str, Any], prefix: str, emit: Emit, tokens: FileTokens | None = None
) -> None:
    """Every secret in one workflow: node parameters, pinned data, static data; in the order
    the workflow is written in (each finding's string is looked for past the one before it).

    `tokens` are the well-known tokens found in the workflow's raw bytes (tokens_in).
    """
    name = workflow.get("name") if isinstance(workflow.get("name"), str) else None
    tokens = FileTokens() if tokens is None else tokens
    for key, value in workflow.items():
        if key == "nodes":
            _walk_nodes(value, prefix, emit, name, tokens)
        elif key not in _SKIP_WORKFLOW_KEYS and isinstance(value, dict | list):
            walk_data(value, [prefix, key], "", _Sink(emit, name, None, tokens), DATA)


def _walk_nodes(
    nodes: list[Any], prefix: str, emit: Emit, workflow: str | None, tokens: FileTokens
) -> None:
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            continue
        parameters = node.get("parameters")
        if isinstance(parameters, dict) and parameters:
            node_name = node.get("name") if isinstance(node.get("name"), str) else None
            path = [f"{prefix}/nodes/{index}/parameters"]
            _walk_node(parameters, path, "", _Sink(emit, workflow, node_name, tokens))


class _Sink(NamedTuple):  # one per node: cheap to make
    """Where the walkers send hits: the workflow and node they are in, the file's tokens, and
    the string that holds the JSON being walked, if it is held in one."""

    emit: Emit
    workflow: str | None
    node: str | None
    tokens: FileTokens
    outer: Held | None = None

    def __call__(self, hit: Hit, pointer: str, text: str) -> None:
        held = self.outer or Held(pointer, text)
        self.emit(hit, pointer, self.workflow, self.node, held)


def serialize(value: Any) -> bytes:
    """JSON bytes of data parsed elsewhere (whose integers may exceed orjson's 64 bits), as
    orjson writes them: tokens are searched for in them, and json writes some numbers and deep
    nesting otherwise (only documents with escapes, and live workflows, come here)."""
    import orjson

    try:
        return orjson.dumps(value)
    except TypeError:  # a huge integer, nesting deeper than 255, a lone surrogate
        # Unescaped, as orjson would: an escape (\u201c) before a token would hide its start.
        text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")


def parameter_hits(parameters: dict[str, Any], pointer: str) -> list[tuple[Hit, str]]:
    """Every secret typed into one node's parameters (not $env reads), with its JSON pointer."""
    found: list[tuple[Hit, str]] = []

    def keep(hit: Hit, at: str | None, workflow: str | None, node: str | None, _: Held) -> None:
        if hit.rule is not ENV_READ:
            found.append((hit, at or pointer))

    tokens = FileTokens((token, kind) for _, token, kind in tokens_in(serialize(parameters)))
    _walk_node(parameters, [pointer], "", _Sink(keep, None, None, tokens))
    return found


def _walk_node(value: Any, path: list[str], context: str, emit: _Sink) -> None:
    """Node parameters: code, embedded JSON, {name, value} pairs, $env reads.

    `path` holds raw keys; they are escaped into a JSON pointer only for a finding. Exact
    type checks (orjson and json build plain dict, list and str) keep this hot loop fast.
    """
    if len(path) > MAX_WALK_DEPTH:
        _walk_deep(value, path, context, emit, NODE)
        return
    if type(value) is dict:
        pair_name = value.get("name") if type(value.get("value")) is str else None
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                if len(item) < MIN_SECRET_LENGTH:
                    continue
                if key == "value" and type(pair_name) is str:
                    item_context, where = pair_name, PAIR  # a named header, query or field
                else:
                    item_context, where = key, NODE
                code = key in _CODE_KEYS
                if code or _may_report(item_context, item, where, emit.tokens):
                    path.append(key)
                    _judge_parameter(item_context, item, path, emit, code=code, where=where)
                    path.pop()
            elif (kind is dict or kind is list) and item:
                path.append(key)
                _walk_node(item, path, key, emit)
                path.pop()
    elif type(value) is list:
        for index, item in enumerate(value):
            kind = type(item)
            if kind is str:
                if len(item) >= MIN_SECRET_LENGTH and _may_report(context, item, NODE, emit.tokens):
                    path.append(str(index))
                    _judge_parameter(context, item, path, emit, code=False)
                    path.pop()
            elif (kind is dict or kind is list) and item:
                path.append(str(index))
                _walk_node(item, path, context, emit)
                path.pop()


def _may_report(context: str, text: str, where: Where, tokens: FileTokens) -> bool:
    """Whether `text` (not code) can give a finding: a $env read, an expression's literal
    part, embedded JSON, or what judge() reports. Exact, and cheap for the many that cannot."""
    if "env" in text:
        return True
    if len(text) >= MIN_UNNAMED_SECRET_LENGTH:
        first = text[0]
        if first == "=" or first == "{":
            # A pure expression reads values at run time: nothing literal to judge.
            return not _is_pure_expression(text)
        # may_hold_unnamed_secret, inlined: this runs for every string of a walked node.
        if "://" in text and ("@" in text or "=" in text):
            return True
        if tokens.any_in(text):
            return True
    return is_secret_name(context, where)


def _pointer(path: list[str]) -> str:
    return path[0] + "".join("/" + escape_pointer(part) for part in path[1:])


def _is_pure_expression(text: str) -> bool:
    return text.startswith("={{") and text.endswith("}}") and text.count("{{") == 1


def _judge_parameter(
    context: str, text: str, path: list[str], emit: _Sink, *, code: bool, where: Where = NODE
) -> None:
    if "env" in text:
        for variable, secret_like in env_reads_in(text, context):
            if secret_like:
                hit = Hit(ENV_READ, f"$env.{variable}", variable, f"reads $env.{variable}")
                emit(hit, _pointer(path), text)
    if code:
        for hit in code_hits(text, emit.tokens):
            emit(hit, _pointer(path), text)
        return
    if text[0] in "={":
        if _is_pure_expression(text):
            return
        embedded = embedded_json(text)
        if embedded is not None:
            if isinstance(embedded, dict | list):
                # JSON headers, query, body: their values are on the line of the string
                inside = emit._replace(outer=emit.outer or Held(_pointer(path), text))
                walk_data(embedded, list(path), context, inside, PAIR)
            return
    found = judge(context, text, where=where, tokens=emit.tokens)
    if found is not None:
        emit(found, _pointer(path), text)


def walk_data(value: Any, path: list[str], context: str, emit: _Sink, where: Where) -> None:
    """Any JSON data (pinned data, static data, JSON in a parameter, other JSON files): each
    string with its key, judged as what `where` says it is."""
    if len(path) > MAX_WALK_DEPTH:
        _walk_deep(value, path, context, emit, where)
        return
    if type(value) is dict:
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                if len(item) >= MIN_SECRET_LENGTH and _may_judge(key, item, where, emit.tokens):
                    hit = judge(key, item, where=where, tokens=emit.tokens)
                    if hit is not None:
                        emit(hit, _pointer([*path, key]), item)
            elif (kind is dict or kind is list) and item:
                path.append(key)
                walk_data(item, path, key, emit, where)
                path.pop()
    elif type(value) is list:
        for index, item in enumerate(value):
            kind = type(item)
            if kind is str:
                if len(item) >= MIN_SECRET_LENGTH and _may_judge(context, item, where, emit.tokens):
                    hit = judge(context, item, where=where, tokens=emit.tokens)
                    if hit is not None:
                        emit(hit, _pointer([*path, str(index)]), item)
            elif (kind is dict or kind is list) and item:
                path.append(str(index))
                walk_data(item, path, context, emit, where)
                path.pop()


# Deeper than this (no n8n export comes close: a hostile or generated document), the walkers
# stop recursing, so that no depth of nesting can exhaust Python's stack.
MAX_WALK_DEPTH = 200


def _walk_deep(value: Any, path: list[str], context: str, emit: _Sink, where: Where) -> None:
    """What lies below MAX_WALK_DEPTH, without recursion: every string judged as `where` says,
    with its nearest key (a node's pairs and code are not told apart down there)."""
    stack: list[tuple[Any, list[str], str]] = [(value, list(path), context)]
    while stack:
        item, at, near = stack.pop()
        if type(item) is dict:
            children = [(key, child, key) for key, child in item.items()]
        else:
            children = [(str(index), child, near) for index, child in enumerate(item)]
        for part, child, key in children:
            if type(child) is str:
                if len(child) >= MIN_SECRET_LENGTH and _may_judge(key, child, where, emit.tokens):
                    hit = judge(key, child, where=where, tokens=emit.tokens)
                    if hit is not None:
                        emit(hit, _pointer([*at, part]), child)
            elif (type(child) is dict or type(child) is list) and child:
                stack.append((child, [*at, part], key))


def _may_judge(key: str, value: str, where: Where, tokens: FileTokens) -> bool:
    """Whether judge() can report `value` under `key` (exact; most data values fail)."""
    return is_secret_name(key, where) or may_hold_unnamed_secret(value, where, tokens)


# The searches for lines may read the file this many times over (and a MiB) in all; past
# that, each looks only _NEAR bytes around the last string found. Strings met in a hostile
# order, or many not written as JSON writes them, each cost a read of the whole file.
_SEARCH_LIMIT = 32
_NEAR = 64 * 1024
# A longer string is looked for only ahead: bytes.rfind takes time in the product of the
# text's length and the needle's (a Code string met out of order took minutes).
_LONGEST_BEHIND = 256


class LineIndex:
    """Byte offsets -> line numbers, and the line where a JSON string sits in the raw file."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        # Newlines are counted from the nearest offset whose line is known: the last one
        # asked for (forward or back), or one of those kept in order before it (findings come
        # in the walk's order, then the tokens' order). Only an offset past the last kept is
        # kept: no insertion in the middle of a long list.
        self._offsets = [0]
        self._lines = [1]
        self._cursor = (0, 1)
        # Strings are looked for in the order the walk meets them, which is the file's: each
        # from the end of the last one found, and past its own last occurrence.
        self._last_found = 0
        self._found_at: dict[bytes, int] = {}
        self._absent: set[bytes] = set()
        self._search_left = _SEARCH_LIMIT * len(raw) + (1 << 20)
        self._held: Held | None = None
        self._held_from = 0
        self._held_line: int | None = None
        # Whether the file escapes more than JSON must, and whether it is all ASCII: asked
        # once, when a string is first looked for.
        self._escapes: bool | None = None
        self._ascii = False

    def line_at(self, offset: int) -> int:
        index = bisect_right(self._offsets, offset) - 1
        start, line = self._offsets[index], self._lines[index]
        cursor, cursor_line = self._cursor
        if start < cursor <= offset:
            start, line = cursor, cursor_line
        if offset < cursor < 2 * offset - start:  # nearer behind the last asked for
            line = cursor_line - self.raw.count(b"\n", offset, cursor)
        else:
            line += self.raw.count(b"\n", start, offset)
        self._cursor = (offset, line)
        if offset > self._offsets[-1]:
            self._offsets.append(offset)
            self._lines.append(line)
        return line

    def line_of_hit(self, held: Held, value: str) -> int | None:
        """The line of a hit: that of the string holding it, looked for once per string (a
        JSON string never spans lines: whatever the order its hits come in, they are on its
        line). Failing that (a string escaped in a way keyturn does not write), that of the
        value, looked for from where the string was: the last string found stays the place
        to go on from, as values of one string come in any order."""
        if held != self._held:
            self._held, self._held_from = held, self._last_found
            self._held_line = None
            for needle in self._written_forms(held.text):
                self._held_line = self._line_of(needle)
                if self._held_line is not None:
                    break
        if self._held_line is not None:
            return self._held_line
        return self._line_of(jsonio.dumps(value)[1:-1], self._held_from, move_on=False)

    def line_of_value(self, value: str) -> int | None:
        """The line where `value` is written (see _line_of)."""
        return self._line_of(jsonio.dumps(value)[1:-1])

    def _written_forms(self, text: str) -> list[bytes]:
        """The ways a file may write `text` in a JSON string: as n8n and orjson do, and, in a
        file with escapes, as Python's json does (`\\u00e9` for é) and with `/` as `\\/`."""
        plain = jsonio.dumps(text)[1:-1]
        if self._escapes is None:
            self._escapes = b"\\u" in self.raw or b"\\/" in self.raw
            self._ascii = self._escapes and self.raw.isascii()
        if not self._escapes:
            return [plain]
        ascii_only = json.dumps(text)[1:-1].encode()
        forms = [ascii_only, plain] if self._ascii else [plain, ascii_only]
        forms += [form.replace(b"/", b"\\/") for form in forms if b"/" in form]
        return list(dict.fromkeys(forms))

    def _line_of(self, needle: bytes, after: int | None = None, move_on: bool = True) -> int | None:
        """The line of `needle`'s first occurrence past `after` (by default the end of the
        last string found) and past its own last occurrence; failing that, the nearest before
        (other than its own last, unless that is the only one). None if the file does not
        hold it."""
        if needle in self._absent:
            return None
        own = self._found_at.get(needle, -1)
        start = max(self._last_found if after is None else after, own + 1)
        offset = self._ahead(needle, start)
        whole_file = start == 0
        if offset < 0 and start > 0 and len(needle) <= _LONGEST_BEHIND:  # out of order
            whole_file = True
            offset = self._behind(needle, start, own)
            if offset < 0:  # each occurrence reported already: the last again
                offset = own
        if offset < 0:
            if whole_file and self._search_left > 0:
                self._absent.add(needle)
            return None
        self._found_at[needle] = offset
        if move_on:
            self._last_found = offset + len(needle)  # the next is past it, not inside it
        return self.line_at(offset)

    def _ahead(self, needle: bytes, start: int) -> int:
        end = len(self.raw) if self._search_left > 0 else start + _NEAR
        offset = self.raw.find(needle, start, end + len(needle) - 1)
        self._search_left -= (end if offset < 0 else offset) - start
        return offset

    def _behind(self, needle: bytes, start: int, skip: int) -> int:
        begin = 0 if self._search_left > 0 else max(0, start - _NEAR)
        end = start + len(needle) - 1
        offset = self.raw.rfind(needle, begin, end)
        if offset == skip >= 0:
            offset = self.raw.rfind(needle, begin, skip + len(needle) - 1)
        self._search_left -= start - (begin if offset < 0 else offset)
        return offset


def scan_json(path: str, raw: bytes, document: Any) -> list[Finding]:
    findings: list[Finding] = []
    lines = LineIndex(raw)
    raw_found, markers = raw_tokens(raw)
    found = {(token, kind) for _, token, kind in raw_found}
    # A token written with JSON's escapes (`\u0067hp_...`, `https:\/\/hooks...`) is not one in
    # the raw bytes, only in the parsed document.
    escaped = []
    if b"\\u00" in markers or b"\\/" in markers:  # tokens are ASCII: \u00XX
        again = tokens_in(serialize(document))
        escaped = list(dict.fromkeys((t, k) for _, t, k in again if (t, k) not in found))
    tokens = FileTokens(found.union(escaped))
    reported: set[tuple[str, int | None]] = set()  # (token, line): each copy is a finding

    def emit(
        hit: Hit, pointer: str | None, workflow: str | None, node: str | None, held: Held
    ) -> None:
        line = lines.line_of_hit(held, hit.value)
        if hit.rule is KNOWN_TOKEN:
            reported.add((hit.value, line))
        findings.append(
            Finding.from_hit(hit, Location(path, line, pointer or None, workflow, node))
        )

    workflows = workflows_in(document)
    for prefix, workflow in workflows:
        scan_workflow(workflow, prefix, emit, tokens)
    if not workflows and isinstance(document, dict | list):
        walk_data(document, [""], "", _Sink(emit, None, None, tokens), CONFIG)
    # Tokens where the walk does not look (node notes, keys, JSON Web Keys...): by line.
    for offset, token, kind in [*raw_found, *jwk_private_members(raw, markers)]:
        line = lines.line_at(offset)
        if (token, line) not in reported:
            reported.add((token, line))
            hit = Hit(KNOWN_TOKEN, token, "", kind)
            findings.append(Finding.from_hit(hit, Location(path, line)))
    reported_values = {value for value, _ in reported}
    for token, kind in escaped:  # where the walk did not look: no line to give
        if token not in reported_values:
            hit = Hit(KNOWN_TOKEN, token, "", kind)
            findings.append(Finding.from_hit(hit, Location(path, None)))
    return findings


def scan_text(path: str, text: str) -> list[Finding]:
    """.env, compose and other text files: assignments, well-known tokens, URL passwords."""
    findings: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    token_lines: set[int] = set()  # lines whose every token the raw pass reported
    newline_offsets = _newlines(text)

    def add(hit: Hit, offset: int, *, raw_pass: bool = False) -> None:
        line = _line(newline_offsets, offset)
        # A variable's value holds again, unescaped, a token the raw pass found on its line.
        if hit.rule is KNOWN_TOKEN and not raw_pass and line in token_lines:
            return
        if (line, hit.value) in seen:
            return
        seen.add((line, hit.value))
        if raw_pass:
            token_lines.add(line)
        findings.append(Finding.from_hit(hit, Location(path, line)))

    raw = text.encode()
    raw_found, markers = raw_tokens(raw)
    char_offset = _CharOffsets(text, raw)
    for offset, token, kind in [*raw_found, *jwk_private_members(raw, markers)]:
        add(Hit(KNOWN_TOKEN, token, "", kind), char_offset(offset), raw_pass=True)
    if "://" in text:
        for match in URL_USERINFO.finditer(text):
            password = url_password(match.group(0))
            if password is not None:
                add(Hit(URL_PASSWORD, password, "", "password in a URL"), match.start())
    for assignment in assignments(text):
        if len(assignment.value) >= MIN_SECRET_LENGTH:
            hit = judge(assignment.name, assignment.value, where=CONFIG)
            if hit is not None:
                add(hit, assignment.offset)
    if '":' in text:  # JSON-like text that did not parse (a cut-off export, say)
        for match in JSON_PAIR.finditer(text):
            hit = judge(match.group(1), match.group(2), where=CONFIG)
            if hit is not None:
                add(hit, match.start())
    return findings


class _CharOffsets:
    """The character offset of a UTF-8 byte offset (they differ only after non-ASCII text),
    counted on from the one asked for before: tokens come in the file's order, and a count
    from the top for each made a file of many tokens take time in their product."""

    def __init__(self, text: str, raw: bytes) -> None:
        self._raw = None if text.isascii() else raw
        self._byte = self._char = 0

    def __call__(self, byte_offset: int) -> int:
        raw = self._raw
        if raw is None:
            return byte_offset
        if byte_offset < self._byte:
            self._byte = self._char = 0
        self._char += len(raw[self._byte : byte_offset].decode("utf-8", "ignore"))
        # Counted on from the start of the character the offset is in: it was not counted.
        while byte_offset < len(raw) and raw[byte_offset] & 0xC0 == 0x80:
            byte_offset -= 1
        self._byte = byte_offset
        return self._char


def _newlines(text: str) -> list[int]:
    return [match.start() for match in re.finditer("\n", text)]


def _line(newlines: list[int], offset: int) -> int:
    return bisect_right(newlines, offset - 1) + 1


def scan_old_secrets(path: str, raw: bytes, old: OldSecrets) -> Iterator[Finding]:
    """Every place a given old secret survives, in any encoding keyturn knows."""
    lines = LineIndex(raw)
    reported: set[tuple[int, str]] = set()
    for offset, hit in old.find_in(raw):
        line = lines.line_at(offset)
        if (line, hit.value) not in reported:  # one finding per line, whatever the encodings
            reported.add((line, hit.value))
            yield Finding.from_hit(hit, Location(path, line))
