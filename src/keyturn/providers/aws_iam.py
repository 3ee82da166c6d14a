"""AWS IAM access keys: a second key for the user, proven with STS, the old one deactivated
then deleted after the grace period.

    [providers.aws-deploy]
    type = "aws_iam"
    user_name = "n8n-deploy"
    region = "eu-west-1"
    # endpoint_url = "http://127.0.0.1:5000"   # a local stand-in (moto), for tests
    # delete_stale_key = false                 # see below
    # probe_wait_seconds = 30                  # how long STS may take to know a new key

keyturn's own AWS credentials come from boto3's usual chain (environment, profile, role). IAM
allows two keys per user: when a stale second key is in the way, keyturn refuses and names
it, or deletes it when `delete_stale_key = true` (never the key n8n uses now).
The n8n credential (type `aws`) is updated on both fields: accessKeyId and secretAccessKey.

A key is known by its id, never by comparing keyturn's clock with AWS's: before creating one,
the ids the user has are recorded in the journal, so a resumed issue deletes exactly the keys
a crashed attempt created (their secret, shown once, was lost).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential

from keyturn.core.errors import ProviderError
from keyturn.core.probe import AuthPlacement, ProbeResult
from keyturn.core.redact import register_secret
from keyturn.providers.interface import Capability, IssueContext, IssuedSecret


class AwsIamProviderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["aws_iam"]
    user_name: str
    region: str = "us-east-1"
    endpoint_url: str | None = None
    delete_stale_key: bool = False
    # IAM is eventually consistent: STS may refuse a new key for several seconds.
    probe_wait_seconds: float = Field(default=30.0, ge=0, le=600)


# What STS answers while a new key has not reached it yet (also what a wrong key gets).
_NOT_YET_KNOWN = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch"})


class AwsIamProvider:
    key_id_field: str | None = "accessKeyId"  # the n8n `aws` credential field for the key id

    def __init__(self, name: str, config: AwsIamProviderConfig) -> None:
        self.name = name
        self.config = config
        self._iam = boto3.client("iam", region_name=config.region, endpoint_url=config.endpoint_url)
        self.sleep: Callable[[float], None] = time.sleep

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.ISSUE, Capability.REVOKE, Capability.PROBE})

    @property
    def probe_placement(self) -> AuthPlacement | None:
        return None

    def issue(self, context: IssueContext) -> IssuedSecret:
        current_key_id = context.current_key_id
        keys = [key["AccessKeyId"] for key in self._keys()]
        if context.keys_before is None and context.record_keys_before is not None:
            context.record_keys_before(frozenset(keys))  # written ahead of CreateAccessKey
        leftovers = self._leftovers(keys, context)
        for key_id in leftovers:
            self._delete(key_id)
        keys = [key_id for key_id in keys if key_id not in leftovers]
        if len(keys) >= 2:
            self._make_room(keys, current_key_id)
        try:
            created = self._iam.create_access_key(UserName=self.config.user_name)["AccessKey"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "create an access key") from None
        register_secret(created["SecretAccessKey"])
        return IssuedSecret(created["SecretAccessKey"], created["AccessKeyId"])

    @staticmethod
    def _leftovers(keys: list[str], context: IssueContext) -> list[str]:
        """Keys an earlier attempt of this rotation created and then lost with a crash: not in
        use, and not among the keys recorded before that attempt. Without a record, none: an
        unknown key is someone's, and `_make_room` refuses to touch it."""
        if context.keys_before is None:
            return []
        return [
            key_id
            for key_id in keys
            if key_id != context.current_key_id and key_id not in context.keys_before
        ]

    def _make_room(self, keys: list[str], current_key_id: str | None) -> None:
        """IAM allows two keys: delete the one not in use when allowed to, else refuse."""
        stale = [key_id for key_id in keys if key_id != current_key_id]
        if not self.config.delete_stale_key or not stale or current_key_id is None:
            raise ProviderError(
                f"IAM user {self.config.user_name} already has two access keys "
                f"({', '.join(keys)}), IAM's limit.",
                f"Delete the stale one ({', '.join(stale) or '?'}) or set delete_stale_key = "
                f"true under [providers.{self.name}] (with --current-key-id naming the key "
                "in use).",
            )
        self._delete(stale[0])

    def revoke(self, key_id: str) -> None:
        """Deactivate, then delete, the key (already gone is fine)."""
        try:
            self._iam.update_access_key(
                UserName=self.config.user_name, AccessKeyId=key_id, Status="Inactive"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return
            raise self._error(exc, f"deactivate {key_id}") from None
        except BotoCoreError as exc:
            raise self._error(exc, f"deactivate {key_id}") from None
        self._delete(key_id)

    def probe(self, secret: str, key_id: str | None = None) -> ProbeResult:
        """STS GetCallerIdentity with the key: it must answer as this IAM user. While STS
        answers that it does not know the key, ask again with back-off, up to
        `probe_wait_seconds` (a new key takes a few seconds to reach every AWS endpoint)."""
        if key_id is None:
            return ProbeResult(False, "an AWS key cannot be probed without its access key id")
        sts = boto3.client(
            "sts",
            region_name=self.config.region,
            endpoint_url=self.config.endpoint_url,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )
        try:
            arn = self._caller_arn(sts)
        except (ClientError, BotoCoreError) as exc:
            waited = " (after waiting for IAM to make the key known)" if _not_yet_known(exc) else ""
            return ProbeResult(
                False, f"STS GetCallerIdentity with {key_id} failed: {_code(exc)}{waited}"
            )
        ok = arn.endswith(f":user/{self.config.user_name}") or f"/{self.config.user_name}" in arn
        return ProbeResult(ok, f"STS GetCallerIdentity with {key_id}: {arn}")

    def _caller_arn(self, sts: Any) -> str:
        budget = self.config.probe_wait_seconds

        def out_of_time(state: RetryCallState) -> bool:
            spent = max(state.idle_for, state.seconds_since_start or 0.0)
            upcoming: float = getattr(state, "upcoming_sleep", 0.0)
            return spent + upcoming > budget

        retrying = Retrying(
            retry=retry_if_exception(_not_yet_known),
            wait=wait_exponential(multiplier=0.5, max=5),
            stop=out_of_time,
            sleep=self.sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return str(sts.get_caller_identity()["Arn"])
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def current_key_id(self) -> str | None:
        """The user's only key, when there is exactly one (the one n8n must be using)."""
        keys = self._keys()
        return keys[0]["AccessKeyId"] if len(keys) == 1 else None

    def _keys(self) -> list[dict[str, Any]]:
        try:
            keys = self._iam.list_access_keys(UserName=self.config.user_name)["AccessKeyMetadata"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "list access keys") from None
        return [dict(key) for key in keys]

    def _delete(self, key_id: str) -> None:
        try:
            self._iam.delete_access_key(UserName=self.config.user_name, AccessKeyId=key_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                raise self._error(exc, f"delete {key_id}") from None
        except BotoCoreError as exc:
            raise self._error(exc, f"delete {key_id}") from None

    def _error(self, exc: Exception, what: str) -> ProviderError:
        return ProviderError(
            f"AWS IAM refused to {what} for user {self.config.user_name} ({_code(exc)}).",
            "Check keyturn's AWS credentials and their IAM permissions on this user.",
        )


def _code(exc: BaseException) -> str:
    """AWS's error code (InvalidClientTokenId, AccessDenied...), else the exception's name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or type(exc).__name__
    return type(exc).__name__


def _not_yet_known(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and _code(exc) in _NOT_YET_KNOWN
