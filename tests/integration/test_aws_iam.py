"""AWS IAM access keys rotated into an n8n `aws` credential, against moto's server (IAM + STS)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from keyturn.core.errors import ExitCode
from tests.conftest import MotoServer, N8nHandle


@pytest.fixture
def aws_user(moto_server: MotoServer, n8n: N8nHandle, tmp_path: Path) -> dict[str, Any]:
    iam = moto_server.iam()
    user = f"n8n-deploy-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    data = {
        "region": "us-east-1",
        "accessKeyId": key["AccessKeyId"],
        "secretAccessKey": key["SecretAccessKey"],
    }
    credential = n8n.client.create_credential("AWS deploy", "aws", data)
    (tmp_path / "keyturn.toml").write_text(
        f'[providers.aws]\ntype = "aws_iam"\nuser_name = "{user}"\nregion = "us-east-1"\n'
        f'endpoint_url = "{moto_server.url}"\n'
    )
    (tmp_path / "old-secret").write_text(key["SecretAccessKey"])
    env = {
        **n8n.env(),
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "KEYTURN_STATE_DIR": str(tmp_path / "state"),
    }  # fmt: skip
    return {
        "iam": iam,
        "user": user,
        "key": key,
        "credential": credential,
        "env": env,
        "dir": tmp_path,
    }


def keys_of(aws_user: dict[str, Any]) -> dict[str, str]:
    listed = aws_user["iam"].list_access_keys(UserName=aws_user["user"])["AccessKeyMetadata"]
    return {key["AccessKeyId"]: key["Status"] for key in listed}


def rotate(run_cli: Any, aws_user: dict[str, Any], *extra: str) -> Any:
    # The aws type has an n8n credential test, but it calls real AWS: only the STS probe here.
    return run_cli(
        "rotate", aws_user["credential"].id, "--provider", "aws", "--verify", "probe",
        "--current-secret", f"file:{aws_user['dir'] / 'old-secret'}", "--grace", "0s", "--json",
        *extra, env=aws_user["env"],
    )  # fmt: skip


def test_rotation_creates_a_second_key_proves_it_and_deletes_the_old(
    aws_user: dict[str, Any], run_cli: Any
) -> None:
    old_id = aws_user["key"]["AccessKeyId"]
    result = rotate(run_cli, aws_user)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["checks"][0]["means"] == "probe" and document["checks"][0]["ok"]
    assert f":user/{aws_user['user']}" in document["checks"][0]["detail"]
    keys = keys_of(aws_user)
    assert old_id not in keys and len(keys) == 1  # deactivated, then deleted
    assert aws_user["key"]["SecretAccessKey"] not in result.stdout + result.stderr


def test_iam_limit_with_a_stale_key_is_refused_then_cleared_with_the_flag(
    aws_user: dict[str, Any], run_cli: Any
) -> None:
    stale = aws_user["iam"].create_access_key(UserName=aws_user["user"])["AccessKey"]["AccessKeyId"]
    old_id = aws_user["key"]["AccessKeyId"]
    refused = rotate(run_cli, aws_user, "--current-key-id", old_id)
    assert refused.code == ExitCode.PROVIDER
    assert "two access keys" in refused.stderr and stale in refused.stderr
    assert keys_of(aws_user) == {old_id: "Active", stale: "Active"}  # left as it was
    config = aws_user["dir"] / "keyturn.toml"
    config.write_text(config.read_text() + "delete_stale_key = true\n")
    result = rotate(run_cli, aws_user, "--current-key-id", old_id)
    assert result.code == 0, result.stderr
    keys = keys_of(aws_user)
    assert stale not in keys and old_id not in keys and len(keys) == 1
