"""Finding known tokens in raw bytes: the vendors' formats (token_formats.py), a few wider shapes
of the most common services, and private key blocks.

Two steps per file. A prefilter tells which formats occur in it at all; then each of those
runs alone (re2, linear time) over the file and gives the exact tokens. One regex holding all
250 formats would do it in one pass, but its automaton builds new states for every token it has
not met, and crawls (token_formats.py measures it); a format alone stays small and fast.

The prefilter is Hyperscan (the `hyperscan` package bundles it) where it is installed, which is
every platform it has wheels for: every format in one database, each reported once per file,
at about 500 MB/s on one core. Its compiled database is kept in keyturn's cache folder, so a
process loads it in a millisecond instead of compiling it for a second. Elsewhere (Linux on
ARM) re2 stands in, at about a third of the speed: one pass of an RE2::Set of the formats'
keywords says which formats may occur. Both find the same tokens (tests/unit/test_token_scan.py).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import re2

from keyturn.detect.token_formats import TOKEN_FORMATS

if TYPE_CHECKING:  # a small text is scanned without Hyperscan, so without its cache's path
    from pathlib import Path

# Wider than the vendors' formats on purpose: made-up, older or newer tokens of the services n8n
# users paste most (`sk-proj-` without OpenAI's T3BlbkFJ marker, an AWS key id with any digit).
# A token that a vendor's exact format also matches is reported under the exact format's name.
BROAD_SHAPES: tuple[tuple[str, str, str], ...] = (  # name, regex, keywords (for re2's prefilter)
    ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "akia asia"),
    (
        "GitHub token",
        r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}",
        "ghp_ gho_ ghu_ ghs_ ghr_ github_pat_",
    ),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}", "glpat-"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "xoxa- xoxb- xoxp- xoxo- xoxs- xoxr-"),
    (
        "Slack webhook",
        r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{16,}",
        "hooks.slack.com",
    ),
    (
        "Discord webhook",
        r"discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{30,}",
        "discord.com discordapp.com",
    ),
    (
        "Stripe key",
        r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
        "sk_live_ sk_test_ rk_live_ rk_test_",
    ),
    (
        "OpenAI/Anthropic key",
        r"\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        "sk-",
    ),
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}", "hf_"),
    ("Twilio key", r"\bSK[0-9a-f]{32}\b", "sk"),
    ("Telegram bot token", r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b", ":aa"),
    ("Shopify token", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}", "shpat_ shpss_ shpca_ shppa_"),
    ("Mailgun key", r"\bkey-[0-9a-f]{32}\b", "key-"),
)
# The whole block, its lines broken by real newlines or by escaped ones (`\\n` in JSON, in a
# string inside code, or doubly escaped), or written as concatenated strings in code
# (`'...\\n' + '...'`), so that its body can be judged.
PRIVATE_KEY = re2.compile(
    rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    rb"[A-Za-z0-9+/=\\\r\n\t :,.()'\"`-]{40,}?"
    rb"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
)
PRIVATE_KEY_KIND = "private key"
# Byte strings that decide whether a slower search runs on a file: a private key block, a JSON
# Web Key, JSON's escapes (a token written `\u0067hp_...`). The prefilter reports them with
# the formats, in its one pass over the file; looked for one by one, they took a pass each,
# more in all than the prefilter's own (docs/benchmarks.md).
MARKERS: tuple[bytes, ...] = (b"PRIVATE KEY", b"kty", b"\\u00", b"\\/")

Found = tuple[int, str, str]  # (byte offset, token, kind)


class RawTokens(NamedTuple):
    """What one pass found in a file's bytes: its tokens, and which MARKERS it holds."""

    found: list[Found]
    markers: frozenset[bytes]


class Shape(NamedTuple):
    """One format the scanner looks for: its name, its regex, and the prefilter's keywords."""

    name: str
    pattern: str
    keywords: tuple[str, ...]

    @property
    def regex(self) -> Any:
        return _compiled(self.pattern)

    def finditer(self, raw: bytes) -> Iterator[tuple[int, int]]:
        """(start, end) of each match in `raw`, as `regex.finditer` gives them.

        A pattern that opens with a word boundary (`\\bghp_`) keeps re2 from skipping ahead to
        its fixed text with memchr, and scans four times slower. So the pattern runs without
        it, and a match found where no word begins is searched again with the real pattern.
        """
        loose = _loose(self.pattern)
        if loose is None:
            for match in self.regex.finditer(raw):
                yield match.start(), match.end()
            return
        position = 0
        while (match := loose.search(raw, position)) is not None:
            start = match.start()
            if start and raw[start - 1] in _WORD_BYTES:
                match = self.regex.search(raw, start + 1)
                if match is None:
                    return
            yield match.start(), match.end()
            position = match.end()


# The vendors' distinctive formats, and the JSON Web Token (not distinctive, but long reported
# anywhere); the others (`live_` + 30 characters...) are also ids, and only their place tells.
EXACT_FORMATS = tuple(
    fmt for fmt in TOKEN_FORMATS if fmt.distinctive or fmt.name == "JSON Web Token"
)


def _shapes() -> tuple[Shape, ...]:
    """The exact formats first (their names win over the broad shapes')."""
    exact = [Shape(fmt.name, fmt.pattern, fmt.keywords) for fmt in EXACT_FORMATS]
    broad = [Shape(name, pattern, tuple(words.split())) for name, pattern, words in BROAD_SHAPES]
    return (*exact, *broad)


SHAPES: tuple[Shape, ...] = _shapes()


@cache
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern.encode())


_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


@cache
def _loose(pattern: str) -> Any:
    """The pattern without its opening word boundary, when it opens with one followed by a
    character (not a class or a group) and has no other alternative at the top."""
    if (
        not pattern.startswith("\\b")
        or pattern[2:3] in ("", "[", "(", "\\")
        or _has_top_bar(pattern)
    ):
        return None
    return re2.compile(pattern[2:].encode())


def _has_top_bar(pattern: str) -> bool:
    depth, escaped = 0, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


def prepare() -> None:
    """Load (or compile and cache) the prefilter now: before worker processes start, so that
    they inherit it or load the cached database instead of each compiling it."""
    _prefilter(None)


def find_tokens(
    raw: bytes, *, engine: str | None = None, keep: Callable[[str, str], bool] | None = None
) -> list[Found]:
    """(offset, token, kind) of every known token and private key block in `raw`, in file
    order. `keep(token, kind)` drops what is not a token (placeholders) before overlapping
    matches are resolved, so a placeholder never hides a real token it touches."""
    return scan_raw(raw, engine=engine, keep=keep).found


def scan_raw(
    raw: bytes, *, engine: str | None = None, keep: Callable[[str, str], bool] | None = None
) -> RawTokens:
    """find_tokens(), and which MARKERS occur in `raw`."""
    present = _prefilter_for(raw, engine)(raw)
    spans: list[tuple[int, int, int]] = []  # (start, rank, end)
    markers = []
    for rank in present:
        if rank < _MARKER_RANKS.start:
            spans.extend((start, rank, end) for start, end in SHAPES[rank].finditer(raw))
        else:
            markers.append(MARKERS[rank - _MARKER_RANKS.start])
    found = _without_overlaps(raw, sorted(spans), keep)
    if b"PRIVATE KEY" in markers:
        for match in PRIVATE_KEY.finditer(raw):
            # A BEGIN line left without its END (a placeholder, a cut-off block) runs on to the
            # next block's END: the block is what follows the last BEGIN.
            last = match.group(0).rfind(b"-----BEGIN ")
            block = match.group(0)[last:].decode("utf-8", "replace")
            if keep is None or keep(block, PRIVATE_KEY_KIND):
                found.append((match.start() + last, block, PRIVATE_KEY_KIND))
        found.sort()
    return RawTokens(found, frozenset(markers))


def _without_overlaps(
    raw: bytes, spans: list[tuple[int, int, int]], keep: Callable[[str, str], bool] | None
) -> list[Found]:
    """One finding per token: a match inside one already taken is the same token under another
    name (the broad shape of an exact format, the API key inside a webhook URL); one that
    starts a word inside it and runs past its end is a token of its own."""
    found: list[Found] = []
    taken_start, reached = -1, -1
    for start, rank, end in spans:
        if start < reached and not (
            start > taken_start and end > reached and raw[start - 1] not in _WORD_BYTES
        ):
            continue
        token, kind = raw[start:end].decode("utf-8", "replace"), SHAPES[rank].name
        if keep is None or keep(token, kind):
            found.append((start, token, kind))
            taken_start, reached = start, end
    return found


Prefilter = Callable[[bytes], Iterable[int]]  # the ranks of SHAPES, then of MARKERS, found
# Until a process has searched this much text, and while Hyperscan is not loaded, each keyword
# is looked for in turn (2 to 16 ms for up to 64 KiB): loading Hyperscan (40 ms) or compiling
# re2's keyword set (17 ms) would cost a pre-commit hook's scan of one small file more than
# the scan itself. Past it, the prefilter loads: the keywords are ten times slower per byte.
SMALL_TEXT_BYTES = 64 * 1024
_searched = 0  # bytes this process has searched for tokens


def _prefilter_for(raw: bytes, engine: str | None) -> Prefilter:
    global _searched
    _searched += len(raw)
    small = _searched < SMALL_TEXT_BYTES and _prefilter.cache_info().currsize == 0
    if engine == "keywords" or (engine is None and small):
        return _keyword_prefilter()
    return _prefilter(engine)


@cache
def _prefilter(engine: str | None) -> Prefilter:
    """Hyperscan when installed and working (or asked for), re2 otherwise (or asked for)."""
    if engine != "re2":
        try:
            return _HyperscanPrefilter()
        except Exception:  # not installed, or no database on this CPU: re2 finds the same
            if engine == "hyperscan":
                raise
    return _Re2Prefilter()


class _HyperscanPrefilter:
    """Which formats and markers occur in a text: one Hyperscan pass, each reported once."""

    def __init__(self) -> None:
        import hyperscan

        self._database = _load_or_compile_database(hyperscan)

    def __call__(self, raw: bytes) -> set[int]:
        present: set[int] = set()

        def on_match(rank: int, start: int, end: int, flags: int, context: object) -> None:
            present.add(rank)

        self._database.scan(raw, match_event_handler=on_match)
        return present


# Every exact format's example, one per line, and every marker inside a line of text (as in a
# file, not alone on a line): a database must report each.
_CANARY = b"\n".join(
    [*(fmt.example.encode() for fmt in EXACT_FORMATS), b"x: " + b" x ".join(MARKERS) + b" x"]
)
_MARKER_RANKS = range(len(SHAPES), len(SHAPES) + len(MARKERS))
_MAX_DATABASE_BYTES = 64 << 20


def _load_or_compile_database(hyperscan: Any) -> Any:
    """The compiled database from keyturn's cache, or compiled now and cached (best effort: no
    cache folder costs a second per process, nothing else). A cached database is used only if
    it is this user's own regular file, writable by no one else, and finds every format's
    example; anything else is compiled again."""
    cached = _database_cache_path(hyperscan)
    if cached is not None:
        database = _cached_database(hyperscan, cached)
        if database is not None:
            return database
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    expressions = [shape.pattern.encode() for shape in SHAPES] + [
        _literal_pattern(marker) for marker in MARKERS
    ]
    database.compile(
        expressions=expressions,
        ids=list(range(len(expressions))),
        elements=len(expressions),
        flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(expressions),
    )
    if cached is not None:
        _write_atomically(cached, hyperscan.dumpb(database))
    return database


def _literal_pattern(literal: bytes) -> bytes:
    """A regex matching `literal` exactly: each byte that is not an ASCII letter, digit or space
    written as \\xNN."""
    return b"".join(
        bytes([byte]) if byte in _PLAIN_BYTES else b"\\x%02x" % byte for byte in literal
    )


_PLAIN_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ")


def _cached_database(hyperscan: Any, path: Path) -> Any | None:
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return None  # none cached yet, or a symbolic link
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(stream.fileno())
        if not _trusted(status):
            return None
        data = stream.read(_MAX_DATABASE_BYTES)
    try:
        database = hyperscan.loadb(data, hyperscan.HS_MODE_BLOCK)
        database.scratch = hyperscan.Scratch(database)
        present: set[int] = set()
        database.scan(_CANARY, match_event_handler=lambda rank, *_: present.add(rank))
    except Exception:  # from another build, cut short, not a block database
        return None
    expected = {*range(len(EXACT_FORMATS)), *_MARKER_RANKS}  # the exact formats come first
    if not expected <= present or max(present) >= _MARKER_RANKS.stop:
        return None
    return database


def _trusted(status: os.stat_result) -> bool:
    owner_ok = not hasattr(os, "getuid") or status.st_uid == os.getuid()
    return stat.S_ISREG(status.st_mode) and owner_ok and not status.st_mode & 0o022


def _database_cache_path(hyperscan: Any) -> Path | None:
    """Named by the formats and the Hyperscan version: a change of either compiles anew. None
    without a usable cache folder (no home, a relative XDG_CACHE_HOME)."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    for shape in SHAPES:
        digest.update(shape.pattern.encode() + b"\0")
    for marker in MARKERS:
        digest.update(_literal_pattern(marker) + b"\0")
    digest.update(hyperscan.__version__.encode())
    configured = os.environ.get("XDG_CACHE_HOME", "")
    try:
        base = Path(configured) if os.path.isabs(configured) else Path.home() / ".cache"
    except (RuntimeError, KeyError, OSError):  # no home directory (an arbitrary container uid)
        return None
    if not base.is_absolute():
        return None
    return base / "keyturn" / f"token-formats-{digest.hexdigest()[:16]}.hsdb"


def _write_atomically(path: Path, data: bytes) -> None:
    import tempfile  # here: a scan that finds the database cached never needs it

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".token-formats-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


class _Re2Prefilter:
    """Which formats may occur in a text, with re2 alone: one pass of an RE2::Set of every
    format's keywords (case-insensitive) tells which keywords occur; a format may occur where
    one of its keywords does."""

    def __init__(self) -> None:
        options = re2.Options()
        options.case_sensitive = False
        words = sorted({word for shape in SHAPES for word in shape.keywords})
        self._keywords = re2.Set.SearchSet(options)
        for word in words:
            self._keywords.Add(re2.escape(word).encode())
        self._keywords.Compile()
        self._shapes_of = [
            [rank for rank, shape in enumerate(SHAPES) if word in shape.keywords] for word in words
        ]

    def __call__(self, raw: bytes) -> set[int]:
        present = _markers_in(raw)
        for index in self._keywords.Match(raw) or ():
            present.update(self._shapes_of[index])
        return present


def _markers_in(raw: bytes) -> set[int]:
    """The ranks of the MARKERS in `raw`, each looked for in turn (where Hyperscan is not)."""
    return {rank for rank, marker in zip(_MARKER_RANKS, MARKERS, strict=True) if marker in raw}


@cache
def _keyword_prefilter() -> Prefilter:
    """Which formats may occur in a small text: each keyword looked for in the lower-cased
    text (ASCII case, as Hyperscan sees it)."""
    ranks_of: dict[bytes, list[int]] = {}
    for rank, shape in enumerate(SHAPES):
        for word in shape.keywords:
            ranks_of.setdefault(word.lower().encode(), []).append(rank)
    keywords = tuple(ranks_of.items())

    def present(raw: bytes) -> set[int]:
        lowered = raw.lower()
        found = _markers_in(raw)
        for word, ranks in keywords:
            if word in lowered:
                found.update(ranks)
        return found

    return present
