"""`keyturn scan`: files and folders (exports, .env, compose, any text) and the live instance.

Files are read one at a time (memory stays bounded) and, when there are many, spread over
worker processes. Whatever cannot be read is reported as skipped with a reason; the scan goes on.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from keyturn.core import jsonio
from keyturn.core.memory import cyclic_gc_paused
from keyturn.detect.documents import scan_json, scan_old_secrets, scan_text, serialize
from keyturn.detect.findings import Finding, Location, ScanResult, Skipped
from keyturn.detect.rules import DANGLING_REFERENCE, DUPLICATE_NAME
from keyturn.detect.values import Hit

if TYPE_CHECKING:  # files are scanned without loading the n8n client
    from keyturn.detect.oldsecrets import OldSecrets
    from keyturn.n8n.client import N8nClient

DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", ".mypy_cache"})
_BINARY_PROBE = 8192
_PARALLEL_MIN_FILES = 64
_BATCHES_PER_WORKER = 8


class ScanOptions(NamedTuple):
    old_secrets: tuple[str, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    workers: int = 0  # 0: one per core when there are many files


def discover(paths: list[Path], result: ScanResult) -> Iterator[str]:
    """Every regular file under `paths`; folders recursively, without following symlinks."""
    for root in paths:
        if root.is_symlink() and root.is_dir():
            result.skipped.append(
                Skipped(shown(str(root)), "symbolic link to a folder: not followed")
            )
        elif root.is_file():
            yield str(root)
        elif root.is_dir():
            yield from _walk(str(root), result)
        elif root.exists():
            result.skipped.append(Skipped(shown(str(root)), "not a regular file"))
        else:
            result.skipped.append(Skipped(shown(str(root)), "no such file or folder"))


def _walk(folder: str, result: ScanResult) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        result.skipped.append(Skipped(shown(folder), f"cannot list folder: {exc.strerror}"))
        return
    for entry in entries:
        try:
            if entry.is_symlink():
                if entry.is_dir():
                    result.skipped.append(
                        Skipped(shown(entry.path), "symbolic link to a folder: not followed")
                    )
                    continue
                if not entry.is_file():
                    result.skipped.append(Skipped(shown(entry.path), "broken symbolic link"))
                    continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    yield from _walk(entry.path, result)
            elif entry.is_file():
                yield entry.path
            else:
                result.skipped.append(Skipped(shown(entry.path), "not a regular file"))
        except OSError as exc:
            result.skipped.append(Skipped(shown(entry.path), f"cannot read: {exc.strerror}"))


def shown(path: str) -> str:
    """The path as reports show it: a name that is not UTF-8 (its bytes kept in the str as
    surrogates) with those bytes written \\xNN, instead of failing every report."""
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return path


def scan_file(path: str, options: ScanOptions) -> ScanResult:
    """One file: findings, or a reason it was skipped. Never raises for a bad file."""
    result = ScanResult()
    opened, path = path, shown(path)
    try:
        status = os.stat(opened)
        if not stat.S_ISREG(status.st_mode):
            result.skipped.append(Skipped(path, "not a regular file"))
            return result
        if status.st_size > options.max_file_bytes:
            result.skipped.append(Skipped(path, f"larger than {options.max_file_bytes} bytes"))
            return result
        with open(opened, "rb", buffering=0) as handle:  # one read: no buffer needed
            raw = handle.read()
    except OSError as exc:
        result.skipped.append(Skipped(path, f"cannot read: {exc.strerror or exc}"))
        return result
    if raw.find(b"\0", 0, _BINARY_PROBE) >= 0:  # not `in raw[:N]`: no copy of N bytes
        result.skipped.append(Skipped(path, "binary file"))
        return result
    result.files_scanned, result.bytes_scanned = 1, len(raw)
    if options.old_secrets:
        result.findings.extend(scan_old_secrets(path, raw, _old_secrets(options.old_secrets)))
    result.findings.extend(_scan_content(path, raw, result))
    return result


# Built once per scan, not once per file (every encoding of every value); only the last is
# kept, and its values are held for redaction anyway.
@lru_cache(maxsize=1)
def _old_secrets(values: tuple[str, ...]) -> OldSecrets:
    from keyturn.detect.oldsecrets import OldSecrets  # only for --old-secret: its encodings

    return OldSecrets(list(values))


def _scan_content(path: str, raw: bytes, result: ScanResult) -> list[Finding]:
    head = raw[:256].lstrip()[:1]
    if head in (b"{", b"["):
        try:
            document = jsonio.loads(raw)
        except ValueError as exc:
            if path.endswith(".json"):
                result.skipped.append(Skipped(path, f"malformed JSON ({exc}); scanned as text"))
        else:
            try:
                return scan_json(path, raw, document)
            except RecursionError:  # nested deeper than Python's stack: a hostile document
                reason = "JSON nested too deeply to walk; scanned as text"
                result.skipped.append(Skipped(path, reason))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        result.skipped.append(Skipped(path, "not UTF-8 text"))
        result.files_scanned, result.bytes_scanned = 0, 0
        return []
    return scan_text(path, text)


Numbered = list[tuple[int, str]]  # (its place in the order files were found, path)


def _scan_batch(batch: Numbered, options: ScanOptions) -> tuple[ScanResult, list[int]]:
    """The batch's findings, and the number of the file each skipped entry is about: batches
    go by size, and the skipped files are listed in the order they were found."""
    total, numbers = ScanResult(), []
    with cyclic_gc_paused():
        for number, path in batch:
            part = scan_file(path, options)
            numbers.extend([number] * len(part.skipped))
            total.merge(part)
    return total, numbers


def _prepare_large_job() -> None:
    """orjson and Hyperscan from the start, whether a worker was forked (and has them already)
    or spawned (macOS, and Linux from Python 3.14)."""
    from keyturn.detect.token_scan import prepare

    prepare()
    jsonio.expect_large_job()


def _balanced_batches(files: Numbered, count: int, max_file_bytes: int) -> list[Numbered]:
    """`count` batches of about the same size in bytes, so that no worker is left scanning a
    batch of large files while the others wait: the files dealt out largest first, round by
    round, so that each batch is a little lighter than the one before and the last to be
    taken are the lightest. A file that will be skipped (too large, gone) weighs nothing."""

    def size(item: tuple[int, str]) -> int:
        try:
            size = os.stat(item[1]).st_size
        except OSError:  # scan_file reports it
            return 0
        return size if size <= max_file_bytes else 0

    by_size = sorted(files, key=size, reverse=True)
    return [batch for index in range(count) if (batch := by_size[index::count])]


def scan_paths(paths: list[Path], options: ScanOptions) -> ScanResult:
    result = ScanResult()
    files = list(enumerate(discover(paths, result)))
    skipped_numbers = [-1] * len(result.skipped)  # skipped while the folders were listed
    workers = options.workers or (os.cpu_count() or 1)
    if workers > 1 and len(files) >= _PARALLEL_MIN_FILES:
        from concurrent.futures import ProcessPoolExecutor  # only now: 30 ms of imports

        _prepare_large_job()  # here (the report), and in each worker below
        batches = _balanced_batches(files, workers * _BATCHES_PER_WORKER, options.max_file_bytes)
        with ProcessPoolExecutor(workers, initializer=_prepare_large_job) as pool:
            # Submitted (the workers started) before the collector is paused in this process
            parts = pool.map(_scan_batch, batches, [options] * len(batches))
            with cyclic_gc_paused():  # while the workers' findings are unpickled
                for part, numbers in parts:
                    result.merge(part)
                    skipped_numbers.extend(numbers)
        # As one process lists them (a stable sort: a file's own entries keep their order)
        ordered = sorted(zip(skipped_numbers, result.skipped, strict=True), key=itemgetter(0))
        result.skipped = [entry for _, entry in ordered]
    else:
        result.merge(_scan_batch(files, options)[0])
    return result


def scan_instance(client: N8nClient, options: ScanOptions) -> ScanResult:
    """Every workflow of the live instance, and its credentials' names and references."""
    result = ScanResult()
    base = f"n8n://{client.connection.name}/workflows"
    old = _old_secrets(options.old_secrets)
    workflows = []
    for document in client.iter_workflow_documents():
        workflows.append(document)
        path = f"{base}/{document.get('id', '?')}"
        result.workflows_scanned += 1
        try:
            document, raw = _readable(document)
            found = scan_json(path, raw, document)
        except RecursionError:  # json.dumps of a workflow nested about 1000 deep
            result.skipped.append(Skipped(path, "workflow nested too deeply to read"))
            continue
        # Live workflows have no lines: locations are the JSON pointer, workflow and node.
        for finding in found:
            result.findings.append(finding._replace(location=finding.location._replace(line=None)))
        name = document.get("name") if isinstance(document.get("name"), str) else None
        if old:
            for _, hit in old.find_in(raw):
                result.findings.append(Finding.from_hit(hit, Location(path, None, None, name)))
    result.findings.extend(_credential_findings(client, workflows, base))
    return result


def _readable(document: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The workflow and its JSON bytes, with each lone surrogate escape (n8n's API may hand
    one back, in a node's name say; httpx's json reads it as is, and no report can write it)
    turned into `?`."""
    raw = serialize(document)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        text = json.dumps(document, ensure_ascii=False).encode("utf-8", "replace")
        document = json.loads(text)
        raw = serialize(document)
    return document, raw


def _credential_findings(
    client: N8nClient, documents: list[dict[str, object]], base: str
) -> list[Finding]:
    from keyturn.inventory.usage import FlagCode, build_usage_index
    from keyturn.n8n.models import Workflow

    index = build_usage_index(
        client.list_credentials(), [Workflow.model_validate(d) for d in documents]
    )
    findings = []
    for flag in index.flags:
        if flag.code is FlagCode.DANGLING_REFERENCE:
            rule = DANGLING_REFERENCE
        elif flag.code is FlagCode.DUPLICATE_NAME:
            rule = DUPLICATE_NAME
        else:
            continue
        path = (
            f"{base}/{flag.workflow_id}"
            if flag.workflow_id
            else f"n8n://{client.connection.name}/credentials/{flag.credential_id}"
        )
        location = Location(path, None, None, flag.workflow_name, flag.node_name)
        hit = Hit(rule, flag.credential_id or "", "credential", flag.message)
        finding = Finding.from_hit(hit, location)
        findings.append(
            Finding(
                rule,
                location,
                "credential",
                flag.message,
                flag.credential_id or "",
                finding.fingerprint,
                finding.value_digest,
            )
        )
    return findings


def run_scan(paths: list[Path], client: N8nClient | None, options: ScanOptions) -> ScanResult:
    started = time.perf_counter()
    result = scan_paths(paths, options) if paths else ScanResult()
    if client is not None:
        result.merge(scan_instance(client, options))
    result.seconds = time.perf_counter() - started
    result.findings.sort(key=lambda f: (-f.rule.severity, f.location.path, f.location.line or 0))
    return result
