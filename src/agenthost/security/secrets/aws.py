"""AWS Secrets Manager through ``boto3`` (the ``aws`` extra).

Credentials come from boto3's usual chain (environment, shared config, instance or pod role).
"""

from __future__ import annotations

from typing import Any

from agenthost.security.secrets.providers import field_of
from agenthost.security.secrets.references import SecretError, SecretRef


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise SecretError(
            "aws: secret references use AWS Secrets Manager but boto3 is not installed; "
            "install agenthost[aws]"
        ) from None
    return boto3


class AwsProvider:
    def __init__(self, *, region: str | None, endpoint_url: str | None, timeout_s: float) -> None:
        boto3 = _import_boto3()
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        try:
            self._client = boto3.session.Session().client(
                "secretsmanager",
                region_name=region,
                endpoint_url=endpoint_url,
                config=Config(
                    connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 2}
                ),
            )
        except BotoCoreError as exc:
            raise SecretError(
                f"aws: cannot set up Secrets Manager ({type(exc).__name__}); set aws_region"
            ) from None

    def fetch(self, ref: SecretRef) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.get_secret_value(SecretId=ref.locator)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise SecretError(f"{ref}: AWS Secrets Manager answered {code}") from None
        except BotoCoreError as exc:
            raise SecretError(
                f"{ref}: AWS Secrets Manager unreachable ({type(exc).__name__})"
            ) from None
        if "SecretString" not in response:
            raise SecretError(f"{ref}: the secret is binary; agenthost reads text secrets")
        return field_of(ref, response["SecretString"])

    def close(self) -> None:
        self._client.close()
