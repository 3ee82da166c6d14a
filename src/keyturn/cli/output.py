"""Terminal output that loads Rich only when it changes what is printed.

Rich renders keyturn's lines for terminals (colours, spinners). Into a pipe or a file it writes
plain text, wrapped at the console's width; for text whose every character is one cell wide
that is simple to do exactly as Rich does (`plain_text`, tested against Rich), so
`keyturn scan FILE` in a pre-commit hook or CI does not pay for importing Rich
(docs/benchmarks.md, "Start-up"). Anything else (colours, escapes, wide characters) goes
through Rich.
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, TextIO

from keyturn.core.errors import KeyturnError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

# Characters Rich prints one cell wide and unchanged: printable ASCII and the ellipsis of the
# scanner's previews. A line of anything else goes through Rich.
_ONE_CELL = frozenset(map(chr, range(0x20, 0x7F))) | {"…"}
_WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces around it (rich._wrap.re_word)
_TRAILING_SPACE = re.compile(r"\s+$")


@cache
def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def progress() -> Progress:
    """A spinner with the elapsed time on stderr, erased when done."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    )


def console_width(stream: TextIO, width: int | None = None) -> int | None:
    """The width a Rich `Console(file=stream, width=width)` wraps at, when it writes plain text
    there; None when Rich would write more than the text (a terminal, FORCE_COLOR,
    TTY_COMPATIBLE) or keyturn cannot tell what it would write.

    Mirrors `rich.console.Console.size` for a console that is not a terminal: `width`, else
    COLUMNS, else the size of the first of stdin, stdout and stderr that is a terminal, else 80.
    """
    if os.name != "posix" or "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return None
    try:
        if stream.isatty():
            return None
    except ValueError:  # closed
        return None
    if width is not None:
        return width
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for descriptor in (0, 1, 2):
        try:
            return os.get_terminal_size(descriptor).columns or 80
        except (AttributeError, ValueError, OSError):
            pass
    return 80


def plain_text(lines: list[str], width: int | None, stream: TextIO) -> str | None:
    """What Rich would write for `lines` (each printed as plain text) on a console of `width`
    that is not a terminal, when keyturn can tell (one-cell characters, a UTF-8 stream); else
    None."""
    if width is None or width < 1 or (stream.encoding or "").lower() not in ("utf-8", "utf8"):
        return None
    if not all(_ONE_CELL.issuperset(line) for line in lines):
        return None
    return "".join(f"{part}\n" for line in lines for part in _wrap(line, width))


def _wrap(line: str, width: int) -> list[str]:
    """`line` cut into lines of at most `width` as `rich.text.Text.wrap` cuts it (justify
    "default", overflow "fold") when each character is one cell: at the start of the word that
    does not fit; a word longer than a line in pieces; spaces past the end dropped."""
    if len(line) <= width:
        return [line]
    breaks: list[int] = []
    used = 0  # cells taken on the current line
    for match in _WORD.finditer(line):  # rich._wrap.divide_line
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - used >= length:
            used += len(word)
        elif length > width:
            pieces = [word[index : index + width] for index in range(0, len(word), width)]
            for piece in pieces[:-1]:
                if start:
                    breaks.append(start)
                start += len(piece)
            if start:
                breaks.append(start)
            used = len(pieces[-1])
        elif used and start:
            breaks.append(start)
            used = len(word)
    offsets = [0, *breaks, len(line)]
    wrapped = []
    for begin, end in pairwise(offsets):
        part = line[begin:end]
        spaces = _TRAILING_SPACE.search(part)
        if len(part) > width and spaces:  # Text.rstrip_end
            part = part[: len(part) - min(len(spaces.group()), len(part) - width)]
        wrapped.append(part[:width])  # Text.truncate
    return wrapped


def write_lines(lines: list[str], stream: TextIO | None = None) -> None:
    """Print `lines` as plain text (data, never markup, control characters escaped) as a Rich
    console would: by keyturn when `plain_text` can tell what that is, through Rich otherwise."""
    stream = stream or sys.stdout
    text = plain_text(lines, console_width(stream), stream)
    if text is not None:
        stream.write(text)
        return
    from rich.console import Console

    from keyturn.formats.safe_text import plain

    console = stderr_console() if stream is sys.stderr else Console(file=stream)
    for line in lines:
        console.print(plain(line))


def print_error(exc: KeyturnError) -> None:
    """`keyturn: error: ...` on one line, in red on a terminal."""
    from keyturn.core.redact import redact
    from keyturn.formats.safe_text import visible  # names in errors come from n8n's editors

    text = visible(redact(str(exc)))
    if os.environ.get("NO_COLOR") or not sys.stderr.isatty():
        print(f"keyturn: error: {text}", file=sys.stderr)
    else:
        from rich.text import Text

        stderr_console().print(
            Text.assemble(("keyturn: error: ", "bold red"), text), highlight=False
        )
