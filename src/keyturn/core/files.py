"""Files that hold secrets: read one (Docker secrets style), write one atomically, keep its
owner, group and mode, and write through a symlink to the file it names."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from keyturn.core.errors import ConfigError, StoreError

_EFFECTIVE = {"effective_ids": True} if os.access in os.supports_effective_ids else {}


def read_secret_file(path: Path, setting: str, *, allow_empty: bool = False) -> str:
    """Read a secret from a file (surrounding whitespace removed); a clear error if that fails."""
    try:
        value = path.expanduser().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"{setting} points at {path}, which does not exist.", "Fix the path."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"Cannot read {path} ({setting}): {exc.strerror}.", "Check its permissions."
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path} ({setting}) is not UTF-8 text.", "Write the key as plain text."
        ) from None
    if not value and not allow_empty:
        raise ConfigError(f"{path} ({setting}) is empty.", "Write the secret into the file.")
    return value


def write_target(path: Path) -> Path:
    """The file a write of `path` changes: `path`, or the file at the end of its symlinks (a
    Docker secret or a config file linked from elsewhere; replacing the link would cut it loose).

    A link is followed only when its owner is root, this user or the target's owner (the
    kernel's protected_symlinks rule): another user who may write the folder cannot point it at
    a file of ours. A Kubernetes projected volume (`..data`) is refused: the kubelet puts its
    own content back, so a write there would be silently undone.
    """
    if not path.is_symlink():
        return path
    try:
        target = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a loop (RuntimeError before Python 3.13)
        raise StoreError(f"{path} is a symlink loop.", "Point it at a file.") from None
    if any(part.startswith("..") and part not in ("..",) for part in target.parts):
        raise StoreError(
            f"{path} is in a Kubernetes projected volume ({target}): the kubelet would put the "
            "old value back.",
            "Write back to the Kubernetes Secret itself (or to Vault), not to its mount.",
        )
    _check_link_owners(path, target)
    return target


def _check_link_owners(path: Path, target: Path) -> None:
    target_owner = target.stat().st_uid if target.exists() else os.geteuid()
    trusted = {0, os.geteuid(), target_owner}
    link: Path | None = path
    for _ in range(40):  # the kernel's own limit on a chain of links
        if link is None or not link.is_symlink():
            return
        owner = link.lstat().st_uid
        if owner not in trusted:
            raise StoreError(
                f"{link} is a symlink owned by uid {owner}, who owns neither it nor {target}: "
                "keyturn does not follow it.",
                "Point the write-back at the file itself.",
            )
        nxt = Path(os.readlink(link))
        link = nxt if nxt.is_absolute() else link.parent / nxt


def write_atomically(path: Path, content: str, *, mode: int | None = None) -> None:
    """Write `content` to `path` (through its symlinks) via a temporary file in the same
    folder and a rename: a reader sees the old or the new content, never half. The file's
    owner and group are kept, and its mode unless `mode` is given (a new file is 0600)."""
    target = write_target(path)
    try:
        before: os.stat_result | None = target.stat()
    except FileNotFoundError:
        before = None
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise StoreError(
            f"Cannot write next to {target}: {exc.strerror}.", "Check the folder's permissions."
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
            handle.flush()
            _take_on(handle.fileno(), before)
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise StoreError(
            f"Cannot write {target}: {exc.strerror}.", "Check its permissions and owner."
        ) from None
    sync_folder(target.parent)


def _take_on(descriptor: int, before: os.stat_result | None) -> None:
    """Give the new file the old one's owner, group and mode (0600 when there was none)."""
    if before is None:
        os.fchmod(descriptor, 0o600)
        return
    now = os.fstat(descriptor)
    if (now.st_uid, now.st_gid) != (before.st_uid, before.st_gid):
        os.fchown(descriptor, before.st_uid, before.st_gid)
    os.fchmod(descriptor, stat.S_IMODE(before.st_mode))


def sync_folder(folder: Path) -> None:
    """Make a new name in `folder` durable (a rename, a new key): best effort, not every file
    system allows it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def create_private_file(path: Path, data: bytes) -> None:
    """Create `path` readable by its owner alone from the first instant (0600 whatever the
    umask; never through a symlink); FileExistsError when it is already there."""
    descriptor = os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
    )
    try:
        view = memoryview(data)
        while view:  # one write may take only part (over 2 GiB on Linux)
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def editing(path: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the lock of `path` (a `.NAME.keyturn.lock` file beside the file it names), so two
    keyturn processes editing one file take turns and neither loses the other's change."""
    target = write_target(path)
    lock = FileLock(target.with_name(f".{target.name}.keyturn.lock"), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout:
        raise StoreError(
            f"Another process has been editing {target} for {timeout:.0f}s.",
            "Wait for it to finish (another keyturn run?), then run keyturn again.",
        ) from None


def check_writable(path: Path) -> None:
    """Fail now, with one line, if `write_atomically(path)` would fail or could not keep the
    file's owner, group and links."""
    target = write_target(path)
    via = f"{path} is a symlink to {target}; " if target != path else ""
    folder = target.parent
    if not folder.is_dir():
        raise StoreError(
            f"{via}the folder of {target} does not exist.", "Create it, or fix the path."
        )
    if not os.access(folder, os.W_OK | os.X_OK, **_EFFECTIVE):
        raise StoreError(
            f"{via}keyturn cannot create files in {folder} (a read-only mount?), so it cannot "
            f"replace {target.name} atomically.",
            "Write back to where the file comes from (Vault, the Kubernetes Secret), or make "
            "that folder writable for this user.",
        )
    if not target.exists():
        return
    if not os.access(target, os.W_OK, **_EFFECTIVE):
        raise StoreError(
            f"{via}{target} is not writable by this user.",
            "Fix its permissions, or run keyturn as its owner.",
        )
    _check_keepable(target, via)


def _check_keepable(target: Path, via: str) -> None:
    status = target.stat()
    if status.st_nlink > 1:
        raise StoreError(
            f"{via}{target} has {status.st_nlink} hard links: replacing it would leave the "
            "others with the old value.",
            "Point keyturn at a file with a single link.",
        )
    if not _may_give_to(status.st_uid, status.st_gid):
        raise StoreError(
            f"{via}{target} belongs to uid {status.st_uid} gid {status.st_gid}, and keyturn "
            f"(uid {os.geteuid()}) could not keep that owner on the replaced file.",
            "Run keyturn as that user, or as root.",
        )


def _may_give_to(uid: int, gid: int) -> bool:
    """Whether this process may chown a file it creates to `uid`:`gid`."""
    if os.geteuid() == 0:
        return True
    return uid == os.geteuid() and (gid == os.getegid() or gid in os.getgroups())
