"""The journal's schema under Alembic: new journals, journals of keyturn 0.1, two at once."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect

from keyturn.core.crypto import SecretBox
from keyturn.core.errors import ConfigError
from keyturn.journal import Label, open_journal
from keyturn.journal.migrate import HEAD, MIGRATIONS, VERSION_TABLE, current_revision
from keyturn.journal.models import Base

KEY = Fernet.generate_key()


def _create_0_1_tables(path: Path) -> None:
    """The schema keyturn 0.1 made (create_all, no revision table): revision 0001, unstamped."""
    from alembic import command
    from alembic.config import Config

    engine = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with sqlite3.connect(path) as connection:
        connection.execute(f"DROP TABLE {VERSION_TABLE}")
    engine.dispose()


def test_head_is_the_newest_revision_file() -> None:
    revisions = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text()
        revision = re.search(r'^revision = "(\w+)"', text, re.M)
        down = re.search(r"^down_revision = (None|\"\w+\")", text, re.M)
        assert revision and down, path
        revisions[revision.group(1)] = down.group(1).strip('"')
    pointed_at = set(revisions.values())
    heads = [revision for revision in revisions if revision not in pointed_at]
    assert heads == [HEAD]


def test_a_new_journal_is_created_at_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    journal = open_journal(url, SecretBox(KEY))
    journal.close()
    engine = create_engine(url)
    assert current_revision(engine) == HEAD
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_a_journal_of_keyturn_0_1_is_kept_and_stamped(tmp_path: Path) -> None:
    """keyturn 0.1 made its tables with create_all and no revision: nothing may be lost."""
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    _create_0_1_tables(path)
    journal = open_journal(url, SecretBox(KEY))
    rotation = journal.start_rotation(
        instance="prod",
        credential_id="c1",
        credential_name="Partner",
        credential_type="httpHeaderAuth",
        field="value",
        strategy="in_place",
        provider=None,
        plan={},
    )
    journal.set_label("prod", "c1", Label.CURRENT, "old-secret-value", None, rotation.id)
    journal.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM keyturn_alembic_version").fetchall() == [
            (HEAD,)
        ]
    again = open_journal(url, SecretBox(KEY))
    current = again.label("prod", "c1", Label.CURRENT)
    assert current is not None and again.decrypt(current.secret) == "old-secret-value"
    assert [r.id for r in again.in_flight("prod")] == [rotation.id]
    again.close()


def test_two_processes_creating_one_journal_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = (
        "import sys\n"
        "from cryptography.fernet import Fernet\n"
        "from keyturn.core.crypto import SecretBox\n"
        "from keyturn.journal import open_journal\n"
        "open_journal(sys.argv[1], SecretBox(Fernet.generate_key())).close()\n"
        "print('ok')\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, results
    assert current_revision(create_engine(url)) == HEAD


def test_an_in_memory_journal_gets_its_tables() -> None:
    journal = open_journal("sqlite://", SecretBox(KEY))
    journal.set_label("prod", "c1", Label.CURRENT, "value-1", None, None)
    assert journal.label("prod", "c1", Label.CURRENT) is not None
    journal.close()


def test_a_journal_of_a_newer_keyturn_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    open_journal(f"sqlite:///{path}", SecretBox(KEY)).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE keyturn_alembic_version SET version_num = '9999'")
    with pytest.raises(ConfigError, match="written by a newer keyturn \\(revision 9999"):
        open_journal(f"sqlite:///{path}", SecretBox(KEY))


def test_another_applications_alembic_table_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('abc123')")
    open_journal(f"sqlite:///{path}", SecretBox(KEY)).close()
    with sqlite3.connect(path) as connection:
        theirs = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert theirs == [("abc123",)]


def test_a_read_only_journal_of_keyturn_0_1_says_who_must_upgrade_it(tmp_path: Path) -> None:
    """doctor, status and history by a user who may not write the 0.1 journal: one clear line."""
    path = tmp_path / "old.db"
    _create_0_1_tables(path)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    with pytest.raises(ConfigError, match="as a user who may write the journal"):
        open_journal(read_only, SecretBox(KEY))


def test_the_migrations_create_exactly_the_models() -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = open_journal("sqlite://", SecretBox(KEY)).engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if d[1].name != VERSION_TABLE] == []
