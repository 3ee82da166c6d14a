"""The journal on a real PostgreSQL server (KEYTURN_DATABASE_URL)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import Partner
from tests.integration.test_rotate_live import rotate_args


def test_rotation_journaled_in_postgres(partner: Partner, run_cli: Any, postgres_url: str) -> None:
    env = {**partner.env, "KEYTURN_DATABASE_URL": postgres_url, "KEYTURN_NEW_MASTER_KEY": "1"}
    result = run_cli(*rotate_args(partner), env=env)
    assert result.code == 0, result.stderr
    rotation_id = json.loads(result.stdout)["id"]

    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, pending_secret, previous_secret FROM rotations WHERE id = :id"),
            {"id": rotation_id},
        ).one()
        labels = (
            connection.execute(
                text("SELECT label FROM secret_versions WHERE credential_id = :c ORDER BY label"),
                {"c": partner.credential_id},
            )
            .scalars()
            .all()
        )
        locks = connection.execute(text("SELECT count(*) FROM credential_locks")).scalar()
    engine.dispose()
    assert row.status == "completed"
    assert partner.key not in (row.pending_secret or "") + (row.previous_secret or "")
    assert labels == ["current", "previous"]
    assert locks == 0

    history = run_cli("history", partner.credential_id, "--json", env=env)
    steps = [event["step"] for event in json.loads(history.stdout)["events"]]
    assert steps[0] == "start" and steps[-1] == "finish"
