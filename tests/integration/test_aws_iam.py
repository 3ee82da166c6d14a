"""AWS IAM access keys rotated into an n8n `aws` credential, against moto's server (IAM + STS);
IAM's eventual consistency (a new key unknown to STS for a few seconds), which moto does not
reproduce, with a stubbed STS client."""

from __future__ import annotations

import json
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from keyturn.core.errors import ExitCode, ProviderError
from keyturn.providers import aws_iam
from keyturn.providers.aws_iam import AwsIamProvider, AwsIamProviderConfig
from keyturn.providers.interface import IssueContext
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


def rotate(
    run_cli: Any, aws_user: dict[str, Any], *extra: str, env_extra: dict[str, str] | None = None
) -> Any:
    # The aws type has an n8n credential test, but it calls real AWS: only the STS probe here.
    return run_cli(
        "rotate", aws_user["credential"].id, "--provider", "aws", "--verify", "probe",
        "--current-secret", f"file:{aws_user['dir'] / 'old-secret'}", "--grace", "0s", "--json",
        *extra, env={**aws_user["env"], **(env_extra or {})},
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


def test_crash_after_create_access_key_then_resume_deletes_only_the_lost_key(
    aws_user: dict[str, Any], run_cli: Any
) -> None:
    """SIGKILL right after CreateAccessKey, before the journal saved the new key: `resume`
    deletes that key (known by the ids recorded before it was made) and issues another."""
    old_id = aws_user["key"]["AccessKeyId"]
    crashed = rotate(run_cli, aws_user, env_extra={"KEYTURN_TEST_CRASH_AFTER": "issued"})
    assert crashed.code == -signal.SIGKILL
    (lost,) = set(keys_of(aws_user)) - {old_id}
    resumed = run_cli("resume", "--json", env=aws_user["env"])
    assert resumed.code == 0, resumed.stderr
    keys = keys_of(aws_user)
    assert lost not in keys and old_id not in keys and len(keys) == 1


# -- the provider alone, against moto: which keys a resumed issue may delete -----------------


@pytest.fixture
def iam_user(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    iam = moto_server.iam()
    user = f"n8n-deploy-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    return iam, user


def provider_for(moto_server: MotoServer, user: str, **settings: Any) -> AwsIamProvider:
    config = AwsIamProviderConfig(
        type="aws_iam", user_name=user, endpoint_url=moto_server.url, **settings
    )
    return AwsIamProvider("aws", config)


def new_key(iam: Any, user: str) -> str:
    return str(iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"])


def key_ids(iam: Any, user: str) -> set[str]:
    return {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def context(current: str | None, **fields: Any) -> IssueContext:
    return IssueContext("token", "cred", "AWS deploy", current_key_id=current, **fields)


# Local clocks that disagree with AWS's: ahead and behind by an hour.
SKEWED = [datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC) - timedelta(hours=1)]


@pytest.mark.parametrize("started_at", SKEWED)
def test_a_key_left_by_a_crashed_issue_is_known_by_the_recorded_ids_not_the_clock(
    moto_server: MotoServer, iam_user: tuple[Any, str], started_at: datetime
) -> None:
    iam, user = iam_user
    current = new_key(iam, user)
    provider = provider_for(moto_server, user)
    recorded: list[frozenset[str]] = []
    first = provider.issue(
        context(current, started_at=started_at, record_keys_before=recorded.append)
    )
    assert recorded == [frozenset({current})]  # written ahead, before the key was created
    # The process died before saving `first` (its secret is shown once); resume issues again.
    again = provider.issue(context(current, started_at=started_at, keys_before=recorded[0]))
    assert key_ids(iam, user) == {current, again.key_id}
    assert first.key_id != again.key_id


@pytest.mark.parametrize("started_at", SKEWED)
def test_a_key_that_was_there_before_the_rotation_is_never_taken_for_a_leftover(
    moto_server: MotoServer, iam_user: tuple[Any, str], started_at: datetime
) -> None:
    iam, user = iam_user
    current, stale = new_key(iam, user), new_key(iam, user)
    provider = provider_for(moto_server, user)
    for known in (None, frozenset({current, stale})):
        with pytest.raises(ProviderError, match="two access keys"):
            provider.issue(context(current, started_at=started_at, keys_before=known))
        assert key_ids(iam, user) == {current, stale}  # someone may use it: left alone


def test_every_leftover_key_is_deleted(moto_server: MotoServer, iam_user: tuple[Any, str]) -> None:
    """Two keys made by crashed attempts (the key in use was deleted by hand meanwhile): both
    go, not one of two (a list changed while looping over it skipped the second)."""
    iam, user = iam_user
    current = new_key(iam, user)
    leftovers = {new_key(iam, user)}
    iam.delete_access_key(UserName=user, AccessKeyId=current)
    leftovers.add(new_key(iam, user))
    provider = provider_for(moto_server, user)
    issued = provider.issue(
        context(current, started_at=SKEWED[1], keys_before=frozenset({current}))
    )
    assert key_ids(iam, user) == {issued.key_id}


def test_the_probe_answers_as_the_user_against_moto(
    moto_server: MotoServer, iam_user: tuple[Any, str]
) -> None:
    _, user = iam_user
    provider = provider_for(moto_server, user)
    issued = provider.issue(context(None))
    result = provider.probe(issued.value, issued.key_id)
    assert result.ok and f":user/{user}" in result.detail


# -- the STS probe waits for IAM's eventual consistency (a stubbed STS client) ---------------


def stubbed_sts(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> Stubber:
    """STS answers in order: an error code, or "ok" for the user's identity."""
    client = boto3.client(
        "sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubber = Stubber(client)
    for answer in answers:
        if answer == "ok":
            stubber.add_response(
                "get_caller_identity",
                {"UserId": "AIDA", "Account": "123456789012",
                 "Arn": "arn:aws:iam::123456789012:user/n8n-deploy"},
            )  # fmt: skip
        else:
            stubber.add_client_error("get_caller_identity", answer, http_status_code=403)
    stubber.activate()
    monkeypatch.setattr(aws_iam.boto3, "client", lambda *args, **kwargs: client)
    return stubber


def probing_provider(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> AwsIamProvider:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return AwsIamProvider(
        "aws", AwsIamProviderConfig(type="aws_iam", user_name="n8n-deploy", **settings)
    )


def test_the_probe_waits_while_sts_does_not_know_the_new_key_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = probing_provider(monkeypatch)
    slept: list[float] = []
    provider.sleep = slept.append
    stubber = stubbed_sts(
        monkeypatch, ["InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidClientTokenId", "ok"]
    )
    result = provider.probe("new-secret", "AKIANEW")
    assert result.ok, result.detail
    assert len(slept) == 3 and sum(slept) <= 30
    stubber.assert_no_pending_responses()


def test_the_probe_gives_up_after_its_bounded_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = probing_provider(monkeypatch, probe_wait_seconds=5)
    slept: list[float] = []
    provider.sleep = slept.append
    stubbed_sts(monkeypatch, ["InvalidClientTokenId"] * 20)
    result = provider.probe("bad-secret", "AKIABAD")
    assert not result.ok and "InvalidClientTokenId" in result.detail
    assert 0 < sum(slept) <= 5 and len(slept) < 20
    assert "bad-secret" not in result.detail


def test_a_refusal_that_is_not_about_propagation_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = probing_provider(monkeypatch)
    slept: list[float] = []
    provider.sleep = slept.append
    stubbed_sts(monkeypatch, ["AccessDenied"])
    result = provider.probe("new-secret", "AKIANEW")
    assert not result.ok and "AccessDenied" in result.detail and slept == []
