"""AWS IAM access keys: a second key for the user, proven with STS, the old one deactivated
then deleted after the grace period.

    [providers.aws-deploy]
    type = "aws_iam"
    user_name = "n8n-deploy"
    region = "eu-west-1"
    # endpoint_url = "http://127.0.0.1:5000"   # a local stand-in (moto), for tests
    # delete_stale_key = false                 # see below

keyturn's own AWS credentials come from boto3's usual chain (environment, profile, role). IAM
allows two keys per user: when a stale second key is in the way, keyturn refuses and names
it, or deletes it when `delete_stale_key = true` (never the key n8n uses now).
The n8n credential (type `aws`) is updated on both fields: accessKeyId and secretAccessKey.
"""

from __future__ import annotations

from typing import Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

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


class AwsIamProvider:
    key_id_field: str | None = "accessKeyId"  # the n8n `aws` credential field for the key id

    def __init__(self, name: str, config: AwsIamProviderConfig) -> None:
        self.name = name
        self.config = config
        self._iam = boto3.client("iam", region_name=config.region, endpoint_url=config.endpoint_url)

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.ISSUE, Capability.REVOKE, Capability.PROBE})

    @property
    def probe_placement(self) -> AuthPlacement | None:
        return None

    def issue(self, context: IssueContext) -> IssuedSecret:
        current_key_id = context.current_key_id
        keys = self._keys()
        started = context.started_at
        for key in keys:
            if key["AccessKeyId"] != current_key_id and started and key["CreateDate"] >= started:
                # Created by this rotation before a crash: its secret was never saved.
                self._delete(key["AccessKeyId"])
                keys.remove(key)
        if len(keys) >= 2:
            stale = [k["AccessKeyId"] for k in keys if k["AccessKeyId"] != current_key_id]
            if not self.config.delete_stale_key or not stale or current_key_id is None:
                raise ProviderError(
                    f"IAM user {self.config.user_name} already has two access keys "
                    f"({', '.join(k['AccessKeyId'] for k in keys)}), IAM's limit.",
                    f"Delete the stale one ({', '.join(stale) or '?'}) or set delete_stale_key = "
                    f"true under [providers.{self.name}] (with --current-key-id naming the key "
                    "in use).",
                )
            self._delete(stale[0])
        try:
            created = self._iam.create_access_key(UserName=self.config.user_name)["AccessKey"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "create an access key") from None
        register_secret(created["SecretAccessKey"])
        return IssuedSecret(created["SecretAccessKey"], created["AccessKeyId"])

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
        """STS GetCallerIdentity with the key: it must answer as this IAM user."""
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
            arn = str(sts.get_caller_identity()["Arn"])
        except (ClientError, BotoCoreError) as exc:
            return ProbeResult(
                False, f"STS GetCallerIdentity with {key_id} failed: {type(exc).__name__}"
            )
        ok = arn.endswith(f":user/{self.config.user_name}") or f"/{self.config.user_name}" in arn
        return ProbeResult(ok, f"STS GetCallerIdentity with {key_id}: {arn}")

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
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        return ProviderError(
            f"AWS IAM refused to {what} for user {self.config.user_name} "
            f"({code or type(exc).__name__}).",
            "Check keyturn's AWS credentials and their IAM permissions on this user.",
        )
