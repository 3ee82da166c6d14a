"""`keyturn rekey` on an n8n database holding a value in every place n8n encrypts (no n8n
running: tests/integration/test_rekey_n8n.py starts real ones). Each run is the real command;
each check reads the database back with the cipher as n8n does."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keyturn.rekey import ciphers
from keyturn.rekey.keys import derived_jwt_secret
from tests.conftest import CliResult
from tests.integration.test_secrets_never_leak import every_file_under, leaked_encodings
from tests.rekey_data import NEW_KEY, OLD_KEY, Planted, plant, read_back

Run = Callable[..., CliResult]


def folder_with(tmp_path: Path, *, version: str = "2.x", prefix: str = "") -> Planted:
    n8n_dir = tmp_path / "n8n"
    n8n_dir.mkdir()
    planted = plant(n8n_dir / "database.sqlite", version=version, prefix=prefix)
    config = {"encryptionKey": OLD_KEY, "tunnelSubdomain": "keep-me"}
    (n8n_dir / "config").write_text(json.dumps(config, indent="\t"))
    (n8n_dir / "config").chmod(0o644)  # a loose mode, as older n8n wrote it
    (tmp_path / "new.key").write_text(NEW_KEY + "\n")
    (tmp_path / ".env").write_text(f"N8N_ENCRYPTION_KEY={OLD_KEY}\nOTHER=1\n")
    return planted


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"KEYTURN_STATE_DIR": str(tmp_path / "state"), **extra}


def rekey_args(tmp_path: Path, *more: str) -> list[str]:
    return ["rekey", "--n8n-dir", str(tmp_path / "n8n"), "--new-key-file",
            str(tmp_path / "new.key"), "--write-back",
            f"env-file:{tmp_path / '.env'}#N8N_ENCRYPTION_KEY", *more]  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def config_key(tmp_path: Path) -> str:
    key: str = json.loads((tmp_path / "n8n" / "config").read_text())["encryptionKey"]
    return key


def assert_unchanged(tmp_path: Path, planted: Planted, digest_before: str) -> None:
    """Not a byte of the database changed, and config still holds the old key."""
    assert digest(planted.path) == digest_before
    assert config_key(tmp_path) == OLD_KEY


def assert_reads_with(planted: Planted, key: str) -> None:
    found = read_back(planted, key)
    assert {place: text for place, text in found.items() if text != planted.values[place]} == {}


def one_line_error(result: CliResult) -> str:
    """The error line (progress lines may come before it)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("keyturn: error:")]
    assert len(lines) == 1 and result.stderr.rstrip().endswith(lines[0]), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@contextlib.contextmanager
def holding(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with `path` open as SQLite, until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('select 1').fetchall(); print('open', flush=True); sys.stdin.read()",
         str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("version", ["2.x", "1.x"])
def test_every_place_is_reencrypted_and_every_other_byte_kept(
    tmp_path: Path, run_cli: Run, version: str
) -> None:
    planted = folder_with(tmp_path, version=version)
    before = sqlite3.connect(planted.path)
    saml_before = before.execute("SELECT value FROM settings WHERE key='features.saml'").fetchone()
    decoy_before = before.execute(
        'SELECT data FROM execution_data WHERE "executionId"=2'
    ).fetchone()
    before.close()

    result = run_cli("-vv", *rekey_args(tmp_path, "--json"), env=env_for(tmp_path))

    assert result.code == 0, result.stderr
    assert_reads_with(planted, NEW_KEY)
    old_reads = read_back(planted, OLD_KEY)
    still_old = [place for place, text in old_reads.items() if not text.startswith("unreadable")]
    assert still_old == ([("credentials_entity", "c4", "data", "")] if version == "2.x" else [])
    after = sqlite3.connect(planted.path)
    assert (
        after.execute("SELECT value FROM settings WHERE key='features.saml'").fetchone()
        == saml_before
    )
    assert (
        after.execute('SELECT data FROM execution_data WHERE "executionId"=2').fetchone()
        == decoy_before
    )
    if version == "2.x":
        prefixed = after.execute("SELECT data FROM credentials_entity WHERE id='c3'").fetchone()
        assert prefixed[0].startswith("legacyCbcRow0001:U2FsdGVkX1")  # the prefix is kept
    after.close()
    document = json.loads(result.stdout)
    assert document["action"] == "rekeyed" and document["version"] == version
    assert document["reencrypted"]["credentials_entity.data"] == (3 if version == "2.x" else 2)
    assert document["reencrypted"]["user.mfaRecoveryCodes"] == 10
    assert document["left_plain"] == {"settings.value[features.saml].signingPrivateKey": 1} | (
        {"deployment_key signing.hmac": 1} if version == "2.x" else {}
    )
    assert ("kept" if version == "2.x" else "logged out") in document["jwt"]
    config_path = tmp_path / "n8n" / "config"
    assert json.loads(config_path.read_text()) == {
        "encryptionKey": NEW_KEY,
        "tunnelSubdomain": "keep-me",
    }
    assert config_path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / ".env").read_text() == f"N8N_ENCRYPTION_KEY={NEW_KEY}\nOTHER=1\n"
    assert not (tmp_path / "n8n" / ".keyturn-rekey-pending").exists()
    written = result.stdout + result.stderr + "".join(
        path.read_bytes().decode("latin-1") for path in every_file_under(tmp_path / "state")
        if path.name != "master.key"
    )  # fmt: skip
    assert "rows.json" in str(every_file_under(tmp_path / "state"))
    for key in (OLD_KEY, NEW_KEY):
        assert leaked_encodings(written, key) == []


def test_table_prefix_and_a_data_key_prefix(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path, prefix="n8n_")
    result = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path, DB_TABLE_PREFIX="n8n_"))
    assert result.code == 0, result.stderr
    assert_reads_with(planted, NEW_KEY)


def test_dry_run_changes_nothing_and_says_what_else_must_change(
    tmp_path: Path, run_cli: Run
) -> None:
    planted = folder_with(tmp_path)
    before = digest(planted.path), (tmp_path / "n8n" / "config").read_text()
    result = run_cli(*rekey_args(tmp_path, "--dry-run"), env=env_for(tmp_path))
    assert result.code == 0, result.stderr
    assert (digest(planted.path), (tmp_path / "n8n" / "config").read_text()) == before
    assert (tmp_path / ".env").read_text().startswith(f"N8N_ENCRYPTION_KEY={OLD_KEY}")
    assert "nothing was changed" in result.stdout
    assert "credentials_entity.data" in result.stdout and "worker" in result.stdout
    assert not (tmp_path / "state" / "rekey-backups").exists()


def test_a_wrong_old_key_changes_nothing(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    (tmp_path / "wrong.key").write_text("not-the-key-" * 3)
    before = digest(planted.path)
    result = run_cli(*rekey_args(tmp_path, "--old-key-file", str(tmp_path / "wrong.key")),
                     env=env_for(tmp_path))  # fmt: skip
    assert result.code == 2
    assert "The old key is wrong" in one_line_error(result)
    assert_unchanged(tmp_path, planted, before)


def test_a_corrupt_row_is_named_and_nothing_changes_unless_skipped(
    tmp_path: Path, run_cli: Run
) -> None:
    planted = folder_with(tmp_path)
    db = sqlite3.connect(planted.path)
    corrupt = ciphers.cbc_encrypt('{"value": 1}', OLD_KEY)[:-8] + "AAAAAAA="
    db.execute("INSERT INTO credentials_entity VALUES ('c9', 'broken', ?, 'x')", (corrupt,))
    db.commit()
    db.close()
    before = digest(planted.path)

    refused = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path))

    assert refused.code == 6
    assert "credentials_entity.data (id=c9)" in one_line_error(refused)
    assert_unchanged(tmp_path, planted, before)
    skipped = run_cli(*rekey_args(tmp_path, "--skip-unreadable"), env=env_for(tmp_path))
    assert skipped.code == 0, skipped.stderr
    assert_reads_with(planted, NEW_KEY)
    db = sqlite3.connect(planted.path)
    assert db.execute("SELECT data FROM credentials_entity WHERE id='c9'").fetchone()[0] == corrupt
    db.close()


@pytest.mark.parametrize("point", ["rekey.after-backup", "rekey.mid-transaction",
                                   "rekey.before-commit"])  # fmt: skip
def test_sigkill_before_the_commit_leaves_the_old_key(
    tmp_path: Path, run_cli: Run, point: str
) -> None:
    planted = folder_with(tmp_path)
    killed = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path, KEYTURN_TEST_CRASH_AFTER=point))
    assert killed.code == -9
    assert_reads_with(planted, OLD_KEY)
    assert config_key(tmp_path) == OLD_KEY
    again = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path))
    assert again.code == 0, again.stderr
    assert "had not changed the database" in again.stderr
    assert_reads_with(planted, NEW_KEY)
    assert config_key(tmp_path) == NEW_KEY


@pytest.mark.parametrize("point", ["rekey.after-commit", "rekey.after-config"])
def test_sigkill_after_the_commit_is_finished_by_the_next_run(
    tmp_path: Path, run_cli: Run, point: str
) -> None:
    planted = folder_with(tmp_path)
    killed = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path, KEYTURN_TEST_CRASH_AFTER=point))
    assert killed.code == -9
    assert_reads_with(planted, NEW_KEY)
    assert (tmp_path / ".env").read_text().startswith(f"N8N_ENCRYPTION_KEY={OLD_KEY}")
    again = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), env=env_for(tmp_path))
    assert again.code == 0, again.stderr
    assert "Finishing the rekey" in again.stderr
    assert config_key(tmp_path) == NEW_KEY
    assert (tmp_path / ".env").read_text().startswith(f"N8N_ENCRYPTION_KEY={NEW_KEY}")
    assert_reads_with(planted, NEW_KEY)


def test_restore_puts_the_old_key_back_everywhere(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    done = run_cli(*rekey_args(tmp_path, "--json"), env=env_for(tmp_path))
    assert done.code == 0, done.stderr
    backup = json.loads(done.stdout)["backup"]
    assert (Path(backup) / "database.sqlite").is_file()
    restored = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), "--restore", backup,
                       env=env_for(tmp_path))  # fmt: skip
    assert restored.code == 0, restored.stderr
    assert_reads_with(planted, OLD_KEY)
    assert config_key(tmp_path) == OLD_KEY
    assert (tmp_path / ".env").read_text().startswith(f"N8N_ENCRYPTION_KEY={OLD_KEY}")


def test_refused_while_a_process_holds_the_database(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    with holding(planted.path) as holder:
        before = digest(planted.path)
        result = run_cli(*rekey_args(tmp_path, "--assume-stopped"), env=env_for(tmp_path))
        assert result.code == 7
        assert f"pid {holder.pid}" in one_line_error(result)
        assert digest(planted.path) == before


def test_a_running_execution_refuses_unless_assumed_stopped(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    db = sqlite3.connect(planted.path)
    db.execute("INSERT INTO execution_entity VALUES (1, 'running', '2026-11-29 09:00:00', "
               "'2026-11-29 09:00:00', NULL)")  # fmt: skip
    db.commit()
    db.close()
    refused = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path))
    assert refused.code == 7
    assert "1 execution(s) are running or queued" in one_line_error(refused)
    accepted = run_cli(*rekey_args(tmp_path, "--assume-stopped"), env=env_for(tmp_path))
    assert accepted.code == 0, accepted.stderr
    assert_reads_with(planted, NEW_KEY)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--database-url", "postgresql://n8n:hunter2secret@127.0.0.1/n8n"], "holds a password"),
        (
            ["--database-url", "postgresql://n8n@127.0.0.1/n8n?password=hunter2secret"],
            "holds a password",
        ),
        (["--database-url", "postgresql://n8n@127.0.0.1:port/n8n"], "not a database URL"),
        (["--new-key-file", "{tmp}/dollar.key"], "letters, digits"),
        (["--pin-jwt-secret", "file:{tmp}/jwt"], "not needed here"),
        (["--generate"], "one of them"),
        (["--new-key-file", "{tmp}/short.key"], "at least 24"),
        (["--new-key-file", "{tmp}/same.key"], "is the key n8n uses now"),
        (["--new-key-file", "{tmp}/missing.key"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    tmp_path: Path, run_cli: Run, args: list[str], says: str
) -> None:
    planted = folder_with(tmp_path)
    (tmp_path / "short.key").write_text("short")
    (tmp_path / "same.key").write_text(OLD_KEY)
    (tmp_path / "dollar.key").write_text("a$b'c\"d-0123456789abcdefghijklmn")
    before = digest(planted.path)
    base = ["rekey", "--n8n-dir", str(tmp_path / "n8n")]
    if args[0] != "--new-key-file":
        base += ["--new-key-file", str(tmp_path / "new.key")]
    result = run_cli(*base, *[a.format(tmp=tmp_path) for a in args], env=env_for(tmp_path))
    assert result.code == 2
    line = one_line_error(result)
    assert says in line and "hunter2secret" not in result.stderr + result.stdout
    assert_unchanged(tmp_path, planted, before)


def test_generate_writes_a_key_nobody_printed(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    result = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), "--generate", "--write-back",
                     f"file:{tmp_path / 'secret'}", env=env_for(tmp_path))  # fmt: skip
    assert result.code == 0, result.stderr
    generated = config_key(tmp_path)
    assert generated != OLD_KEY and len(generated) >= 40
    assert (tmp_path / "secret").read_text().strip() == generated
    assert_reads_with(planted, generated)
    assert leaked_encodings(result.stdout + result.stderr, generated) == []


def test_no_state_folder_no_master_key_in_n8n_folder(tmp_path: Path, run_cli: Run) -> None:
    """The backup is keyturn's: nothing but config and the database change in n8n's folder."""
    folder_with(tmp_path)
    before = sorted(os.listdir(tmp_path / "n8n"))
    result = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path))
    assert result.code == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "n8n")) == before


def test_an_unwritable_store_refuses_before_any_change(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    before = digest(planted.path)
    store = f"file:{tmp_path / 'no-such-folder' / 'key'}"
    result = run_cli(*rekey_args(tmp_path, "--write-back", store), env=env_for(tmp_path))
    assert result.code == 5
    assert "no-such-folder" in one_line_error(result)
    assert_unchanged(tmp_path, planted, before)


def test_a_failure_after_the_commit_is_finished_by_the_next_run(
    tmp_path: Path, run_cli: Run
) -> None:
    planted = folder_with(tmp_path)
    fail = env_for(tmp_path, KEYTURN_TEST_FAIL_AFTER="rekey.after-config")
    failed = run_cli(*rekey_args(tmp_path), env=fail)
    assert failed.code == 70
    assert_reads_with(planted, NEW_KEY)
    assert (tmp_path / ".env").read_text().startswith(f"N8N_ENCRYPTION_KEY={OLD_KEY}")
    again = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), env=env_for(tmp_path))
    assert again.code == 0, again.stderr
    assert (tmp_path / ".env").read_text().startswith(f"N8N_ENCRYPTION_KEY={NEW_KEY}")


def test_an_unreachable_database_is_one_line(tmp_path: Path, run_cli: Run) -> None:
    folder_with(tmp_path)
    result = run_cli(*rekey_args(tmp_path, "--database-url", "postgresql://n8n@127.0.0.1:1/n8n"),
                     env=env_for(tmp_path, DB_POSTGRESDB_PASSWORD="pg-pa55+/=word"))  # fmt: skip
    assert result.code == 3
    line = one_line_error(result)
    assert "PostgreSQL n8n@127.0.0.1:1/n8n" in line
    assert "pg-pa55" not in result.stderr + result.stdout


def test_a_database_that_is_not_n8ns_is_refused(tmp_path: Path, run_cli: Run) -> None:
    """Tables under a prefix n8n was not told about (or an empty file) are not "nothing to
    re-encrypt": the new key would go to config over a database still on the old one."""
    planted = folder_with(tmp_path, prefix="n8n_")
    before = digest(planted.path)
    result = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path))
    assert result.code == 2
    assert "is not n8n's database: it has no table credentials_entity" in one_line_error(result)
    assert_unchanged(tmp_path, planted, before)
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    result = run_cli(*rekey_args(tmp_path, "--database-url", f"sqlite:///{empty}"),
                     env=env_for(tmp_path))  # fmt: skip
    assert result.code == 2 and config_key(tmp_path) == OLD_KEY


def test_a_holder_that_names_the_file_otherwise_is_seen(tmp_path: Path, run_cli: Run) -> None:
    """As n8n in a container: the same file under another path (here a hard link)."""
    planted = folder_with(tmp_path)
    other_name = tmp_path / "as-the-container-sees-it.sqlite"
    os.link(planted.path, other_name)
    with holding(other_name) as holder:
        result = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path))
        assert result.code == 7 and f"pid {holder.pid}" in one_line_error(result)
    assert_reads_with(planted, OLD_KEY)


def test_a_mark_the_database_does_not_match_is_dropped(tmp_path: Path, run_cli: Run) -> None:
    """Killed after the commit, then put back by hand (the SQLite copy, the old config): the
    next rekey must not write that run's key, it starts afresh with its own."""
    planted = folder_with(tmp_path)
    crash = env_for(tmp_path, KEYTURN_TEST_CRASH_AFTER="rekey.after-commit")
    killed = run_cli(*rekey_args(tmp_path, "--json"), env=crash)
    assert killed.code == -9
    (backup,) = (tmp_path / "state" / "rekey-backups").iterdir()
    planted.path.write_bytes((backup / "database.sqlite").read_bytes())
    assert_reads_with(planted, OLD_KEY)
    (tmp_path / "other.key").write_text("another-key-" + "z" * 30)
    again = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), "--new-key-file",
                    str(tmp_path / "other.key"), env=env_for(tmp_path))  # fmt: skip
    assert again.code == 0, again.stderr
    assert "its mark is dropped" in again.stderr
    assert config_key(tmp_path) == "another-key-" + "z" * 30
    assert_reads_with(planted, "another-key-" + "z" * 30)


def test_a_committed_rekey_is_finished_before_another_key(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    crash = env_for(tmp_path, KEYTURN_TEST_CRASH_AFTER="rekey.after-commit")
    assert run_cli(*rekey_args(tmp_path), env=crash).code == -9
    plan = run_cli(*rekey_args(tmp_path, "--dry-run"), env=env_for(tmp_path))
    assert plan.code == 2 and "did not finish" in one_line_error(plan)
    other = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), "--generate",
                    env=env_for(tmp_path))  # fmt: skip
    assert other.code == 2 and "Finish that one first" in one_line_error(other)
    assert run_cli(*rekey_args(tmp_path), env=env_for(tmp_path)).code == 0  # the same key
    assert config_key(tmp_path) == NEW_KEY
    assert_reads_with(planted, NEW_KEY)


def test_restore_keeps_what_n8n_wrote_after_the_rekey(tmp_path: Path, run_cli: Run) -> None:
    """A token refreshed, a recovery code used after the rekey: the restore keeps them."""
    planted = folder_with(tmp_path)
    done = run_cli(*rekey_args(tmp_path, "--json"), env=env_for(tmp_path))
    assert done.code == 0, done.stderr
    refreshed = json.dumps({"name": "X-API-Key", "value": "refreshed-after-the-rekey"})
    db = sqlite3.connect(planted.path)
    db.execute("UPDATE credentials_entity SET data = ? WHERE id = 'c1'",
               (ciphers.cbc_encrypt(refreshed, NEW_KEY),))  # fmt: skip
    db.execute("INSERT INTO credentials_entity VALUES ('c5', 'new', ?, 'x')",
               (ciphers.cbc_encrypt('{"value": "created after"}', NEW_KEY),))  # fmt: skip
    db.commit()
    db.close()
    planted.values[("credentials_entity", "c1", "data", "")] = refreshed
    planted.values[("credentials_entity", "c5", "data", "")] = '{"value": "created after"}'
    restored = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), "--restore",
                       json.loads(done.stdout)["backup"], env=env_for(tmp_path))  # fmt: skip
    assert restored.code == 0, restored.stderr
    assert_reads_with(planted, OLD_KEY)
    assert config_key(tmp_path) == OLD_KEY


def test_restore_after_skip_unreadable(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    db = sqlite3.connect(planted.path)
    db.execute("INSERT INTO credentials_entity VALUES ('c9', 'broken', 'U2FsdGVkX1broken', 'x')")
    db.commit()
    db.close()
    done = run_cli(*rekey_args(tmp_path, "--skip-unreadable", "--json"), env=env_for(tmp_path))
    assert done.code == 0, done.stderr
    restored = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), "--restore",
                       json.loads(done.stdout)["backup"], env=env_for(tmp_path))  # fmt: skip
    assert restored.code == 0, restored.stderr
    assert_reads_with(planted, OLD_KEY)


def test_a_data_key_in_plaintext_does_not_make_a_wrong_key_look_right(
    tmp_path: Path, run_cli: Run
) -> None:
    planted = folder_with(tmp_path)
    db = sqlite3.connect(planted.path)
    db.execute("INSERT INTO deployment_key VALUES ('rawHex', 'data_encryption', ?, "
               "'aes-256-gcm', 'inactive')", ("ef" * 32,))  # fmt: skip
    db.commit()
    db.close()
    (tmp_path / "wrong.key").write_text("not-the-key-" * 3)
    before = digest(planted.path)
    for extra in ([], ["--skip-unreadable"]):
        result = run_cli(*rekey_args(tmp_path, "--old-key-file", str(tmp_path / "wrong.key"),
                                     *extra), env=env_for(tmp_path))  # fmt: skip
        assert result.code == 2, result.stderr
        assert_unchanged(tmp_path, planted, before)
    assert run_cli(*rekey_args(tmp_path), env=env_for(tmp_path)).code == 0
    assert_reads_with(planted, NEW_KEY)


def test_awkward_paths(tmp_path: Path, run_cli: Run) -> None:
    """`#`, `%` and spaces in the folders: the database and its copy are the real ones."""
    odd = tmp_path / "n8n #1 %41 data"
    odd.mkdir()
    planted = folder_with(odd)
    state = tmp_path / "state #2 %"
    args = ["--n8n-dir", str(odd / "n8n"), "--new-key-file", str(odd / "new.key"), "--json"]
    result = run_cli("rekey", *args, env={"KEYTURN_STATE_DIR": str(state)})
    assert result.code == 0, result.stderr
    assert_reads_with(planted, NEW_KEY)
    copy = sqlite3.connect(Path(json.loads(result.stdout)["backup"]) / "database.sqlite")
    assert copy.execute("SELECT count(*) FROM credentials_entity").fetchone() == (4,)
    copy.close()


def test_pin_keeps_a_jwt_secret_already_set(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path, version="1.x")
    pinned = tmp_path / "pinned.env"
    pinned.write_text("N8N_USER_MANAGEMENT_JWT_SECRET=set-by-the-operator\n")
    fresh = tmp_path / "fresh.jwt"
    fresh.write_text("")
    result = run_cli(*rekey_args(tmp_path, "--pin-jwt-secret",
                                 f"env-file:{pinned}#N8N_USER_MANAGEMENT_JWT_SECRET",
                                 "--pin-jwt-secret", f"file:{fresh}"),
                     env=env_for(tmp_path))  # fmt: skip
    assert result.code == 0, result.stderr
    assert pinned.read_text() == "N8N_USER_MANAGEMENT_JWT_SECRET=set-by-the-operator\n"
    assert fresh.read_text().strip() == derived_jwt_secret(OLD_KEY)
    assert_reads_with(planted, NEW_KEY)


def test_a_lost_master_key_is_not_silently_replaced(tmp_path: Path, run_cli: Run) -> None:
    folder_with(tmp_path)
    done = run_cli(*rekey_args(tmp_path, "--json"), env=env_for(tmp_path))
    assert done.code == 0, done.stderr
    (tmp_path / "state" / "master.key").unlink()
    restored = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), "--restore",
                       json.loads(done.stdout)["backup"], env=env_for(tmp_path))  # fmt: skip
    assert restored.code == 2
    assert "holds rekey backups" in one_line_error(restored)
    assert not (tmp_path / "state" / "master.key").exists()


def test_resume_reads_the_database_it_rekeyed(tmp_path: Path, run_cli: Run) -> None:
    """Killed after the commit, run again without the table prefix: the mark is kept (it was
    dropped as "nothing changed", and config stayed on the old key)."""
    planted = folder_with(tmp_path, prefix="n8n_")
    crash = env_for(tmp_path, DB_TABLE_PREFIX="n8n_", KEYTURN_TEST_CRASH_AFTER="rekey.after-commit")
    assert run_cli(*rekey_args(tmp_path), env=crash).code == -9
    wrong = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"), env=env_for(tmp_path))
    assert wrong.code == 2 and "unfinished rekey of SQLite" in one_line_error(wrong)
    assert (tmp_path / "n8n" / ".keyturn-rekey-pending").exists()
    right = run_cli("rekey", "--n8n-dir", str(tmp_path / "n8n"),
                    env=env_for(tmp_path, DB_TABLE_PREFIX="n8n_"))  # fmt: skip
    assert right.code == 0, right.stderr
    assert config_key(tmp_path) == NEW_KEY
    assert_reads_with(planted, NEW_KEY)


def test_a_relative_store_is_the_same_file_when_resumed_elsewhere(
    tmp_path: Path, run_cli: Run
) -> None:
    folder_with(tmp_path)
    args = [
        "rekey",
        "--n8n-dir",
        str(tmp_path / "n8n"),
        "--new-key-file",
        str(tmp_path / "new.key"),
        "--write-back",
        "env-file:.env#N8N_ENCRYPTION_KEY",
    ]
    crash = env_for(tmp_path, KEYTURN_TEST_CRASH_AFTER="rekey.after-commit")
    assert run_cli(*args, env=crash).code == -9
    elsewhere = tmp_path / "another-project"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("N8N_ENCRYPTION_KEY=someone-elses\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KEYTURN_")}
    resumed = subprocess.run(
        [sys.executable, "-m", "keyturn", "rekey", "--n8n-dir", str(tmp_path / "n8n")],
        cwd=elsewhere, env={**environment, **env_for(tmp_path)}, capture_output=True, text=True,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert (elsewhere / ".env").read_text() == "N8N_ENCRYPTION_KEY=someone-elses\n"
    assert (tmp_path / ".env").read_text().startswith(f"N8N_ENCRYPTION_KEY={NEW_KEY}")


def test_a_config_keyturn_cannot_write_refuses_before_the_commit(
    tmp_path: Path, run_cli: Run
) -> None:
    planted = folder_with(tmp_path)
    (tmp_path / "n8n" / "config").write_text("not json")
    (tmp_path / "old.key").write_text(OLD_KEY)
    before = digest(planted.path)
    result = run_cli(*rekey_args(tmp_path, "--old-key-file", str(tmp_path / "old.key")),
                     env=env_for(tmp_path))  # fmt: skip
    assert result.code == 2 and "not n8n's settings file" in one_line_error(result)
    assert digest(planted.path) == before


def test_a_plaintext_data_key_does_not_block_the_next_run(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    db = sqlite3.connect(planted.path)
    db.execute("INSERT INTO deployment_key VALUES ('rawHex', 'data_encryption', ?, "
               "'aes-256-gcm', 'inactive')", ("ef" * 32,))  # fmt: skip
    under = ciphers.gcm_encrypt('{"value": "under a plaintext data key"}', bytes.fromhex("ef" * 32))
    db.execute("INSERT INTO credentials_entity VALUES ('c6', 'raw', ?, 'x')", (f"rawHex:{under}",))
    db.commit()
    db.close()
    crash = env_for(tmp_path, KEYTURN_TEST_CRASH_AFTER="rekey.before-commit")
    assert run_cli(*rekey_args(tmp_path), env=crash).code == -9
    again = run_cli(*rekey_args(tmp_path), env=env_for(tmp_path))
    assert again.code == 0, again.stderr
    assert_reads_with(planted, NEW_KEY)


def test_restore_refuses_an_old_key_a_store_cannot_keep(tmp_path: Path, run_cli: Run) -> None:
    awkward = "old$key\"with'quotes\\-0123456789abcdef"  # $, both quotes, a backslash
    n8n_dir = tmp_path / "n8n"
    n8n_dir.mkdir()
    planted = plant(n8n_dir / "database.sqlite", key=awkward)
    (n8n_dir / "config").write_text(json.dumps({"encryptionKey": awkward}))
    (tmp_path / "new.key").write_text(NEW_KEY)
    (tmp_path / ".env").write_text("N8N_ENCRYPTION_KEY='placeholder'\n")
    done = run_cli(*rekey_args(tmp_path, "--json"), env=env_for(tmp_path))
    assert done.code == 0, done.stderr
    before = digest(planted.path)
    restored = run_cli("rekey", "--n8n-dir", str(n8n_dir), "--restore",
                       json.loads(done.stdout)["backup"], env=env_for(tmp_path))  # fmt: skip
    assert restored.code == 5, restored.stderr
    assert digest(planted.path) == before and config_key(tmp_path) == NEW_KEY


def test_an_error_before_the_commit_leaves_nothing_pending(tmp_path: Path, run_cli: Run) -> None:
    planted = folder_with(tmp_path)
    before = digest(planted.path)
    fail = env_for(tmp_path, KEYTURN_TEST_FAIL_AFTER="rekey.mid-transaction")
    assert run_cli(*rekey_args(tmp_path), env=fail).code == 70
    assert_unchanged(tmp_path, planted, before)
    assert not (tmp_path / "n8n" / ".keyturn-rekey-pending").exists()
    (backup,) = (tmp_path / "state" / "rekey-backups").iterdir()
    assert json.loads((backup / "manifest.json").read_text())["phase"] == "abandoned"
