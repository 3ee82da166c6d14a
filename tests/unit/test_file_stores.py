"""Write-back to files as deployments hold them: owned by another user, behind a symlink (a
Docker secret, a Kubernetes projected volume's `..data`), with a .env backup. Real files; the
tests run as root (as CI's container does) and switch the effective user where a test needs
an ordinary one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from keyturn.core.errors import StoreError
from keyturn.core.files import create_private_file
from keyturn.locations.local import EnvFileStore, FileStore

OTHER_UID, OTHER_GID = 2345, 3456
USER_UID, USER_GID = 1234, 1234

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown and seteuid need root")


@contextlib.contextmanager
def acting_as(uid: int, gid: int) -> Iterator[None]:
    """Run the block with an ordinary user's effective ids (the real ids stay root's)."""
    groups = os.getgroups()
    os.setgroups([gid])
    os.setegid(gid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder any user can reach and write (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="keyturn-files-", dir="/tmp"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        for path in sorted(folder.rglob("*"), reverse=True):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        folder.rmdir()


def owner_and_mode(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)


@needs_root
def test_write_back_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    secret = tmp_path / "partner_api_key"
    secret.write_text("old-value\n")
    os.chown(secret, OTHER_UID, OTHER_GID)
    secret.chmod(0o640)
    store = FileStore(secret)
    store.preflight()
    store.write("new-value")
    assert secret.read_text() == "new-value\n"
    assert owner_and_mode(secret) == (OTHER_UID, OTHER_GID, 0o640)


@needs_root
def test_env_file_write_back_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("A=1\nKEY=old\n")
    os.chown(env_file, OTHER_UID, OTHER_GID)
    env_file.chmod(0o660)
    EnvFileStore(env_file, "KEY").write("new")
    assert env_file.read_text() == "A=1\nKEY=new\n"
    assert owner_and_mode(env_file) == (OTHER_UID, OTHER_GID, 0o660)


def test_symlink_chain_is_written_through_to_its_target(tmp_path: Path) -> None:
    real = tmp_path / "vault" / "key"
    real.parent.mkdir()
    real.write_text("old-value\n")
    real.chmod(0o604)
    middle = tmp_path / "middle"
    middle.symlink_to(real)
    link = tmp_path / "run" / "partner_api_key"
    link.parent.mkdir()
    link.symlink_to(middle)
    store = FileStore(link)
    store.preflight()
    store.write("new-value")
    assert link.is_symlink() and middle.is_symlink()  # the links are kept
    assert real.read_text() == "new-value\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o604
    assert sorted(p.name for p in real.parent.iterdir()) == ["key"]  # no temporary left
    assert store.read_current() == "new-value"


def kubernetes_volume(folder: Path, files: dict[str, str]) -> Path:
    """A projected volume as the kubelet writes it: a timestamped folder, `..data` pointing
    at it, and each key a symlink through `..data`."""
    version = folder / "..2024_05_01_12_00_00.123456789"
    version.mkdir(parents=True)
    for name, text in files.items():
        (version / name).write_text(text)
        (folder / name).symlink_to(Path("..data") / name)
    (folder / "..data").symlink_to(version.name)
    return version


def test_kubernetes_projected_volume_is_refused_before_anything_changes(tmp_path: Path) -> None:
    """The kubelet puts a projected Secret's content back: a write there would be undone."""
    mount = tmp_path / "secrets"
    version = kubernetes_volume(mount, {"api_key": "old-value", "other": "x"})
    store = FileStore(mount / "api_key")
    with pytest.raises(StoreError, match="Kubernetes projected volume"):
        store.preflight()
    assert (version / "api_key").read_text() == "old-value"


@needs_root
def test_a_symlink_planted_by_another_user_is_not_followed(tmp_path: Path) -> None:
    """Another user who may write the folder points the write-back at a file of root's."""
    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    link = shared / "api_key"
    link.symlink_to(victim)
    os.lchown(link, 4242, 4242)
    with pytest.raises(StoreError, match="does not follow it"):
        FileStore(link).preflight()
    assert victim.read_text() == "root's file\n"


def test_env_file_behind_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "config" / "n8n.env"
    real.parent.mkdir()
    real.write_text("KEY=old\n")
    link = tmp_path / ".env"
    link.symlink_to(real)
    store = EnvFileStore(link, "KEY")
    store.preflight()
    store.write("new")
    assert link.is_symlink() and real.read_text() == "KEY=new\n"


@needs_root
def test_symlink_into_a_read_only_folder_is_refused_before_anything_changes(
    shared_dir: Path,
) -> None:
    locked = shared_dir / "mounted"
    locked.mkdir()
    (locked / "key").write_text("old-value")
    locked.chmod(0o755)  # root's; the user may read but not write (a read-only secret mount)
    link = shared_dir / "partner_api_key"
    link.symlink_to(locked / "key")
    with acting_as(USER_UID, USER_GID), pytest.raises(StoreError) as info:
        FileStore(link).preflight()
    message = str(info.value)
    assert "symlink" in message and str(locked) in message and "\n" not in message
    assert (locked / "key").read_text() == "old-value" and link.is_symlink()


@needs_root
def test_a_file_whose_owner_cannot_be_kept_is_refused_in_preflight(shared_dir: Path) -> None:
    secret = shared_dir / "partner_api_key"
    secret.write_text("old-value")
    os.chown(secret, OTHER_UID, OTHER_GID)
    secret.chmod(0o666)  # writable by anyone, but a replacement would belong to the user
    with acting_as(USER_UID, USER_GID), pytest.raises(StoreError) as info:
        FileStore(secret).preflight()
    assert "owner" in str(info.value) and str(OTHER_UID) in str(info.value)
    assert owner_and_mode(secret) == (OTHER_UID, OTHER_GID, 0o666)


@needs_root
def test_an_ordinary_user_writes_back_its_own_file(shared_dir: Path) -> None:
    secret = shared_dir / "partner_api_key"
    secret.write_text("old-value\n")
    os.chown(secret, USER_UID, USER_GID)
    secret.chmod(0o640)
    with acting_as(USER_UID, USER_GID):
        store = FileStore(secret)
        store.preflight()
        store.write("new-value")
    assert secret.read_text() == "new-value\n"
    assert owner_and_mode(secret) == (USER_UID, USER_GID, 0o640)


def test_a_hard_linked_file_is_refused_before_anything_changes(tmp_path: Path) -> None:
    secret = tmp_path / "partner_api_key"
    secret.write_text("old-value")
    os.link(secret, tmp_path / "copy")
    with pytest.raises(StoreError, match="hard link"):
        FileStore(secret).preflight()


# -- the .env backup -------------------------------------------------------------------------


def test_private_file_is_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = tmp_path / "backup"
        create_private_file(path, b"KEY=old\n")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes() == b"KEY=old\n"
        with pytest.raises(FileExistsError):
            create_private_file(path, b"other")
    finally:
        os.umask(previous)


def test_env_backup_is_never_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KEY=old\n")
    env_file.chmod(0o644)
    # No later chmod may be what makes it private: it must be born private.
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)
    previous = os.umask(0)
    try:
        EnvFileStore(env_file, "KEY").write("new")
    finally:
        os.umask(previous)
    backup = tmp_path / ".env.keyturn.bak"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert backup.read_text() == "KEY=old\n"


def test_env_backup_keeps_the_value_from_before_the_rotation(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KEY=old\n")
    store = EnvFileStore(env_file, "KEY")
    store.write("new")
    store.write("old")  # the rollback writes the previous value back
    assert (tmp_path / ".env.keyturn.bak").read_text() == "KEY=old\n"


def test_discard_backup_removes_the_env_backup(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KEY=old\n")
    store = EnvFileStore(env_file, "KEY")
    store.write("new")
    backup = tmp_path / ".env.keyturn.bak"
    assert backup.exists()
    store.discard_backup()
    assert not backup.exists()
    store.discard_backup()  # twice is fine (a resumed finish)
    assert env_file.read_text() == "KEY=new\n"


def test_discard_backup_of_a_file_store_changes_nothing(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("value")
    FileStore(secret).discard_backup()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


def test_a_symlink_loop_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(StoreError, match="symlink loop"):
        FileStore(tmp_path / "a").preflight()
